package delivery

import "time"

// workerIdle is how long an attempt worker waits for the next attempt
// before it exits.
const workerIdle = time.Second

// workerPool runs attempts on goroutines that outlive one attempt. An
// attempt goes deep (the HTTP client, signing, the store's read and
// append), so a goroutine started for each one grew its stack several
// times over, copying it each time: 3% of all CPU at 10,000 deliveries/s.
// A worker that has run one attempt has grown its stack already. Workers
// are started as attempts need them, so there are never more than
// attempts in flight (MaxInFlight), and one idle for workerIdle exits.
type workerPool struct {
	jobs chan func() // unbuffered: a send succeeds only into an idle worker
}

func newWorkerPool() workerPool { return workerPool{jobs: make(chan func())} }

// run runs job on an idle worker, or on a new one when none is idle.
func (p workerPool) run(job func()) {
	select {
	case p.jobs <- job:
	default:
		go p.work(job)
	}
}

func (p workerPool) work(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-p.jobs:
		case <-idle.C:
			return
		}
	}
}
