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
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
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
