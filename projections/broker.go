package projections

import "sync"

// subscriberBuffer bounds how many unread changes a live subscriber may
// have. One that falls further behind is disconnected rather than allowed
// to slow the projection that publishes to it.
const subscriberBuffer = 64

// Broker fans committed read-model changes out to live subscribers (the
// GraphQL subscriptions). Publishing never blocks.
type Broker struct {
	mu   sync.Mutex
	subs map[*brokerSub]struct{}
}

type brokerSub struct {
	topic, account, id string
	ch                 chan Change
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[*brokerSub]struct{}{}} }

// Subscribe returns a channel of the account's changes of topic, narrowed to
// one object when id is not empty, and a function that ends the
// subscription. The broker closes the channel when the subscriber is
// cancelled or falls behind.
func (b *Broker) Subscribe(topic, account, id string) (<-chan Change, func()) {
	s := &brokerSub{topic: topic, account: account, id: id, ch: make(chan Change, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s.ch, func() { b.drop(s) }
}

func (b *Broker) drop(s *brokerSub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

// Publish delivers changes to matching subscribers. It is the Runner's
// OnCommit hook.
func (b *Broker) Publish(changes []Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range changes {
		for s := range b.subs {
			if s.topic != c.Topic || s.account != c.Account || (s.id != "" && s.id != c.ID) {
				continue
			}
			select {
			case s.ch <- c:
			default:
				delete(b.subs, s)
				close(s.ch)
			}
		}
	}
}

// Len returns the number of live subscribers, for metrics and leak tests.
func (b *Broker) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
