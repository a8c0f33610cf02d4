package bench

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/projections/due"
)

// BenchmarkPendingMemory builds BENCH_PENDING pending deliveries (1,000,000
// by default) to 10 webhooks whose receivers are down: each webhook was
// verified on a loopback receiver that was then closed, so every attempt
// meets a refused connection. The backlog is published with the dispatcher
// stopped (an attempt per delivery would otherwise turn the build into a
// million refused attempts). The core is then closed and started again on
// the same files, and its dispatcher runs for BENCH_PENDING_RUN (30 s by
// default), working through the backlog at its per-webhook cap and turning
// refused attempts into retries, while the process's memory is sampled.
//
// VmRSS counts the pages of the memory-mapped databases the process has
// touched as well as its own memory; RssAnon is the process's own. Both are
// reported, for the building process and for the restarted one.
func BenchmarkPendingMemory(b *testing.B) {
	pending := envInt("BENCH_PENDING", 1_000_000)
	run := envDuration("BENCH_PENDING_RUN", 30*time.Second)
	dir := b.TempDir()
	r := newRigIn(b, benchWebhooks, 0, dir)
	for i := range benchWebhooks {
		recv := newReceiver(b, false)
		r.webhook(b, recv, 0, r.types[i])
		recv.srv.Close() // the endpoint is down: connections are refused
	}
	built := buildBacklog(b, r, pending)
	b.Logf("built %d pending deliveries in %s; building process: VmRSS %s (anonymous %s, file %s), Go heap in use %s",
		pending, built.Round(time.Second), mib(rssBytes()), mib(procStatus("RssAnon:")), mib(procStatus("RssFile:")), mib(heapInuse()))
	buildRSS, buildAnon := rssBytes(), procStatus("RssAnon:")
	if err := r.env.Close(); err != nil {
		b.Fatal(err)
	}
	r = nil
	runtime.GC()
	debug.FreeOSMemory()

	b.ResetTimer()
	r = newRigIn(b, benchWebhooks, 0, dir)
	r.env.StartDispatcher(b)
	var peakRSS, peakHeap, peakAnon int64
	var peakGoroutines int
	deadline := time.Now().Add(run)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		peakRSS = max(peakRSS, rssBytes())
		peakAnon = max(peakAnon, procStatus("RssAnon:"))
		peakHeap = max(peakHeap, heapInuse())
		peakGoroutines = max(peakGoroutines, runtime.NumGoroutine())
	}
	b.StopTimer()
	left, err := due.CountDue(r.env.ReadDB)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(peakAnon)/(1<<20), "peak-rss-anon-MiB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(buildRSS)/(1<<20), "build-rss-MiB")
	b.ReportMetric(float64(buildAnon)/(1<<20), "build-rss-anon-MiB")
	b.ReportMetric(float64(left), "owed")
	b.ReportMetric(0, "ns/op")
	b.Logf("restarted; dispatcher running %s against refused connections: peak VmRSS %s (anonymous %s), peak Go heap in use %s, peak goroutines %d; %d deliveries still owed",
		run, mib(peakRSS), mib(peakAnon), mib(peakHeap), peakGoroutines, left)
}

// buildBacklog publishes n events from 4 publishers, in batches of 1,000,
// and waits until the due index holds them all.
func buildBacklog(b *testing.B, r *rig, n int) time.Duration {
	start := time.Now()
	events := roundRobin(n, r.types)
	var wg sync.WaitGroup
	const publishers = 4
	chunk := (len(events) + publishers - 1) / publishers
	for p := range publishers {
		part := events[min(p*chunk, len(events)):min((p+1)*chunk, len(events))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.publishAll(b, part)
		}()
	}
	wg.Wait()
	for {
		owed, err := due.CountDue(r.env.ReadDB)
		if err != nil {
			b.Fatal(err)
		}
		if owed >= n {
			return time.Since(start)
		}
		time.Sleep(time.Second)
	}
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func mib(n int64) string { return formatMiB(n) }
