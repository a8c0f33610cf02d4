package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/due"
)

// BenchmarkColdStart measures how long `webhookd serve` takes to become
// ready (stores open, projections caught up, listening: /readyz 200) on a
// store of BENCH_COLDSTART_EVENTS published messages (1,000,000 by
// default) owed to 10 webhooks whose endpoints are down, with both database
// files evicted from the page cache first (posix_fadvise DONTNEED), as
// after a reboot. The store is built once and kept in the temporary
// directory under a name that includes the size, so reruns only measure;
// delete it to rebuild. BENCH_COLDSTART_BIN names a prebuilt webhookd
// binary to measure instead of building this tree. It prints the time to ready and the bytes the
// process read from disk (/proc/PID/io read_bytes) by then.
func BenchmarkColdStart(b *testing.B) {
	n := envInt("BENCH_COLDSTART_EVENTS", 1_000_000)
	dir := coldStartStore(b, n)
	bin := os.Getenv("BENCH_COLDSTART_BIN") // a prebuilt binary, to compare builds
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "webhookd")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/webhookd/webhookd/cmd/webhookd").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	var sizes []string
	for _, f := range []string{"events.db", "readmodel.db"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		sizes = append(sizes, fmt.Sprintf("%s %s", f, formatMiB(fi.Size())))
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, f := range []string{"events.db", "readmodel.db"} {
			evict(b, filepath.Join(dir, f))
		}
		b.StartTimer()
		took, read := timeToReady(b, bin, dir)
		b.StopTimer()
		b.ReportMetric(took.Seconds(), "s-to-ready")
		b.ReportMetric(float64(read)/(1<<20), "MiB-read")
		b.Logf("%d events (%s): ready %s after start with the files evicted; read %s from disk", n, strings.Join(sizes, ", "), took.Round(time.Millisecond), formatMiB(read))
	}
	b.ReportMetric(0, "ns/op")
}

// coldStartStore returns the cached store of n messages, building it on
// the first run (without fsync: only the result matters).
func coldStartStore(b *testing.B, n int) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("webhookd-bench-coldstart-%d", n))
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	env := testenv.NewWith(b, testenv.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	owner, _ := env.AccountKey(b, account, domain.ScopeAccount)
	var types []string
	for _, et := range domain.BuiltinCatalogue().All() {
		types = append(types, et.Name)
	}
	types = types[:min(len(types), benchWebhooks)]
	for _, typ := range types {
		recv := newReceiver(b, false)
		v, err := env.App.CreateWebhook(context.Background(), owner, domain.CreateWebhook{Name: "cold " + typ, URL: recv.srv.URL + "/hook", EventTypes: []string{typ}})
		if err != nil {
			b.Fatal(err)
		}
		recv.placeFile("/"+v.Verification.File.Name, v.Verification.File.Token)
		if _, ok, reason, err := env.App.VerifyWebhook(context.Background(), owner, v.ID); err != nil || !ok {
			b.Fatalf("verify: %v %s", err, reason)
		}
		recv.srv.Close() // the endpoint is down: the deliveries stay owed
	}
	for done := 0; done < n; done += app.MaxPublishBatch {
		batch := make([]app.PublishInput, min(app.MaxPublishBatch, n-done))
		for i := range batch {
			batch[i] = app.PublishInput{Account: account, Type: types[(done+i)%len(types)], Data: eventData}
		}
		if _, err := env.App.Publish(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	for {
		owed, err := due.CountDue(env.ReadDB)
		if err != nil {
			b.Fatal(err)
		}
		if owed >= n {
			break
		}
		time.Sleep(time.Second)
	}
	if err := env.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d messages in %s in %s", n, time.Since(start).Round(time.Second), dir)
	return dir
}

// evict writes back and drops a file's pages from the page cache.
func evict(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

// timeToReady starts `webhookd serve` on dir, waits for /readyz 200 and
// returns how long that took and how much the process had read from disk,
// then stops it gracefully.
func timeToReady(b *testing.B, bin, dir string) (time.Duration, int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--addr", addr, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), readBytes(cmd.Process.Pid)
			}
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatal("not ready after 5 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readBytes is what the process has caused to be read from storage.
func readBytes(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "read_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}
