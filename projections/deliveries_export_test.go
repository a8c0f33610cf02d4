package projections_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// walk runs EachDeliveryCounted and returns the IDs it handed over and the
// index entries it read to find them.
func walk(t *testing.T, env *testenv.Env, account, webhook string, r deliveries.DeliveryRange) (string, int) {
	t.Helper()
	var got []string
	steps := 0
	err := deliveries.EachDeliveryCounted(env.ReadDB, account, webhook, r, func(v deliveries.DeliveryView) error {
		got = append(got, v.ID)
		return nil
	}, func() { steps++ })
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, ","), steps
}

// TestEachDeliveryCostsWhatItReturns exports the last 50 of 1,000
// deliveries, created a minute apart, and counts the index entries read:
// the walk seeks to since instead of reading from the webhook's first
// delivery, so it reads the 50 plus the few within the clock-skew margin.
func TestEachDeliveryCostsWhatItReturns(t *testing.T) {
	env := testenv.New(t)
	sim := newDeliverySim(t, env, t0)
	const m, n = 1000, 50
	var want []string
	for i := 0; i < m; i++ {
		sim.now = t0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("e%04d", i)
		sim.schedule(id, "acme", "wh_e", false)
		if i >= m-n {
			want = append(want, id)
		}
	}
	sim.sync()
	got, steps := walk(t, env, "acme", "wh_e", deliveries.DeliveryRange{Since: t0.Add((m - n) * time.Minute)})
	if got != strings.Join(want, ",") {
		t.Fatalf("last %d: got %s", n, got)
	}
	// 5 minutes of clock-skew margin at one delivery a minute, plus one.
	if steps > n+6 {
		t.Fatalf("read %d index entries to export %d of %d deliveries", steps, n, m)
	}
	got, steps = walk(t, env, "acme", "wh_e", deliveries.DeliveryRange{Since: t0.Add(m * time.Minute)})
	if got != "" || steps > 6 {
		t.Fatalf("since after the last: %q after %d entries", got, steps)
	}
}

// TestEachDeliverySinceOutOfOrder gives deliveries creation times that run
// up to four minutes out of log order, as instances with skewed clocks
// would, and checks that the seek never skips one created at or after
// since.
func TestEachDeliverySinceOutOfOrder(t *testing.T) {
	env := testenv.New(t)
	sim := newDeliverySim(t, env, t0)
	rng := rand.New(rand.NewPCG(1, 2))
	created := map[string]time.Time{}
	var order []string
	for i := 0; i < 300; i++ {
		jitter := time.Duration(rng.IntN(481)-240) * time.Second
		sim.now = t0.Add(time.Duration(i)*time.Minute + jitter)
		id := fmt.Sprintf("j%03d", i)
		sim.schedule(id, "acme", "wh_j", false)
		created[id] = sim.now
		order = append(order, id)
	}
	sim.sync()
	for _, minute := range []int{0, 1, 7, 100, 150, 298, 299, 305} {
		since := t0.Add(time.Duration(minute) * time.Minute)
		var want []string
		for _, id := range order {
			if !created[id].Before(since) {
				want = append(want, id)
			}
		}
		if got, _ := walk(t, env, "acme", "wh_j", deliveries.DeliveryRange{Since: since}); got != strings.Join(want, ",") {
			t.Errorf("since minute %d:\n got %s\nwant %s", minute, got, strings.Join(want, ","))
		}
	}
}

// TestEachDeliveryStatus walks the per-status index: only deliveries now in
// the status, oldest first, and an invalid status is refused.
func TestEachDeliveryStatus(t *testing.T) {
	env := testenv.New(t)
	deliveryScenario(t, env)
	for status, want := range map[domain.DeliveryStatus]string{
		domain.DeliveryStatusSucceeded: "d00,d04,d08",
		domain.DeliveryStatusFailed:    "d06,d10",
		domain.DeliveryStatusPending:   "d02,d03,d07,d11",
	} {
		if got, _ := walk(t, env, "acme", "wh_a", deliveries.DeliveryRange{Status: status}); got != want {
			t.Errorf("%s: got %s, want %s", status, got, want)
		}
	}
	if got, _ := walk(t, env, "acme", "wh_a", deliveries.DeliveryRange{Status: domain.DeliveryStatusSucceeded, Since: t0.Add(time.Minute)}); got != "d04,d08" {
		t.Errorf("succeeded since 12:01: %s", got)
	}
	err := deliveries.EachDelivery(env.ReadDB, "acme", "wh_a", deliveries.DeliveryRange{Status: "lost"}, func(deliveries.DeliveryView) error { return nil })
	if domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("status lost: %v", err)
	}
}
