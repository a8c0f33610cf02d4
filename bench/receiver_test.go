package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a lean loopback endpoint for benchmarks: it serves
// verification files and counts POSTs, keeping only the arrival time of
// each message when asked to, so the receiving side costs as little as a
// real receiver's fast path.
type receiver struct {
	srv *httptest.Server
	// hang, when set, holds every POST until the client gives up.
	hang atomic.Bool
	// status is the answer to POSTs; 0 means 200.
	status atomic.Int32
	count  atomic.Int64
	// active counts POSTs being served right now; peak is its maximum.
	active, peak atomic.Int64

	mu      sync.Mutex
	files   map[string]string
	arrived map[string]time.Time // webhook-id -> first arrival, when record is on
	record  bool
}

func newReceiver(tb testing.TB, record bool) *receiver {
	r := &receiver{files: map[string]string{}, record: record}
	if record {
		r.arrived = map[string]time.Time{}
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
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
	_, _ = io.Copy(io.Discard, req.Body)
	n := r.active.Add(1)
	defer r.active.Add(-1)
	for p := r.peak.Load(); n > p && !r.peak.CompareAndSwap(p, n); p = r.peak.Load() {
	}
	if r.hang.Load() {
		<-req.Context().Done() // the sender's timeout ends it
		return
	}
	if r.record {
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		if _, seen := r.arrived[id]; !seen {
			r.arrived[id] = at
		}
		r.mu.Unlock()
	}
	r.count.Add(1)
	status := int(r.status.Load())
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
}

func (r *receiver) placeFile(path, content string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = content
}

// arrivals returns a copy of the first arrival time of every message.
func (r *receiver) arrivals() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]time.Time, len(r.arrived))
	for k, v := range r.arrived {
		out[k] = v
	}
	return out
}
