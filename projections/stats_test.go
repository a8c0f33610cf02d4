package projections_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// within reports whether got is within the histogram's bucket width (a
// factor of about 1.4) of want.
func within(got, want time.Duration) bool {
	r := float64(got) / float64(want)
	return r >= 1/1.4 && r <= 1.4
}

func TestStats(t *testing.T) {
	env := testenv.New(t)
	sim := newDeliverySim(t, env, t0)
	// Minute 1: ten successes at 10..100 ms. Minute 3: five 500s at 1 s.
	// Minute 4: a test delivery, slow and failing, which must not count.
	for i := 1; i <= 10; i++ {
		sim.now = t0.Add(time.Minute + time.Duration(i)*time.Second)
		id := fmt.Sprintf("ok%02d", i)
		sim.schedule(id, "acme", "wh_s", false)
		sim.attempt(id, 200, "", time.Duration(i*10)*time.Millisecond)
	}
	sim.now = t0.Add(3 * time.Minute)
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("bad%d", i)
		sim.schedule(id, "acme", "wh_s", false)
		sim.attempt(id, 500, "", time.Second)
	}
	sim.now = t0.Add(4 * time.Minute)
	sim.schedule("test1", "acme", "wh_s", true)
	sim.attempt("test1", 500, "", 20*time.Second)
	sim.sync()

	t.Run("Hour", func(t *testing.T) {
		s, err := deliveries.Stats(env.ReadDB, "acme", "wh_s", t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if s.Attempts != 15 || s.Succeeded != 10 || s.Failed != 5 || math.Abs(s.SuccessRate-10.0/15) > 1e-9 {
			t.Fatalf("counts = %d/%d/%d rate %.3f, want 15/10/5 0.667", s.Attempts, s.Succeeded, s.Failed, s.SuccessRate)
		}
		// The median lies between the 7th and 8th fastest (70, 80 ms);
		// the 95th percentile among the 1 s attempts.
		if !within(s.P50, 75*time.Millisecond) || !within(s.P95, time.Second) {
			t.Fatalf("p50 = %v, p95 = %v", s.P50, s.P95)
		}
		if s.Step != time.Minute || len(s.Series) != 60 {
			t.Fatalf("series: step %v, %d points", s.Step, len(s.Series))
		}
		p1, p3, p4 := s.Series[1], s.Series[3], s.Series[4]
		if !p1.At.Equal(t0.Add(time.Minute)) || p1.Attempts != 10 || p1.Succeeded != 10 || p1.Failed != 0 {
			t.Errorf("minute 1 = %+v", p1)
		}
		if p3.Attempts != 5 || p3.Failed != 5 || !within(p3.P95, time.Second) {
			t.Errorf("minute 3 = %+v", p3)
		}
		if p4.Attempts != 0 {
			t.Errorf("the test delivery counted: %+v", p4)
		}
	})
	t.Run("DayByHour", func(t *testing.T) {
		s, err := deliveries.Stats(env.ReadDB, "acme", "wh_s", t0.Add(-23*time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if s.Step != time.Hour || len(s.Series) != 24 || s.Series[23].Attempts != 15 || s.Attempts != 15 {
			t.Fatalf("step %v, %d points, last %+v", s.Step, len(s.Series), s.Series[len(s.Series)-1])
		}
	})
	t.Run("WindowBounds", func(t *testing.T) {
		s, _ := deliveries.Stats(env.ReadDB, "acme", "wh_s", t0.Add(2*time.Minute), t0.Add(time.Hour))
		if s.Attempts != 5 || s.Succeeded != 0 || s.SuccessRate != 0 {
			t.Fatalf("from minute 2: %d attempts, %d succeeded", s.Attempts, s.Succeeded)
		}
	})
	t.Run("OtherAccountEmpty", func(t *testing.T) {
		s, err := deliveries.Stats(env.ReadDB, "other", "wh_s", t0, t0.Add(time.Hour))
		if err != nil || s.Attempts != 0 || s.P50 != 0 {
			t.Fatalf("another account sees %d attempts (err %v)", s.Attempts, err)
		}
	})
	t.Run("ErrEmptyWindow", func(t *testing.T) {
		_, err := deliveries.Stats(env.ReadDB, "acme", "wh_s", t0, t0)
		if domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestStatsSuccessAfterRetries checks that a delivery that fails, retries
// and then succeeds counts each attempt once.
func TestStatsSuccessAfterRetries(t *testing.T) {
	env := testenv.New(t)
	sim := newDeliverySim(t, env, t0)
	sim.schedule("r1", "acme", "wh_r", false)
	sim.attempt("r1", 503, "", 100*time.Millisecond)
	sim.now = t0.Add(10 * time.Second)
	sim.attempt("r1", 0, domain.ErrClassTimeout, 15*time.Second)
	sim.now = t0.Add(10 * time.Minute)
	sim.attempt("r1", 204, "", 100*time.Millisecond)
	sim.sync()
	s, err := deliveries.Stats(env.ReadDB, "acme", "wh_r", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.Attempts != 3 || s.Succeeded != 1 || s.Failed != 2 {
		t.Fatalf("counts = %d/%d/%d, want 3/1/2", s.Attempts, s.Succeeded, s.Failed)
	}
	if !within(s.P50, 100*time.Millisecond) || !within(s.P95, 15*time.Second) {
		t.Fatalf("p50 = %v, p95 = %v", s.P50, s.P95)
	}
}
