package delivery_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/ownership"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// manualClock is a clock the test moves; the managers tick by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// The dispatcher sends only for the partitions its instance owns, and
// loads a partition's lanes as soon as it gains the lease.
func TestDispatchOnlyOwnedPartitions(t *testing.T) {
	env := testenv.New(t)
	clk := &manualClock{now: time.Now()}
	newManager := func(id string) *ownership.Manager {
		return &ownership.Manager{Store: env.Store, Codec: env.Codec, Instance: id, Partitions: 8, TTL: time.Minute, Now: clk.Now}
	}
	me, other := newManager("me"), newManager("other")
	me.OnGain = func([]int) { env.Dispatcher.ExamineAll() }
	ctx := context.Background()
	other.Tick(ctx) // alone: owns all eight
	me.Tick(ctx)    // sees other; everything is held
	other.Tick(ctx) // sees me; stops dispatching its excess four (drains them)
	other.Tick(ctx) // nothing in flight there: releases them
	me.Tick(ctx)    // takes the four released
	if me.Owned() != 4 || other.Owned() != 4 {
		t.Fatalf("me owns %d, other %d; want 4 each", me.Owned(), other.Owned())
	}
	env.Dispatcher.Owner = me

	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	var mine, theirs webhooks.WebhookView
	var mineRecv, theirsRecv *testenv.Receiver
	for i := 0; mine.ID == "" || theirs.ID == ""; i++ {
		if i == 40 {
			t.Fatal("40 webhooks all fell into one instance's partitions")
		}
		r := testenv.NewReceiver(t)
		h := env.VerifiedWebhook(t, p, r, "/in", "email.open")
		switch {
		case me.Owns(h.ID) && mine.ID == "":
			mine, mineRecv = h, r
		case !me.Owns(h.ID) && theirs.ID == "":
			theirs, theirsRecv = h, r
		}
	}
	theirsDelivery := owedDelivery(t, env, theirs, "email.open")
	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{"n":2}`)})
	env.StartDispatcher(t)
	mineRecv.WaitFor(t, 2, 10*time.Second)
	waitDelivery(t, env, domain.DeliveryIDFor(res[0].MessageID, mine.ID), domain.DeliveryStatusSucceeded)
	if n := len(theirsRecv.Received()); n != 0 {
		t.Fatalf("the unowned webhook got %d POSTs", n)
	}
	if s, _ := loadDelivery(env, theirsDelivery.DeliveryID); s.Exists() {
		t.Fatalf("the unowned webhook's delivery was recorded: %+v", s)
	}

	other.Stop() // a graceful stop releases its leases
	me.Tick(ctx)
	if me.Owned() != 8 {
		t.Fatalf("me owns %d after other left, want all 8", me.Owned())
	}
	theirsRecv.WaitFor(t, 2, 10*time.Second)
	waitDelivery(t, env, theirsDelivery.DeliveryID, domain.DeliveryStatusSucceeded)
}
