package bench

import (
	"os"
	"testing"
	"time"
)

// sampler logs the pipeline's progress twice a second when BENCH_TRACE is
// set: how far the projections have applied the log, attempts in flight,
// requests received and deliveries recorded. It shows where a run queues.
func (r *rig) sampler(b *testing.B, out *outcomes, recvs []*receiver) func() {
	if os.Getenv("BENCH_TRACE") == "" {
		return func() {}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var got int64
			for _, rc := range recvs {
				got += rc.count.Load()
			}
			b.Logf("runner pos %d, inflight %.0f, received %d, succeeded %d", r.env.Runner.Position(), r.env.Dispatcher.InFlight(), got, out.succeeded.Load())
		}
	}()
	return func() { close(stop) }
}
