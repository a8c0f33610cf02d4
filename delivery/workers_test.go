package delivery

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWorkerPoolReusesIdleWorkers: a worker that has run an attempt goes
// back to waiting and takes the next one (run hands an attempt to an idle
// worker first), so attempts one after the other run on the goroutine the
// first one started; attempts that overlap each get a worker of their own
// at once.
func TestWorkerPoolReusesIdleWorkers(t *testing.T) {
	p := newWorkerPool()
	ran := map[string]bool{} // the goroutines the attempts ran on
	done := make(chan string)
	job := func() { done <- goroutineID() }
	p.run(job)
	ran[<-done] = true
	for range 50 {
		handToIdle(t, p, job)
		ran[<-done] = true
	}
	if len(ran) != 1 {
		t.Fatalf("51 attempts one after the other ran on %d goroutines", len(ran))
	}

	const overlapping = 5
	var started sync.WaitGroup
	started.Add(overlapping)
	release := make(chan struct{})
	for range overlapping {
		p.run(func() { started.Done(); <-release })
	}
	waited := make(chan struct{})
	go func() { started.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("overlapping attempts waited for each other's workers")
	}
	close(release)
}

// goroutineID is the running goroutine's number, from its stack header
// ("goroutine 42 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// handToIdle gives job to an idle worker, as run does first, waiting for
// the one that just finished to be back.
func handToIdle(t *testing.T, p workerPool, job func()) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case p.jobs <- job:
			return
		default:
			runtime.Gosched()
		}
	}
	t.Fatal("no worker went back to waiting")
}
