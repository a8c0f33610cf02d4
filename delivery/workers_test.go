package delivery

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWorkerPoolReusesIdleWorkers: attempts one after the other run on
// the worker the first one started, and attempts that overlap each get a
// worker of their own at once.
func TestWorkerPoolReusesIdleWorkers(t *testing.T) {
	p := newWorkerPool()
	ran := map[string]bool{} // the goroutines the attempts ran on
	for range 50 {
		done := make(chan string)
		p.run(func() { done <- goroutineID() })
		ran[<-done] = true
		time.Sleep(5 * time.Millisecond) // the worker is back waiting
	}
	if len(ran) > 2 {
		t.Fatalf("50 attempts one after the other ran on %d goroutines", len(ran))
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
