package clustertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// post is one POST the receiver got.
type post struct {
	webhook  int
	msgID    string
	at, done time.Time
	status   int
}

// receiver answers by script per webhook (its index i in /h/i): i%4 == 0
// always 200; 1: 500 on the first attempt of every fifth message, then
// 200; 2: 429 (Retry-After: 1) on the first attempt of every fiftieth
// message, then 200; 3: slow (50 ms), then 200. It measures each
// webhook's concurrency.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string]string
	posts    []post
	seen     map[string]int // webhook/msg -> POSTs so far
	inflight map[int]int
	maxConc  map[int]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{files: map[string]string{}, seen: map[string]int{}, inflight: map[int]int{}, maxConc: map[int]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) place(name, content string) {
	r.mu.Lock()
	r.files["/"+name] = content
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
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
	hook, _ := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/h/"))
	var payload struct {
		Data struct {
			N int `json:"n"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &payload)
	msg := req.Header.Get("webhook-id")
	p := post{webhook: hook, msgID: msg, at: time.Now()}
	r.mu.Lock()
	key := strconv.Itoa(hook) + "/" + msg
	nth := r.seen[key]
	r.seen[key]++
	r.inflight[hook]++
	r.maxConc[hook] = max(r.maxConc[hook], r.inflight[hook])
	r.mu.Unlock()
	p.status = http.StatusOK
	switch hook % 4 {
	case 1:
		if nth == 0 && payload.Data.N%5 == 0 {
			p.status = http.StatusInternalServerError
		}
	case 2:
		if nth == 0 && payload.Data.N%50 == 0 {
			w.Header().Set("Retry-After", "1")
			p.status = http.StatusTooManyRequests
		}
	case 3:
		time.Sleep(50 * time.Millisecond) // the scripted slow endpoint, not synchronisation
	}
	w.WriteHeader(p.status)
	p.done = time.Now()
	r.mu.Lock()
	r.inflight[hook]--
	r.posts = append(r.posts, p)
	r.mu.Unlock()
}

// snapshot returns the POSTs so far and each webhook's highest concurrency.
func (r *receiver) snapshot() ([]post, map[int]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	conc := map[int]int{}
	for k, v := range r.maxConc {
		conc[k] = v
	}
	return append([]post(nil), r.posts...), conc
}

// inFlight returns how many POSTs are being answered now.
func (r *receiver) inFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.inflight {
		n += v
	}
	return n
}
