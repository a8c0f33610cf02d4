package clustertest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lagSample is one scrape of an instance's webhookd_projection_lag_events
// and _seconds.
type lagSample struct {
	at      time.Time
	events  float64
	seconds float64
	ok      bool // the scrape answered
}

// lagWatch scrapes every instance's projection lag once a second until
// the test ends, so the log shows how far behind each runner was, and
// when.
type lagWatch struct {
	mu sync.Mutex
	by map[string][]lagSample
}

func watchLag(t *testing.T, ins []*instance) *lagWatch {
	w := &lagWatch{by: map[string][]lagSample{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, in := range ins {
		wg.Go(func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				s := scrapeLag(ctx, in.base())
				w.mu.Lock()
				w.by[in.name] = append(w.by[in.name], s)
				w.mu.Unlock()
			}
		})
	}
	return w
}

func scrapeLag(ctx context.Context, base string) lagSample {
	s := lagSample{at: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		name, v, found := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(v, 64)
		switch {
		case !found || err != nil:
		case strings.HasPrefix(name, "webhookd_projection_lag_events{"):
			s.events, s.ok = f, true
		case strings.HasPrefix(name, "webhookd_projection_lag_seconds{"):
			s.seconds = f
		}
	}
	return s
}

// report logs, per instance, the runner's lag outside the fault windows:
// the worst and the median in seconds and events, and scrapes that did not
// answer within 3 s.
func (w *lagWatch) report(t *testing.T, faults []window) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, name := range []string{"w1", "w2", "w3"} {
		var secs []time.Duration
		var evs []time.Duration // events, carried in a Duration to share quantiles
		failed := 0
		for _, s := range w.by[name] {
			if _, f := inWindow(faults, s.at); f {
				continue
			}
			if !s.ok {
				failed++
				continue
			}
			secs = append(secs, time.Duration(s.seconds*float64(time.Second)))
			evs = append(evs, time.Duration(s.events))
		}
		s50, smax := quantiles(secs)
		e50, emax := quantiles(evs)
		if len(secs) > 0 {
			smax, emax = secs[len(secs)-1], evs[len(evs)-1]
		}
		t.Logf("projection lag of %s outside the faults, %d scrapes: median %s / %d events, worst %s / %d events; %d scrapes unanswered",
			name, len(secs), s50.Round(time.Millisecond), int(e50), smax.Round(time.Millisecond), int(emax), failed)
	}
}

// worst is the highest lag the scrapes of the named instances saw outside
// the fault windows.
func (w *lagWatch) worst(faults []window, names ...string) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out time.Duration
	for _, name := range names {
		for _, s := range w.by[name] {
			if _, f := inWindow(faults, s.at); !f && s.ok {
				out = max(out, time.Duration(s.seconds*float64(time.Second)))
			}
		}
	}
	return out
}
