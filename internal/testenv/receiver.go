package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one request a Receiver got.
type Received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// Receiver is a real HTTP endpoint on loopback that webhooks deliver to. It
// serves verification files placed with PlaceFile, records every POST, and
// answers with the status set by Respond (200 by default).
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string]string
	received []Received
	status   int
	delay    time.Duration
	notify   chan struct{}
	// held, when set, holds every POST until Release closes it.
	held      chan struct{}
	completed int
}

// NewReceiver starts a receiver and stops it when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{files: map[string]string{}, status: http.StatusOK, notify: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet {
		r.mu.Lock()
		content, ok := r.files[req.URL.Path]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		_, _ = io.WriteString(w, content)
		return
	}
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.received = append(r.received, Received{Header: req.Header.Clone(), Body: body, At: time.Now()})
	status, delay := r.status, r.delay
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	r.mu.Lock()
	held := r.held
	r.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
	r.mu.Lock()
	r.completed++
	r.mu.Unlock()
}

// Hold makes later POSTs hang, recorded but unanswered, until Release or
// until the sender gives up: an endpoint that never answers in time.
func (r *Receiver) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		r.held = make(chan struct{})
	}
}

// Release answers the POSTs Hold is holding, and stops holding.
func (r *Receiver) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held != nil {
		close(r.held)
		r.held = nil
	}
}

// Completed returns how many POSTs have been answered.
func (r *Receiver) Completed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.completed
}

// PlaceFile serves content at path (such as "/hooks/webhookd-x.txt").
func (r *Receiver) PlaceFile(path, content string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files["/"+strings.TrimPrefix(path, "/")] = content
}

// Respond sets the status later POSTs get, and how long they hang first.
func (r *Receiver) Respond(status int, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.delay = status, delay
}

// Received returns a copy of every POST so far.
func (r *Receiver) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.received...)
}

// WaitFor waits until at least n POSTs arrived, failing the test after
// timeout. It polls nothing: each POST signals.
func (r *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := r.Received(); len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d within %s", len(r.Received()), n, timeout)
		}
	}
}
