package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// orderReceiver checks ordered delivery at the receiving end. Every line
// (a webhook path, and for PER_KEY also the key) must receive its messages
// in publication order: message n arrives only once every earlier message
// of its line was answered 200. It answers 500 to the first attempt of
// every failEvery-th message, so retries must hold the line.
type orderReceiver struct {
	failEvery int
	lineOf    map[string]func(n int, recipient string) string // path -> line
	mu        sync.Mutex
	expected  map[string]int // line -> the n its next message must carry
	last      map[string]int // line -> the n last answered 200
	attempts  map[string]int // path + n -> attempts
	done      map[string]int // path -> messages answered 200 (first time)
	violation []string
}

func (r *orderReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var msg struct {
		Data struct {
			N         int    `json:"n"`
			Recipient string `json:"recipient"`
		} `json:"data"`
	}
	lineOf, ok := r.lineOf[req.URL.Path]
	if !ok || json.Unmarshal(body, &msg) != nil {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	n := msg.Data.N
	line := lineOf(n, msg.Data.Recipient)
	r.mu.Lock()
	defer r.mu.Unlock()
	key := fmt.Sprintf("%s#%d", req.URL.Path, n)
	r.attempts[key]++
	want, seen := r.expected[line]
	last, answered := r.last[line]
	switch {
	case answered && n == last:
		w.WriteHeader(http.StatusOK) // sent again after a kill: the attempt was not recorded
		return
	case seen && n != want:
		r.violation = append(r.violation, fmt.Sprintf("line %s: got message %d, want %d", line, n, want))
	}
	if n%r.failEvery == 0 && r.attempts[key] == 1 {
		r.expected[line] = n // the line must retry this one before any other
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.last[line], r.expected[line] = n, n+r.stride(req.URL.Path)
	r.done[req.URL.Path]++
	w.WriteHeader(http.StatusOK)
}

// stride is the step between consecutive messages of a line.
func (r *orderReceiver) stride(path string) int {
	if strings.Contains(path, "perkey") {
		return orderKeys
	}
	return 1
}

func (r *orderReceiver) delivered(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[path]
}

// summary says, for a stalled run, how far each webhook and line got.
func (r *orderReceiver) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("answered 200 per webhook %v; next message per line %v; last answered per line %v", r.done, r.expected, r.last)
}

const orderKeys = 4

// TestOrderedDeliverySurvivesFailuresAndKill: a PER_WEBHOOK and a PER_KEY
// webhook receive every message in order although first attempts fail
// (500, then 200 on the retry) and the service is killed with SIGKILL
// mid-run and restarted.
func TestOrderedDeliverySurvivesFailuresAndKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a service process; skipped with -short")
	}
	const messages = 200
	dir := t.TempDir()
	recv := &orderReceiver{failEvery: 20, expected: map[string]int{}, last: map[string]int{},
		attempts: map[string]int{}, done: map[string]int{}, lineOf: map[string]func(int, string) string{
			"/perwebhook/in": func(int, string) string { return "perwebhook" },
			"/perkey/in":     func(_ int, rcpt string) string { return "perkey:" + rcpt },
		}}
	files := &fileServer{files: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			files.ServeHTTP(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	key := setupOrderedAccount(t, dir, srv.URL, files)
	// The first message of each line sets where it starts.
	recv.expected["perwebhook"] = 0
	for k := range orderKeys {
		recv.expected[fmt.Sprintf("perkey:r%d@example.com", k)] = k
	}

	child := startChild(t, dir)
	var accepted sync.Map
	published := make(chan int, 1)
	go func() { published <- publishOrdered(child.url(), key, messages, &accepted) }()
	waitUntil(t, 60*time.Second, func() bool { return recv.delivered("/perwebhook/in") >= messages/4 })
	child.kill(t)
	t.Logf("killed the service after %d messages were acknowledged", <-published)

	child = startChild(t, dir)
	defer child.kill(t)
	if n := publishOrdered(child.url(), key, messages, &accepted); n != messages {
		t.Fatalf("after the restart only %d of %d messages were acknowledged", n, messages)
	}
	waitUntilOr(t, 120*time.Second, func() bool {
		return recv.delivered("/perwebhook/in") >= messages && recv.delivered("/perkey/in") >= messages
	}, recv.summary)
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for _, v := range recv.violation {
		t.Error(v)
	}
}

// setupOrderedAccount creates, on stores opened directly, an account with
// a PER_WEBHOOK and a PER_KEY (data.recipient) webhook, both retrying
// after one second, and returns a publisher key.
func setupOrderedAccount(t *testing.T, dir, base string, files *fileServer) string {
	t.Helper()
	retry := &domain.RetrySettings{Schedule: domain.RetryScheduleCustom, DelaysSeconds: []int{1, 1, 1, 1, 1}}
	var hooks []domain.CreateWebhook
	for path, o := range map[string]domain.Ordering{
		"perwebhook": {Mode: domain.OrderingPerWebhook},
		"perkey":     {Mode: domain.OrderingPerKey, Key: "data.recipient"},
	} {
		hooks = append(hooks, domain.CreateWebhook{Name: path, URL: base + "/" + path + "/in",
			EventTypes: []string{"email.delivery"}, MaxConcurrency: 8, Retry: retry, Ordering: &o})
	}
	return setupDirectAccount(t, dir, files, hooks...)
}

// publishOrdered publishes messages 0..n-1 one at a time, in order, each
// with its n and one of orderKeys recipients, and returns how many are
// acknowledged; it stops at the first failure (the service was killed).
func publishOrdered(base, key string, n int, accepted *sync.Map) int {
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range n {
		k := fmt.Sprintf("ord-%d", i)
		if _, ok := accepted.Load(k); ok {
			continue
		}
		body := fmt.Sprintf(`{"id":%q,"account":"acme","type":"email.delivery","data":{"n":%d,"recipient":"r%d@example.com"}}`, k, i, i%orderKeys)
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := client.Do(req)
		if err != nil {
			break
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			break
		}
		accepted.Store(k, true)
	}
	count := 0
	accepted.Range(func(any, any) bool { count++; return true })
	return count
}
