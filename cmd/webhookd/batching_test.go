package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// batchReceiver reads batched deliveries: each POST a JSON array of
// envelopes. It counts every message by its n, answers 500 to every
// failEvery-th request so batches are retried, and checks that one
// webhook-id always carries the same set of events.
type batchReceiver struct {
	failEvery int
	mu        sync.Mutex
	requests  int
	got       map[int]int       // n -> times received
	sets      map[string]string // webhook-id -> the sorted message IDs it carried
	largest   int
	violation []string
	// hold, when set, is taken by the next request: it signals held
	// and blocks until release, then counts nothing (its answer never
	// reaches a service killed meanwhile).
	hold          bool
	held, release chan struct{}
	heldIDs       []int
}

func (r *batchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var events []struct {
		ID   string `json:"id"`
		Data struct {
			N int `json:"n"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &events); err != nil || len(events) == 0 {
		http.Error(w, "not a JSON array of events", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, _ := strconv.Atoi(req.Header.Get("webhook-batch-size")); n != len(events) {
		r.violation = append(r.violation, fmt.Sprintf("webhook-batch-size %q for %d events", req.Header.Get("webhook-batch-size"), len(events)))
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	slices.Sort(ids)
	set, batchID := fmt.Sprint(ids), req.Header.Get("webhook-id")
	if prev, ok := r.sets[batchID]; ok && prev != set {
		r.violation = append(r.violation, fmt.Sprintf("webhook-id %s carried %s, then %s", batchID, prev, set))
	}
	r.sets[batchID] = set
	if r.hold {
		r.hold = false
		for _, e := range events {
			r.heldIDs = append(r.heldIDs, e.Data.N)
		}
		r.mu.Unlock()
		r.held <- struct{}{}
		<-r.release
		r.mu.Lock()
		http.Error(w, "too late", http.StatusServiceUnavailable)
		return
	}
	r.requests++
	if r.requests%r.failEvery == 0 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	for _, e := range events {
		r.got[e.Data.N]++
	}
	r.largest = max(r.largest, len(events))
	w.WriteHeader(http.StatusOK)
}

func (r *batchReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// TestBatchedDeliverySurvivesFailuresAndKill: a batched webhook receives
// every message at least once although some batches fail (500, retried
// whole) and the service is killed with SIGKILL mid-run and restarted. A
// batch sent but not recorded at the kill (the receiver holds it until
// the kill, and counts none of it) is sent again after the restart:
// at-least-once per event, never lost.
func TestBatchedDeliverySurvivesFailuresAndKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a service process; skipped with -short")
	}
	const messages = 300
	dir := t.TempDir()
	recv := &batchReceiver{failEvery: 7, got: map[int]int{}, sets: map[string]string{},
		held: make(chan struct{}), release: make(chan struct{})}
	files := &fileServer{files: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			files.ServeHTTP(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	key := setupBatchedAccount(t, dir, srv.URL, files)

	child := startChild(t, dir)
	var accepted sync.Map
	published := make(chan int, 1)
	go func() { published <- publishOrdered(child.url(), key, messages, &accepted) }()
	waitUntil(t, 60*time.Second, func() bool { return recv.distinct() >= messages/4 })
	// Kill the service with a batch in flight: sent, never answered, so
	// never recorded.
	recv.mu.Lock()
	recv.hold = true
	recv.mu.Unlock()
	select {
	case <-recv.held:
	case <-time.After(60 * time.Second):
		t.Fatal("no batch was sent to hold")
	}
	child.kill(t)
	close(recv.release)
	t.Logf("killed the service with a batch of %v in flight, after %d messages were acknowledged and %d received", recv.heldIDs, <-published, recv.distinct())

	child = startChild(t, dir)
	defer child.kill(t)
	if n := publishOrdered(child.url(), key, messages, &accepted); n != messages {
		t.Fatalf("after the restart only %d of %d messages were acknowledged", n, messages)
	}
	waitUntil(t, 120*time.Second, func() bool { return recv.distinct() == messages })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for n := range messages {
		if recv.got[n] == 0 {
			t.Errorf("message %d lost", n)
		}
	}
	if len(recv.heldIDs) == 0 {
		t.Error("no batch was in flight at the kill")
	}
	if recv.largest < 2 {
		t.Errorf("no batch held more than %d event", recv.largest)
	}
	for _, v := range recv.violation {
		t.Error(v)
	}
	t.Logf("%d requests for %d messages, largest batch %d", recv.requests, messages, recv.largest)
}

// setupBatchedAccount creates, on stores opened directly, an account with
// one webhook batching up to 10 events (waiting 50 ms to fill), retrying
// after one second, and returns a publisher key.
func setupBatchedAccount(t *testing.T, dir, base string, files *fileServer) string {
	t.Helper()
	retry := &domain.RetrySettings{Schedule: domain.RetryScheduleCustom, DelaysSeconds: []int{1, 1, 1, 1, 1}}
	return setupDirectAccount(t, dir, files, domain.CreateWebhook{Name: "batched", URL: base + "/batched/in",
		EventTypes: []string{"email.delivery"}, Retry: retry, Batching: &domain.Batching{MaxEvents: 10, MaxWaitMs: 50}})
}
