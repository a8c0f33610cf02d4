package main

import (
	"net/http"
	"sync"
	"testing"
)

// gatedReceiver answers its first answerFirst POSTs and holds every later
// one until open is called (or the client goes away), counting POSTs per
// webhook-id.
type gatedReceiver struct {
	answerFirst int
	mu          sync.Mutex
	total       int
	posts       map[string]int  // webhook-id -> POSTs received
	waiting     map[string]bool // webhook-ids whose POST is held now
	gate        chan struct{}   // closed by open
	opened      bool
}

func (r *gatedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.total++
	r.posts[id]++
	hold := !r.opened && r.total > r.answerFirst
	if hold {
		r.waiting[id] = true
	}
	r.mu.Unlock()
	if hold {
		select {
		case <-r.gate:
		case <-req.Context().Done():
		}
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (r *gatedReceiver) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.opened {
		r.opened = true
		close(r.gate)
	}
}

func (r *gatedReceiver) waitingCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting)
}

// snapshot returns the messages whose POST is held (in flight) and those
// answered (their attempts recorded).
func (r *gatedReceiver) snapshot() (inFlight, answered map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inFlight, answered = map[string]bool{}, map[string]bool{}
	for id := range r.posts {
		if r.waiting[id] {
			inFlight[id] = true
		} else {
			answered[id] = true
		}
	}
	return inFlight, answered
}

// newSince counts the messages received that are in neither set.
func (r *gatedReceiver) newSince(sets ...map[string]bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
outer:
	for id := range r.posts {
		for _, s := range sets {
			if s[id] {
				continue outer
			}
		}
		n++
	}
	return n
}

func (r *gatedReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.posts)
}

// check asserts that every message arrived and that only attempts in
// flight at the kill were sent twice.
func (r *gatedReceiver) check(t *testing.T, inFlight map[string]bool, want int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.posts) != want {
		t.Errorf("%d distinct messages delivered, want %d", len(r.posts), want)
	}
	again := 0
	for id, n := range r.posts {
		switch {
		case n > 1 && !inFlight[id]:
			t.Errorf("message %s was sent %d times; its attempt was recorded before the crash", id, n)
		case n > 2:
			t.Errorf("message %s was sent %d times; in flight at the kill, it may be sent once more", id, n)
		case n == 2:
			again++
		}
	}
	t.Logf("%d of %d attempts in flight at the kill were sent again (same webhook-id)", again, len(inFlight))
}
