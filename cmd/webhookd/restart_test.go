package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
)

// TestRestartChild is the service process of TestRestartLosesNothing: it
// runs the real Main until it is killed.
func TestRestartChild(t *testing.T) {
	if os.Getenv("WEBHOOKD_RESTART_CHILD") != "1" {
		return // only meaningful as the child of TestRestartLosesNothing
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.Config.DataDir, "addr"), []byte(m.HTTP.Addr()), 0o600); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done() // SIGTERM shuts down gracefully; SIGKILL just ends us
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// restartReceiver answers 500 to the first attempt of every third message,
// so retries are pending when the service is killed, and counts successful
// receipts per webhook-id.
type restartReceiver struct {
	delay     time.Duration
	neverFail bool
	mu        sync.Mutex
	seen      map[string]int // webhook-id -> attempts
	succeeded map[string]int // webhook-id -> 2xx answers
	total     int
}

func (r *restartReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet { // verification files are placed by the test
		http.NotFound(w, req)
		return
	}
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	var payload struct{ ID string }
	if json.Unmarshal(body, &payload) != nil || payload.ID != id {
		http.Error(w, "body id differs from webhook-id", http.StatusBadRequest)
		return
	}
	time.Sleep(r.delay)
	h := fnv.New32a()
	h.Write([]byte(id))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	r.seen[id]++
	if !r.neverFail && h.Sum32()%3 == 0 && r.seen[id] == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.succeeded[id]++
	w.WriteHeader(http.StatusOK)
}

func (r *restartReceiver) counts() (total, distinct int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, len(r.succeeded)
}

func TestRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a service process; skipped with -short")
	}
	const (
		webhooks = 5
		messages = 10000
		batch    = 500
	)
	dir := t.TempDir()
	types := []string{"email.delivery", "email.bounce", "email.open", "email.click", "email.abuse"}
	recv := &restartReceiver{seen: map[string]int{}, succeeded: map[string]int{}}
	files := &fileServer{files: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			files.ServeHTTP(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	publisherKey := setupRestartAccount(t, dir, srv.URL, files, types[:webhooks])

	child := startChild(t, dir)
	var accepted sync.Map // idempotency key -> true once a 200 said so
	published := make(chan int, 1)
	go func() { published <- publishAll(child.url(), publisherKey, types, messages, batch, &accepted) }()

	// Kill mid-run: once a good share of the deliveries has arrived.
	waitUntil(t, 60*time.Second, func() bool { total, _ := recv.counts(); return total >= messages/4 })
	child.kill(t)
	sent := <-published
	t.Logf("killed the service after %d of %d messages were acknowledged", sent, messages)

	child = startChild(t, dir)
	defer child.kill(t)
	if rest := publishAll(child.url(), publisherKey, types, messages, batch, &accepted); rest != messages {
		t.Fatalf("after the restart only %d of %d messages were acknowledged", rest, messages)
	}
	waitUntil(t, 90*time.Second, func() bool { _, distinct := recv.counts(); return distinct >= messages })

	recv.mu.Lock()
	defer recv.mu.Unlock()
	duplicates := 0
	for id, n := range recv.succeeded {
		if n > 1 {
			duplicates += n - 1
			t.Logf("message %s was delivered %d times (same webhook-id each time)", id, n)
		}
	}
	// Only attempts in flight at the kill may repeat: at most the
	// concurrency cap of every webhook.
	if limit := webhooks * domain.DefaultMaxConcurrency; duplicates > limit {
		t.Fatalf("%d duplicate deliveries; at most %d attempts can be in flight at a kill", duplicates, limit)
	}
	if len(recv.succeeded) != messages {
		t.Fatalf("%d distinct messages delivered, want %d", len(recv.succeeded), messages)
	}
}

// setupRestartAccount creates, on stores opened directly, an account with
// one verified webhook per type and a publisher key, and returns that key.
func setupRestartAccount(t *testing.T, dir, base string, files *fileServer, types []string) string {
	t.Helper()
	var hooks []domain.CreateWebhook
	for i, typ := range types {
		hooks = append(hooks, domain.CreateWebhook{Name: typ, URL: fmt.Sprintf("%s/hook%d/in", base, i), EventTypes: []string{typ}})
	}
	return setupDirectAccount(t, dir, files, hooks...)
}

// setupDirectAccount opens dir's stores directly with their projections
// running, creates the account "acme" with the webhooks given, each
// verified through files, and returns a publisher key for it.
func setupDirectAccount(t *testing.T, dir string, files *fileServer, hooks ...domain.CreateWebhook) string {
	t.Helper()
	ctx := context.Background()
	c := openDirect(t, dir)
	defer c.Close()
	stop, done := runProjections(c)
	defer func() { stop(); <-done }()

	owner, err := c.App.CreateAPIKey(ctx, "acme", domain.ScopeAccount, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := c.App.CreateAPIKey(ctx, "platform", domain.ScopePublisher, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.App.Authenticate(ctx, owner.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range hooks {
		v, err := c.App.CreateWebhook(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		files.place("/"+v.Verification.File.Name, v.Verification.File.Token)
		if _, ok, reason, err := c.App.VerifyWebhook(ctx, p, v.ID); err != nil || !ok {
			t.Fatalf("verify %s: %v %s", in.Name, err, reason)
		}
	}
	return pub.Secret
}

// publishAll posts every message not yet acknowledged, in batches, with
// idempotency keys, and returns how many are acknowledged. It stops at the
// first failure (the service was killed); a later call resends the rest
// and the keys make resending safe.
func publishAll(base, key string, types []string, n, batch int, accepted *sync.Map) int {
	client := &http.Client{Timeout: 30 * time.Second}
	for start := 0; start < n; start += batch {
		var body bytes.Buffer
		var keys []string
		for i := start; i < start+batch && i < n; i++ {
			k := fmt.Sprintf("evt-%d", i)
			if _, done := accepted.Load(k); done {
				continue
			}
			keys = append(keys, k)
			fmt.Fprintf(&body, `{"id":%q,"account":"acme","type":%q,"data":{"n":%d}}`+"\n", k, types[i%len(types)], i)
		}
		if len(keys) == 0 {
			continue
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", &body)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := client.Do(req)
		if err != nil {
			break
		}
		var out struct{ Results []struct{ Status string } }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(out.Results) != len(keys) {
			break
		}
		for i, r := range out.Results {
			if r.Status == "accepted" || r.Status == "duplicate" {
				accepted.Store(keys[i], true)
			}
		}
	}
	count := 0
	accepted.Range(func(any, any) bool { count++; return true })
	return count
}

type childProcess struct {
	cmd *exec.Cmd
	dir string
}

func startChild(t *testing.T, dir string) *childProcess {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartChild$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "WEBHOOKD_RESTART_CHILD=1", "WEBHOOKD_DATA_DIR="+dir,
		"WEBHOOKD_ADDR=127.0.0.1:0", "WEBHOOKD_ALLOW_CIDRS=127.0.0.0/8", "WEBHOOKD_DEV=false")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childProcess{cmd: cmd, dir: dir}
	waitUntil(t, 30*time.Second, func() bool {
		resp, err := http.Get(c.url() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return c
}

func (c *childProcess) url() string {
	addr, _ := os.ReadFile(filepath.Join(c.dir, "addr"))
	return "http://" + strings.TrimSpace(string(addr))
}

// terminate sends SIGTERM and waits for a clean exit.
func (c *childProcess) terminate(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM the service exited with %v", err)
	}
}

func (c *childProcess) kill(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

type fileServer struct {
	mu    sync.Mutex
	files map[string]string
}

func (f *fileServer) place(path, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = content
}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	content, ok := f.files[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = io.WriteString(w, content)
}

func waitUntil(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitUntilOr(t, timeout, cond, func() string { return "" })
}

// waitUntilOr is waitUntil that, on a timeout, says what explain says of
// how far things got.
func waitUntilOr(t *testing.T, timeout time.Duration, cond func() bool, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s %s", timeout, explain())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
}

func TestGracefulShutdownLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a service process; skipped with -short")
	}
	const messages = 2000
	dir := t.TempDir()
	types := []string{"email.delivery", "email.bounce"}
	// Slow answers keep attempts in flight when SIGTERM arrives.
	recv := &restartReceiver{seen: map[string]int{}, succeeded: map[string]int{}, delay: 20 * time.Millisecond, neverFail: true}
	files := &fileServer{files: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			files.ServeHTTP(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	publisherKey := setupRestartAccount(t, dir, srv.URL, files, types)

	child := startChild(t, dir)
	var accepted sync.Map
	if n := publishAll(child.url(), publisherKey, types, messages, 500, &accepted); n != messages {
		t.Fatalf("only %d of %d messages were acknowledged", n, messages)
	}
	waitUntil(t, 60*time.Second, func() bool { total, _ := recv.counts(); return total >= 50 })
	child.terminate(t)
	_, before := recv.counts()
	t.Logf("stopped gracefully after %d of %d deliveries", before, messages)

	child = startChild(t, dir)
	defer child.kill(t)
	waitUntil(t, 90*time.Second, func() bool { _, distinct := recv.counts(); return distinct >= messages })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for id, n := range recv.succeeded {
		if n != 1 {
			t.Errorf("message %s was delivered %d times; a graceful stop records every attempt it made", id, n)
		}
	}
}

// openDirect opens the stores of dir as the keys CLI does without a
// server, for setting up state before a child process serves them. The
// caller closes it before starting the child (which locks the data dir).
func openDirect(t *testing.T, dir string) *core {
	t.Helper()
	cfg, err := config.Parse("test", []string{"--data-dir", dir, "--allow-cidrs", "127.0.0.0/8"}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	c, err := openCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runProjections runs c's projections until stop; done yields Run's result.
func runProjections(c *core) (stop func(), done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- c.Runner.Run(ctx) }()
	return cancel, ch
}
