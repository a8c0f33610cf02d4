package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// Files in the data directory through which TestCrashReadyBeforeCatchUp
// steers its service processes.
const (
	holdFile = "hold-projections" // while it exists, the projections stop after each batch
	heldFile = "projections-held" // the child writes the position it stopped at
)

// TestCrashChild is the service process of TestCrashReadyBeforeCatchUp:
// the real Main, whose projections stop after each committed batch while
// the parent keeps the hold file in the data directory.
func TestCrashChild(t *testing.T) {
	if os.Getenv("WEBHOOKD_CRASH_CHILD") != "1" {
		return // only meaningful as the child of TestCrashReadyBeforeCatchUp
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	dir := m.Config.DataDir
	// Run returns only once the projections have caught up (or after 30 s),
	// so the address is taken from the log line that says it listens.
	m.Logger = slog.New(&addrRecorder{
		Handler: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
		path:    filepath.Join(dir, "addr"),
	})
	m.projected = func(pos eventstore.Position) {
		hold := filepath.Join(dir, holdFile)
		if !fileExists(hold) {
			return
		}
		_ = writeFile(filepath.Join(dir, heldFile), strconv.FormatUint(uint64(pos), 10))
		for fileExists(hold) {
			time.Sleep(10 * time.Millisecond) // polls the parent's condition
		}
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done() // the parent SIGKILLs us
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// addrRecorder writes the address of the "webhookd listening" record to
// path and passes the records its Handler takes on to it.
type addrRecorder struct {
	slog.Handler
	path string
}

func (h *addrRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *addrRecorder) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "webhookd listening" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "addr" {
				_ = writeFile(h.path, a.Value.String())
			}
			return true
		})
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// TestCrashReadyBeforeCatchUp kills a service under load whose read model
// lags the log by thousands of events, restarts it with the projections
// still held back, and shows that it turns ready and dispatches owed work
// while the projections are behind, that no attempt recorded in the lag is
// sent again, and that nothing acknowledged is lost.
func TestCrashReadyBeforeCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a service process; skipped with -short")
	}
	const (
		webhooks   = 4
		owed       = 2000 // in the due index at the checkpoint
		lagging    = 6000 // published with the projections stopped
		live       = 2000 // published to the first process, projections held
		beforeKill = 400  // POSTs answered before the receiver stops answering
		total      = owed + lagging + live
	)
	dir := t.TempDir()
	types := []string{"email.delivery", "email.bounce", "email.open", "email.click"}[:webhooks]
	recv := &gatedReceiver{answerFirst: beforeKill, posts: map[string]int{}, waiting: map[string]bool{}, gate: make(chan struct{})}
	files := &fileServer{files: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			files.ServeHTTP(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer recv.open()
	publisherKey := setupRestartAccount(t, dir, srv.URL, files, types)
	var accepted sync.Map
	publishLagging(t, dir, types, owed, lagging, &accepted)
	if err := writeFile(filepath.Join(dir, holdFile), ""); err != nil {
		t.Fatal(err)
	}

	// First process: it starts with the lag, is held after one page, and
	// takes more events while its attempts are recorded beyond the
	// checkpoint. The receiver stops answering after beforeKill POSTs; once
	// every lane's attempts hang there, all earlier attempts are recorded.
	child := startCrashChild(t, dir)
	defer func() { child.kill(t) }()
	waitReadyz(t, child)
	if n := publishAll(child.url(), publisherKey, types, total, 500, &accepted); n != total {
		t.Fatalf("only %d of %d messages acknowledged before the kill", n, total)
	}
	waitUntil(t, 60*time.Second, func() bool { return recv.waitingCount() == webhooks*domain.DefaultMaxConcurrency })
	inFlight, recorded := recv.snapshot()
	child.kill(t)
	recv.open()
	t.Logf("killed with %d attempts recorded in the lag and %d in flight", len(recorded), len(inFlight))

	// Second process, projections still held: ready, and owed work sent,
	// while the read model is thousands of events behind.
	_ = os.Remove(filepath.Join(dir, heldFile))
	child = startCrashChild(t, dir)
	waitReadyz(t, child)
	if lag := scrapeGauge(t, child, `webhookd_projection_lag_events{projection="readmodel"}`); lag < 1000 {
		t.Fatalf("ready with a lag of %v events; the test needs thousands", lag)
	}
	waitUntil(t, 60*time.Second, func() bool { return recv.newSince(recorded, inFlight) >= 200 })
	if !fileExists(filepath.Join(dir, heldFile)) {
		t.Fatal("the projections were never held in the second process")
	}
	lag := scrapeGauge(t, child, `webhookd_projection_lag_events{projection="readmodel"}`)
	pos := scrapeGauge(t, child, `webhookd_projection_position{projection="readmodel"}`)
	if lag < 1000 {
		t.Fatalf("owed work was sent only once the lag was down to %v events", lag)
	}
	t.Logf("ready and dispatching at position %v with %v events still to apply", pos, lag)

	_ = os.Remove(filepath.Join(dir, holdFile))
	waitUntil(t, 180*time.Second, func() bool { return recv.distinct() >= total })
	recv.check(t, inFlight, total)
}

// publishLagging publishes owed messages with the projections running and
// waits until they are applied, then lagging more with the projections
// stopped, on stores opened directly; it marks every key accepted.
func publishLagging(t *testing.T, dir string, types []string, owed, lagging int, accepted *sync.Map) {
	t.Helper()
	ctx := context.Background()
	c := openDirect(t, dir)
	defer c.Close()
	stop, done := runProjections(c)
	publishRange(t, c.App, types, 0, owed, accepted)
	drainCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.Runner.Drain(drainCtx); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	publishRange(t, c.App, types, owed, owed+lagging, accepted)
}

func publishRange(t *testing.T, a *app.App, types []string, from, to int, accepted *sync.Map) {
	t.Helper()
	for start := from; start < to; start += app.MaxPublishBatch {
		var in []app.PublishInput
		for i := start; i < min(start+app.MaxPublishBatch, to); i++ {
			in = append(in, app.PublishInput{ID: fmt.Sprintf("evt-%d", i), Account: "acme", Type: types[i%len(types)],
				Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		}
		res, err := a.Publish(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("publish %s: %v", in[i].ID, r.Err)
			}
			accepted.Store(in[i].ID, true)
		}
	}
}

func startCrashChild(t *testing.T, dir string) *childProcess {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "WEBHOOKD_CRASH_CHILD=1", "WEBHOOKD_DATA_DIR="+dir,
		"WEBHOOKD_ADDR=127.0.0.1:0", "WEBHOOKD_ALLOW_CIDRS=127.0.0.0/8", "WEBHOOKD_DEV=false")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childProcess{cmd: cmd, dir: dir}
	waitUntil(t, 30*time.Second, func() bool { return fileExists(filepath.Join(dir, "addr")) })
	return c
}

// waitReadyz waits for /readyz to answer 200. The projections are held, so
// this fails if readiness waits for them to catch up.
func waitReadyz(t *testing.T, c *childProcess) {
	t.Helper()
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.url() + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 30s while the projections are held (last /readyz: %s)", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrapeGauge returns the value of one series from /metrics.
func scrapeGauge(t *testing.T, c *childProcess, series string) float64 {
	t.Helper()
	resp, err := http.Get(c.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeFile replaces path with content at once, so a reader polling for
// it never sees it half written.
func writeFile(path, content string) error {
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
