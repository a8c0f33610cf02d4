package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/faultstore"
	"github.com/webhookd/webhookd/internal/testenv"
)

// runMainWith starts the real service like MustRunMain, with extra flags
// and the store passed through wrap.
func runMainWith(t *testing.T, dataDir string, wrap func(eventstore.Store) eventstore.Store, flags ...string) *Main {
	t.Helper()
	m := NewMain()
	args := append([]string{"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--allow-cidrs", "127.0.0.0/8", "--shutdown-timeout", "10s"}, flags...)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.DiscardHandler)
	m.wrapStore = wrap
	if err := m.Run(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	waitReady(t, "http://"+m.HTTP.Addr())
	return m
}

// postEvents posts an NDJSON body to /v1/events and returns the status,
// the Retry-After header and the decoded body.
func postEvents(t *testing.T, base, key, ndjson string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(ndjson))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out
}

// A store that refuses writes (a full disk) makes publishing answer 503
// STORE_UNAVAILABLE with Retry-After on /v1/events, and a top-level
// STORE_UNAVAILABLE error from publishEvents; once it accepts writes
// again the same events are accepted, and they are in the log.
func TestPublishOnAFullStoreAnswersStoreUnavailable(t *testing.T) {
	var fs *faultstore.Store
	m := runMainWith(t, t.TempDir(), func(s eventstore.Store) eventstore.Store { fs = faultstore.Wrap(s); return fs })
	base := "http://" + m.HTTP.Addr()
	pub, err := m.Core.App.CreateAPIKey(context.Background(), "platform", domain.ScopePublisher, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	fs.FailAppends(fmt.Errorf("bolt: commit: write events.db: %w", syscall.ENOSPC))
	event := `{"id":"full-1","account":"acme","type":"email.open","data":{"n":1}}` + "\n"

	t.Run("EventsRoute", func(t *testing.T) {
		status, retry, body := postEvents(t, base, pub.Secret, event)
		e, _ := body["error"].(map[string]any)
		if status != http.StatusServiceUnavailable || retry != "5" || e == nil || e["code"] != domain.ESTOREUNAVAILABLE {
			t.Fatalf("status %d, Retry-After %q, body %v; want 503, 5, STORE_UNAVAILABLE", status, retry, body)
		}
		if msg, _ := e["message"].(string); strings.Contains(msg, "internal") || strings.Contains(msg, "ENOSPC") {
			t.Errorf("message %q should say the store refuses writes, without internals", msg)
		}
	})
	t.Run("PublishEvents", func(t *testing.T) {
		r := client(m, pub.Secret).Do(t, `mutation { publishEvents(input: {events: [{id: "full-2", account: "acme", type: "email.open", data: {}}]}) { results { messageId } } }`, nil)
		if r.Status != http.StatusOK || !r.HasCode(domain.ESTOREUNAVAILABLE) {
			t.Fatalf("status %d, body %s; want 200 with a STORE_UNAVAILABLE top-level error", r.Status, r.Body)
		}
		if r.Errors[0].Extensions["retryAfterSeconds"] != float64(domain.StoreRetryAfter) {
			t.Errorf("extensions %v lack retryAfterSeconds", r.Errors[0].Extensions)
		}
	})
	if fs.RefusedAppends() < 2 {
		t.Fatalf("the store refused %d appends; the test did not reach it", fs.RefusedAppends())
	}

	fs.Heal()
	status, _, body := postEvents(t, base, pub.Secret, event)
	results, _ := body["results"].([]any)
	if status != http.StatusOK || len(results) != 1 || results[0].(map[string]any)["status"] != "accepted" {
		t.Fatalf("after healing: status %d, body %v; want the event accepted (nothing was before)", status, body)
	}
	id := results[0].(map[string]any)["messageId"].(string)
	if recs, err := m.Core.Store.ReadStream(context.Background(), domain.MessageStream(id), 0, 1); err != nil || len(recs) != 1 {
		t.Fatalf("the accepted message is not in the log: %v", err)
	}
}

// mountTmpfs mounts a tmpfs of size on a fresh directory, so a test can
// fill a real file system, and unmounts it when the test ends.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("needs a small tmpfs to fill (mount -t tmpfs, as root): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{0xff}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With the read model on a full file system, the projections fail, are
// restarted with back-off, and the process says so: /readyz 503 naming
// the failure, /healthz "degraded", webhookd_background_task_up 0. Once
// space is freed they recover without a restart of the process and every
// message accepted meanwhile is delivered.
func TestProjectionsRecoverWhenDiskSpaceReturns(t *testing.T) {
	dataDir, small := t.TempDir(), mountTmpfs(t, "8m")
	if err := os.Symlink(filepath.Join(small, "readmodel.db"), filepath.Join(dataDir, "readmodel.db")); err != nil {
		t.Fatal(err)
	}
	recv := testenv.NewReceiver(t)
	m := runMainWith(t, dataDir, nil, "--fatal-after", "10m")
	base := "http://" + m.HTTP.Addr()
	ctx := context.Background()
	owner, err := m.Core.App.CreateAPIKey(ctx, "acme", domain.ScopeAccount, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Core.App.Authenticate(ctx, owner.Secret)
	hook, err := m.Core.App.CreateWebhook(ctx, p, domain.CreateWebhook{Name: "full", URL: recv.URL + "/hooks/in", EventTypes: []string{"email.open"}})
	if err != nil {
		t.Fatal(err)
	}
	recv.PlaceFile("/hooks/"+hook.Verification.File.Name, hook.Verification.File.Token)
	if _, ok, reason, err := m.Core.App.VerifyWebhook(ctx, p, hook.ID); err != nil || !ok {
		t.Fatalf("verify: %v %s", err, reason)
	}
	pub, err := m.Core.App.CreateAPIKey(ctx, "platform", domain.ScopePublisher, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	filler := fill(t, small)
	messages := 2000
	if testing.Short() {
		messages = 400 // the race detector makes each delivery ~20x slower
	}
	pad := strings.Repeat("x", 2048)
	for start := 0; start < messages; start += 200 {
		var body strings.Builder
		for i := start; i < start+200; i++ {
			fmt.Fprintf(&body, `{"id":"m-%d","account":"acme","type":"email.open","data":{"pad":%q}}`+"\n", i, pad)
		}
		if status, _, out := postEvents(t, base, pub.Secret, body.String()); status != http.StatusOK {
			t.Fatalf("publish with the read model's disk full: %d %v (the event store has space)", status, out)
		}
	}
	waitUntil(t, 30*time.Second, func() bool {
		status, body := getBody(t, base+"/readyz")
		return status == http.StatusServiceUnavailable && strings.Contains(body, "no space left on device")
	})
	if status, body := getBody(t, base+"/healthz"); status != http.StatusOK || !strings.Contains(body, "degraded") || !strings.Contains(body, "projections: down") {
		t.Errorf("/healthz while the projections are down: %d %q", status, body)
	}
	if _, metrics := getBody(t, base+"/metrics"); !strings.Contains(metrics, `webhookd_background_task_up{task="projections"} 0`) {
		t.Errorf("/metrics does not show the projections down")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitReady(t, base)
	got := recv.WaitFor(t, messages, 3*time.Minute) // a bound on a stall, not a speed check
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.Header.Get("webhook-id")] = true
	}
	if len(ids) != messages {
		t.Fatalf("%d distinct messages delivered after recovery, want %d", len(ids), messages)
	}
	_, metrics := getBody(t, base+"/metrics")
	if !strings.Contains(metrics, `webhookd_background_task_up{task="projections"} 1`) || strings.Contains(metrics, `webhookd_background_task_restarts_total{task="projections"} 0`) {
		t.Errorf("/metrics after recovery lacks up=1 and a restart count:\n%s", grepLines(metrics, "background_task"))
	}
	if status, body := getBody(t, base+"/healthz"); strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz after recovery: %d %q", status, body)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A SIGTERM under publishing load lets the projections apply everything
// committed before the process exits: afterwards the checkpoint is the
// log's head, so the next start has no lag to catch up, and every
// acknowledged message is in the log.
func TestGracefulStopProjectsEverythingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a service process; skipped with -short")
	}
	dir := t.TempDir()
	types := []string{"email.delivery", "email.bounce"}
	recv := &restartReceiver{seen: map[string]int{}, succeeded: map[string]int{}, neverFail: true}
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
	defer child.kill(t)
	var accepted sync.Map
	published := make(chan int, 1)
	go func() { published <- publishAll(child.url(), publisherKey, types, 20000, 250, &accepted) }()
	waitUntil(t, 60*time.Second, func() bool {
		n := 0
		accepted.Range(func(any, any) bool { n++; return n < 2000 })
		return n >= 2000
	})
	child.terminate(t)
	acked := <-published

	cfg, err := config.Parse("test", []string{"--data-dir", dir}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	c, err := openCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkpoint := c.Runner.Position()
	rest, err := c.Store.ReadAll(context.Background(), checkpoint, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) > 0 {
		t.Fatalf("after a graceful stop the checkpoint is %d but the log goes on to at least %d", checkpoint, rest[len(rest)-1].Position)
	}
	messages := 0
	for after := eventstore.Position(0); ; {
		recs, err := c.Store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if strings.HasPrefix(r.Stream, "message-") {
				messages++
			}
		}
		if len(recs) < 1000 {
			break
		}
		after = recs[len(recs)-1].Position
	}
	if messages < acked {
		t.Fatalf("%d messages acknowledged, %d in the log", acked, messages)
	}
	t.Logf("stopped with %d messages acknowledged; checkpoint %d is the log head", acked, checkpoint)
}
