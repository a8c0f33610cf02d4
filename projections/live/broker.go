// Package live passes committed read-model changes to live subscribers
// (GraphQL subscriptions and the dispatcher's wake-ups).
package live

import (
	"sync"

	"github.com/webhookd/webhookd/projections"
)

// subscriberBuffer bounds how many unread changes a live subscriber may
// have. One that falls further behind is disconnected rather than allowed
// to slow the projection that publishes to it.
const subscriberBuffer = 64

// Broker fans committed read-model changes out to live subscribers (the
// GraphQL subscriptions). Publishing runs in the Runner's serial stage, so
// it never blocks and costs only the subscribers a change is for:
// subscribers are indexed by topic and account, then by object.
type Broker struct {
	mu     sync.Mutex
	topics map[brokerKey]*brokerTopic
	n      int
}

// brokerKey selects the subscribers of one account's changes of a topic.
type brokerKey struct{ topic, account string }

// brokerTopic holds one account's subscribers of one topic: those of every
// object, and those of one object (a webhook, for delivery changes).
type brokerTopic struct {
	all  map[*brokerSub]struct{}
	byID map[string]map[*brokerSub]struct{}
}

type brokerSub struct {
	key brokerKey
	id  string
	ch  chan projections.Change
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{topics: map[brokerKey]*brokerTopic{}} }

// Subscribe returns a channel of the account's changes of topic, narrowed to
// one object when id is not empty, and a function that ends the
// subscription. The broker closes the channel when the subscriber is
// cancelled or falls behind.
func (b *Broker) Subscribe(topic, account, id string) (<-chan projections.Change, func()) {
	s := &brokerSub{key: brokerKey{topic, account}, id: id, ch: make(chan projections.Change, subscriberBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[s.key]
	if t == nil {
		t = &brokerTopic{all: map[*brokerSub]struct{}{}, byID: map[string]map[*brokerSub]struct{}{}}
		b.topics[s.key] = t
	}
	set := t.all
	if id != "" {
		if set = t.byID[id]; set == nil {
			set = map[*brokerSub]struct{}{}
			t.byID[id] = set
		}
	}
	set[s] = struct{}{}
	b.n++
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.drop(s)
	}
}

// drop removes s and closes its channel, once; b.mu is held.
func (b *Broker) drop(s *brokerSub) {
	t := b.topics[s.key]
	if t == nil {
		return
	}
	set := t.all
	if s.id != "" {
		set = t.byID[s.id]
	}
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	close(s.ch)
	b.n--
	if s.id != "" && len(set) == 0 {
		delete(t.byID, s.id)
	}
	if len(t.all) == 0 && len(t.byID) == 0 {
		delete(b.topics, s.key)
	}
}

// Publish delivers changes to matching subscribers, each change once. It
// is the Runner's OnCommit hook, called once per committed batch.
func (b *Broker) Publish(changes []projections.Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range changes {
		t := b.topics[brokerKey{c.Topic, c.Account}]
		if t == nil {
			continue
		}
		b.send(t.all, c)
		b.send(t.byID[c.ID], c)
	}
}

// send offers c to every subscriber in set, dropping those whose buffer is
// full; b.mu is held.
func (b *Broker) send(set map[*brokerSub]struct{}, c projections.Change) {
	for s := range set {
		select {
		case s.ch <- c:
		default:
			b.drop(s)
		}
	}
}

// Len returns the number of live subscribers, for metrics and leak tests.
func (b *Broker) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}
