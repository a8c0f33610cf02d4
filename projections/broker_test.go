package projections_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/live"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// TestBrokerRoutes checks that a change reaches exactly the subscribers
// of its topic and account that want every object or that object.
func TestBrokerRoutes(t *testing.T) {
	b := live.NewBroker()
	type sub struct {
		ch   <-chan projections.Change
		want int
	}
	subscribe := func(topic, account, id string, want int) sub {
		ch, cancel := b.Subscribe(topic, account, id)
		t.Cleanup(cancel)
		return sub{ch, want}
	}
	subs := map[string]sub{
		"webhook A":        subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_a", 2),
		"webhook B":        subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_b", 1),
		"every webhook":    subscribe(deliveries.TopicWebhookDeliveries, "acme", "", 3),
		"other account":    subscribe(deliveries.TopicWebhookDeliveries, "globex", "wh_a", 0),
		"other topic":      subscribe(webhooks.TopicWebhook, "acme", "wh_a", 0),
		"other webhook":    subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_c", 0),
		"second webhook A": subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_a", 2),
	}
	b.Publish([]projections.Change{
		{Topic: deliveries.TopicWebhookDeliveries, Account: "acme", ID: "wh_a", Ref: "d1"},
		{Topic: deliveries.TopicWebhookDeliveries, Account: "acme", ID: "wh_b", Ref: "d2"},
		{Topic: deliveries.TopicWebhookDeliveries, Account: "acme", ID: "wh_a", Ref: "d3"},
	})
	for name, s := range subs {
		if got := len(s.ch); got != s.want {
			t.Errorf("%s: %d changes, want %d", name, got, s.want)
		}
	}
	if b.Len() != len(subs) {
		t.Errorf("Len = %d, want %d", b.Len(), len(subs))
	}
}

// TestBrokerDropsSlowSubscriber runs the real projections with a
// subscriber that never reads. Many more changes than a subscriber may
// hold unread are committed; the runner must go on publishing (a later
// change reaches another subscriber) and the slow subscriber's channel
// must be closed after at most its buffer.
func TestBrokerDropsSlowSubscriber(t *testing.T) {
	const n = 300 // several times the subscriber buffer
	env := testenv.New(t)
	slow, cancelSlow := env.Broker.Subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_busy")
	defer cancelSlow()
	fence, cancelFence := env.Broker.Subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_fence")
	defer cancelFence()

	sim := newDeliverySim(t, env, t0)
	for i := range n {
		sim.schedule(fmt.Sprintf("d%03d", i), "acme", "wh_busy", false)
	}
	sim.schedule("d-fence", "acme", "wh_fence", false)
	// The runner publishes batches in log order: the fence's change
	// arriving means every earlier Publish returned.
	select {
	case c := <-fence:
		if c.Ref != "d-fence" {
			t.Fatalf("fence subscriber got %+v", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the runner did not publish the fence's change: a slow subscriber blocks it")
	}
	unread := 0
	for range slow { // ends only once the broker has closed it
		unread++
	}
	if unread > 64 {
		t.Errorf("the slow subscriber held %d unread changes, more than its buffer", unread)
	}
	if env.Broker.Len() != 1 {
		t.Errorf("Len = %d after dropping the slow subscriber, want 1", env.Broker.Len())
	}
}

// BenchmarkBrokerPublish measures publishing one batch's change to its one
// subscriber beside 1 or 10,000 subscribers of other accounts and of the
// account's other webhooks: with subscribers indexed, the cost must not
// grow with them.
func BenchmarkBrokerPublish(b *testing.B) {
	for _, unrelated := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("unrelated=%d", unrelated), func(b *testing.B) {
			br := live.NewBroker()
			for i := range unrelated {
				account := "acme"
				if i%2 == 1 {
					account = fmt.Sprintf("acct-%d", i)
				}
				_, cancel := br.Subscribe(deliveries.TopicWebhookDeliveries, account, fmt.Sprintf("wh_%d", i))
				defer cancel()
			}
			ch, cancel := br.Subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_target")
			defer cancel()
			changes := []projections.Change{{Topic: deliveries.TopicWebhookDeliveries, Account: "acme", ID: "wh_target", Ref: "d1"}}
			b.ReportAllocs()
			for b.Loop() {
				br.Publish(changes)
				<-ch
			}
		})
	}
}
