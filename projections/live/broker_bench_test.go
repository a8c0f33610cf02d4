package live_test

import (
	"fmt"
	"testing"

	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/live"
)

// BenchmarkPublishUnwatched measures what the runner's serial stage pays to
// publish a commit's changes when 1,000 subscriptions are open on other
// webhooks of the same account (and, for comparison, when none are, and
// when one subscriber watches the changed webhook). Subscribers are
// indexed by topic, account and object, so the cost per change must be the
// same with 1,000 unrelated subscriptions as with none.
func BenchmarkPublishUnwatched(b *testing.B) {
	const batch = 100 // changes per commit, all to one webhook
	changes := make([]projections.Change, batch)
	for i := range changes {
		changes[i] = projections.Change{Topic: deliveries.TopicWebhookDeliveries, Account: "acme", ID: "wh_target", Ref: fmt.Sprintf("d%d", i)}
	}
	for _, c := range []struct {
		name    string
		others  int
		watched bool
	}{
		{"subs=0", 0, false},
		{"subs=1000-other-webhooks", 1000, false},
		{"subs=1000-other-webhooks+1-on-it", 1000, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			br := live.NewBroker()
			for i := range c.others {
				_, cancel := br.Subscribe(deliveries.TopicWebhookDeliveries, "acme", fmt.Sprintf("wh_%d", i))
				defer cancel()
			}
			var ch <-chan projections.Change
			if c.watched {
				var cancel func()
				ch, cancel = br.Subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_target")
				defer cancel()
			}
			b.ReportAllocs()
			for b.Loop() {
				// Publish in slices the subscriber buffer can hold, and
				// drain it, so the watcher is never dropped.
				for lo := 0; lo < batch; lo += 50 {
					br.Publish(changes[lo : lo+50])
					if ch != nil {
						for range 50 {
							<-ch
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/change")
		})
	}
}
