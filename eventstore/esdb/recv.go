package esdb

import (
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// errUnexpectedMessage ends a read whose client call panicked. The v4
// client's ReadStream.Recv panics ("unreachable code") on any reply it does
// not know, such as position notices newer servers may send; a panic in a
// library must not take the process down with every delivery in flight.
var errUnexpectedMessage = errors.New("esdb: the client failed on an unexpected server message")

// eventStream is the part of *esdb.ReadStream the adapter reads through.
type eventStream interface {
	Recv() (*esdb.ResolvedEvent, error)
}

// recv is rs.Recv with a client panic turned into an error. The read is
// abandoned rather than resumed: which message was lost, and whether it
// mattered, is unknown, and callers retry a failed read from where they
// were.
func recv(rs eventStream) (ev *esdb.ResolvedEvent, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, fmt.Errorf("%w: %v", errUnexpectedMessage, r)
		}
	}()
	return rs.Recv()
}

// subscriptionRecv is inner.Recv with a client panic turned into a dropped
// subscription, for the pump goroutine, where a panic would be fatal.
func subscriptionRecv(inner receiver) (ev *esdb.SubscriptionEvent) {
	defer func() {
		if r := recover(); r != nil {
			ev = &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: fmt.Errorf("%w: %v", errUnexpectedMessage, r)}}
		}
	}()
	return inner.Recv()
}
