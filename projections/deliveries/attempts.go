package deliveries

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// A delivery's attempt log is read from its stream in the log
// (ReadAttemptLog), where every attempt is an event: the read model keeps
// only the delivery's summary. Writing a row per attempt beside it cost
// the runner a put and an encoding per attempt and about 0.7 page writes
// per delivery (architecture decision 35).
//
// bucketDeliveryAttempts holds the rows earlier versions wrote, one per
// attempt: id 0 attempt-number -> AttemptView JSON. They are read only for
// a delivery whose stream the log no longer holds, and retention drops
// them with their delivery.
var bucketDeliveryAttempts = []byte("delivery_attempts")

// attemptLogReach bounds how far back in a delivery's stream the attempt
// log is read: the newest maxKeptAttempts attempts take at most this many
// events (one each now; two or three each in streams written before
// attempts were one event, plus the redeliveries between them).
const attemptLogReach = 4 * maxKeptAttempts

// AttemptLog folds a delivery's attempt log, the newest maxKeptAttempts
// attempts oldest first, from the events of its stream, with the request
// headers the events leave out because their facts determine them.
func AttemptLog(events []eventstore.Event, v DeliveryView) []AttemptView {
	var log []AttemptView
	for _, ev := range events {
		var a domain.DeliveryAttempted
		switch e := ev.(type) {
		case domain.DeliveryAttempted:
			a = e
		case domain.DeliveryAttemptRecorded:
			a = e.Attempted()
		default:
			continue
		}
		log = append(log, v.shown(attemptView(a)))
	}
	if n := len(log) - maxKeptAttempts; n > 0 {
		log = log[n:]
	}
	return log
}

// shown is attempt a of delivery v as it is shown: with the request
// headers its record leaves out because its facts determine them.
func (v DeliveryView) shown(a AttemptView) AttemptView {
	a.RequestHeaders = domain.DerivedRequestHeaders(a.RequestHeaders, v.MessageID,
		domain.DeliveryAttempted{At: a.At, BatchID: a.BatchID, BatchSize: a.BatchSize}, v.Test)
	return a
}

// ReadAttemptLog sets v.Attempts to the attempt log its stream holds, up
// to the revision the summary has folded, so the log and the summary
// agree. A delivery with no attempt reads nothing; one whose stream the
// log no longer holds keeps what the read model stored (rows, or the
// inline log of earlier versions).
func ReadAttemptLog(ctx context.Context, log eventstore.Store, codec *eventstore.Codec, v *DeliveryView) error {
	if v.DeliveryState.Attempts == 0 {
		return nil
	}
	from := uint64(0)
	if v.Revision+1 > attemptLogReach {
		from = v.Revision + 1 - attemptLogReach
	}
	recs, err := log.ReadStream(ctx, domain.DeliveryStream(v.ID), from, int(v.Revision+1-from))
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delivery %s: attempt log: %w", v.ID, err)
	}
	events := make([]eventstore.Event, 0, len(recs))
	for _, rec := range recs {
		ev, err := codec.Decode(rec)
		if err != nil {
			if codec.Known(rec.Type) {
				return fmt.Errorf("delivery %s: attempt log: %w", v.ID, err)
			}
			continue // a newer version's event
		}
		events = append(events, ev)
	}
	if attempts := AttemptLog(events, *v); len(attempts) > 0 {
		v.Attempts = attempts
	}
	return nil
}

// attemptPrefix is the key prefix of delivery id's attempt rows.
func attemptPrefix(id string) []byte {
	return append(append(make([]byte, 0, len(id)+9), id...), 0)
}

// readAttempts returns delivery id's attempt log, oldest first.
func readAttempts(tx *bbolt.Tx, id string) ([]AttemptView, error) {
	b := tx.Bucket(bucketDeliveryAttempts)
	if b == nil {
		return nil, nil
	}
	prefix := attemptPrefix(id)
	var log []AttemptView
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var a AttemptView
		if err := jsoncodec.Unmarshal(v, &a); err != nil {
			return nil, fmt.Errorf("read model: delivery %s: attempt: %w", id, err)
		}
		log = append(log, a)
	}
	if n := len(log) - maxKeptAttempts; n > 0 {
		log = log[n:] // rows left behind by a gap in the numbering
	}
	return log, nil
}

// dropAttempts removes every attempt row of delivery id.
func dropAttempts(tx *bbolt.Tx, id string) error {
	prefix := attemptPrefix(id)
	c := tx.Bucket(bucketDeliveryAttempts).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("drop delivery %s attempts: %w", id, err)
		}
	}
	return nil
}
