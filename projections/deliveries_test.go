package projections_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// deliveryScenario schedules d00..d11 to acme's webhook wh_a a minute
// apart and one delivery to another account's webhook. Final statuses:
// i%4 == 0 succeeded, 1 retrying, 2 failed (410), 3 pending; d11 is a test
// delivery and d02 was redelivered after failing, so it is pending again.
func deliveryScenario(t *testing.T, env *testenv.Env) *deliverySim {
	t.Helper()
	sim := newDeliverySim(t, env, t0)
	for i := 0; i < 12; i++ {
		sim.now = t0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("d%02d", i)
		sim.schedule(id, "acme", "wh_a", i == 11)
		switch i % 4 {
		case 0:
			sim.attempt(id, 200, "", 40*time.Millisecond)
		case 1:
			sim.attempt(id, 503, "", 900*time.Millisecond)
		case 2:
			sim.attempt(id, 410, "", 10*time.Millisecond)
		}
	}
	sim.now = t0.Add(20 * time.Minute)
	sim.do("d02", domain.RequestRedelivery{})
	sim.schedule("x00", "other", "wh_b", false)
	sim.sync()
	return sim
}

func ids(views []deliveries.DeliveryView) string {
	var s []string
	for _, v := range views {
		s = append(s, v.ID)
	}
	return strings.Join(s, ",")
}

func TestRebuildEqualsLiveWithDeliveries(t *testing.T) {
	env := testenv.New(t)
	createWebhook(t, env, "acme", 2)
	sim := deliveryScenario(t, env)
	sim.now = t0.Add(30 * time.Minute)
	sim.attempt("d02", 200, "", 5*time.Millisecond)
	sim.attempt("d01", 0, domain.ErrClassTimeout, 15*time.Second)
	sim.sync()
	live := dump(t, env.ReadDB)
	for _, b := range []string{"deliveries ", "deliveries_by_webhook ", "deliveries_by_status ", "stats "} {
		if !strings.Contains(live, "\n"+b) {
			t.Fatalf("live read model has no %q entries", b)
		}
	}
	if err := env.Runner.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dump(t, env.ReadDB); rebuilt != live {
		t.Fatalf("rebuilt read model differs from the live one\nlive:\n%.3000s\nrebuilt:\n%.3000s", live, rebuilt)
	}
}

func TestGetDelivery(t *testing.T) {
	env := testenv.New(t)
	sim := deliveryScenario(t, env)
	sim.now = t0.Add(30 * time.Minute)
	sim.attempt("d02", 0, domain.ErrClassConnectionRefused, 3*time.Millisecond)
	sim.sync()

	t.Run("OK", func(t *testing.T) {
		v, ok, err := delivery(env, "acme", "d02")
		if err != nil || !ok {
			t.Fatalf("found=%v err=%v", ok, err)
		}
		if v.Status != domain.DeliveryStatusRetrying || v.DeliveryState.Attempts != 2 || len(v.Attempts) != 2 {
			t.Fatalf("status=%s count=%d log=%d", v.Status, v.DeliveryState.Attempts, len(v.Attempts))
		}
		first, second := v.Attempts[0], v.Attempts[1]
		if first.Number != 1 || first.StatusCode != 410 || first.LatencyMs != 10 || first.ResponseExcerpt != "answer 410" || !first.At.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("first attempt = %+v", first)
		}
		if first.RequestHeaders["Authorization"] != "[redacted]" || first.RequestHeaders["webhook-id"] != "msg_d02" {
			t.Errorf("request headers = %v", first.RequestHeaders)
		}
		if second.Number != 2 || second.StatusCode != 0 || second.ErrorClass != domain.ErrClassConnectionRefused {
			t.Errorf("second attempt = %+v", second)
		}
		if v.Revision != 3 || v.CreatedPosition == 0 || v.MessageID != "msg_d02" {
			t.Errorf("revision=%d created=%d message=%s", v.Revision, v.CreatedPosition, v.MessageID)
		}
	})
	t.Run("OtherAccountNotFound", func(t *testing.T) {
		if _, ok, _ := delivery(env, "acme", "x00"); ok {
			t.Fatal("acme can read another account's delivery")
		}
		if _, ok, _ := delivery(env, "other", "x00"); !ok {
			t.Fatal("owner cannot read its delivery")
		}
		if _, ok, _ := delivery(env, "acme", "nope"); ok {
			t.Fatal("missing delivery found")
		}
	})
}

func TestListDeliveries(t *testing.T) {
	env := testenv.New(t)
	deliveryScenario(t, env)
	list := func(t *testing.T, f deliveries.DeliveryFilter, first int, after string) deliveries.DeliveryPage {
		t.Helper()
		page, err := deliveries.ListDeliveries(env.ReadDB, "acme", "wh_a", f, first, after)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}

	t.Run("NewestFirstPaged", func(t *testing.T) {
		var got []string
		after, pages := "", 0
		for {
			page := list(t, deliveries.DeliveryFilter{}, 5, after)
			pages++
			got = append(got, ids(page.Deliveries))
			if !page.HasNextPage {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		want := "d11,d10,d09,d08,d07|d06,d05,d04,d03,d02|d01,d00"
		if strings.Join(got, "|") != want || pages != 3 {
			t.Fatalf("pages = %s, want %s", strings.Join(got, "|"), want)
		}
	})
	t.Run("StatusFilter", func(t *testing.T) {
		for status, want := range map[string]string{
			"pending": "d11,d07,d03,d02", "retrying": "d09,d05,d01",
			"succeeded": "d08,d04,d00", "failed": "d10,d06",
		} {
			if got := ids(list(t, deliveries.DeliveryFilter{Status: status}, 10, "").Deliveries); got != want {
				t.Errorf("%s = %s, want %s", status, got, want)
			}
		}
		page := list(t, deliveries.DeliveryFilter{Status: "pending"}, 2, "")
		if ids(page.Deliveries) != "d11,d07" || !page.HasNextPage {
			t.Fatalf("first pending page = %s next=%v", ids(page.Deliveries), page.HasNextPage)
		}
		// A cursor from the status index resumes in it.
		page = list(t, deliveries.DeliveryFilter{Status: "pending"}, 2, page.Cursors[1])
		if ids(page.Deliveries) != "d03,d02" || page.HasNextPage {
			t.Fatalf("second pending page = %s next=%v", ids(page.Deliveries), page.HasNextPage)
		}
	})
	t.Run("Since", func(t *testing.T) {
		page := list(t, deliveries.DeliveryFilter{Since: t0.Add(8 * time.Minute)}, 10, "")
		if got := ids(page.Deliveries); got != "d11,d10,d09,d08" {
			t.Fatalf("since = %s", got)
		}
		page = list(t, deliveries.DeliveryFilter{Since: t0.Add(5 * time.Minute), Status: "succeeded"}, 10, "")
		if got := ids(page.Deliveries); got != "d08" {
			t.Fatalf("since+status = %s", got)
		}
	})
	t.Run("TestFlag", func(t *testing.T) {
		yes, no := true, false
		if got := ids(list(t, deliveries.DeliveryFilter{Test: &yes}, 10, "").Deliveries); got != "d11" {
			t.Errorf("test only = %s", got)
		}
		if got := list(t, deliveries.DeliveryFilter{Test: &no, Status: "pending"}, 10, "").Deliveries; ids(got) != "d07,d03,d02" {
			t.Errorf("real pending = %s", ids(got))
		}
	})
	t.Run("OtherAccountEmpty", func(t *testing.T) {
		page, err := deliveries.ListDeliveries(env.ReadDB, "acme", "wh_b", deliveries.DeliveryFilter{}, 10, "")
		if err != nil || len(page.Deliveries) != 0 {
			t.Fatalf("acme lists %d of another account's deliveries (err %v)", len(page.Deliveries), err)
		}
		page, _ = deliveries.ListDeliveries(env.ReadDB, "other", "wh_b", deliveries.DeliveryFilter{}, 10, "")
		if ids(page.Deliveries) != "x00" {
			t.Fatalf("owner lists %q", ids(page.Deliveries))
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"status": func() error {
				_, err := deliveries.ListDeliveries(env.ReadDB, "acme", "wh_a", deliveries.DeliveryFilter{Status: "lost"}, 10, "")
				return err
			},
			"cursor": func() error {
				_, err := deliveries.ListDeliveries(env.ReadDB, "acme", "wh_a", deliveries.DeliveryFilter{}, 10, "***")
				return err
			},
		} {
			if domain.ErrorCode(call()) != domain.EINVALID {
				t.Errorf("%s: want EINVALID", name)
			}
		}
	})
}

func TestEachDelivery(t *testing.T) {
	env := testenv.New(t)
	deliveryScenario(t, env)
	each := func(account string, since, until time.Time) string {
		var got []string
		err := deliveries.EachDelivery(env.ReadDB, account, "wh_a", deliveries.DeliveryRange{Since: since, Until: until}, func(v deliveries.DeliveryView) error {
			got = append(got, v.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	if got := each("acme", time.Time{}, time.Time{}); got != "d00,d01,d02,d03,d04,d05,d06,d07,d08,d09,d10,d11" {
		t.Errorf("all = %s", got)
	}
	if got := each("acme", t0.Add(3*time.Minute), t0.Add(6*time.Minute)); got != "d03,d04,d05" {
		t.Errorf("window = %s", got)
	}
	if got := each("other", time.Time{}, time.Time{}); got != "" {
		t.Errorf("another account walks %s", got)
	}
	stop := errors.New("stop")
	var n int
	err := deliveries.EachDelivery(env.ReadDB, "acme", "wh_a", deliveries.DeliveryRange{}, func(deliveries.DeliveryView) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("callback error: err=%v after %d calls", err, n)
	}
}

func TestEachDeliveryCrossesChunks(t *testing.T) {
	env := testenv.New(t)
	sim := newDeliverySim(t, env, t0)
	const n = 600 // more than two read transactions' worth
	for i := 0; i < n; i++ {
		sim.now = t0.Add(time.Duration(i) * time.Second)
		sim.schedule(fmt.Sprintf("c%04d", i), "acme", "wh_c", false)
	}
	sim.sync()
	var got int
	err := deliveries.EachDelivery(env.ReadDB, "acme", "wh_c", deliveries.DeliveryRange{}, func(v deliveries.DeliveryView) error {
		if want := fmt.Sprintf("c%04d", got); v.ID != want {
			return fmt.Errorf("row %d is %s, want %s", got, v.ID, want)
		}
		got++
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("walked %d of %d: %v", got, n, err)
	}
}

func TestDeliveryChanges(t *testing.T) {
	env := testenv.New(t)
	byWebhook, cancel := env.Broker.Subscribe(deliveries.TopicWebhookDeliveries, "acme", "wh_a")
	defer cancel()
	byDelivery, cancel2 := env.Broker.Subscribe(deliveries.TopicDelivery, "acme", "d1")
	defer cancel2()
	sim := newDeliverySim(t, env, t0)
	sim.schedule("d1", "acme", "wh_a", false)
	sim.attempt("d1", 200, "", time.Millisecond)
	sim.sync()
	for name, ch := range map[string]<-chan projections.Change{"webhook": byWebhook, "delivery": byDelivery} {
		var positions []eventstore.Position
		for len(positions) < 3 { // listed, then the attempt and its status change (one event)
			select {
			case c := <-ch:
				if c.Account != "acme" || (name == "webhook" && (c.ID != "wh_a" || c.Ref != "d1")) || (name == "delivery" && c.ID != "d1") {
					t.Fatalf("%s subscriber got %+v", name, c)
				}
				positions = append(positions, c.Position)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s subscriber got %d of 3 changes", name, len(positions))
			}
		}
	}
}
