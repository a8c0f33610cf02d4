package clustertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// instance is one real `webhookd serve` child process.
type instance struct {
	t    testing.TB
	bin  string
	name string
	dir  string
	addr string
	args []string
	env  []string // added to the test's environment
	cmd  *exec.Cmd
	log  *os.File
}

// buildBinary builds webhookd once into a temporary directory.
func buildBinary(t testing.TB) string {
	bin := filepath.Join(t.TempDir(), "webhookd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/webhookd/webhookd/cmd/webhookd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newInstance(t testing.TB, bin, name, storeURL, redisURL string, extra ...string) *instance {
	in := &instance{t: t, bin: bin, name: name, dir: t.TempDir(), addr: freeAddr(t)}
	in.args = append([]string{"serve", "--addr", in.addr, "--data-dir", in.dir, "--eventstore", storeURL,
		"--redis-url", redisURL, "--allow-cidrs", "127.0.0.0/8", "--instance-id", name,
		"--shutdown-timeout", "20s", "--log-level", "info"}, extra...)
	t.Cleanup(in.kill)
	if dir := os.Getenv("WEBHOOKD_CLUSTER_LOG_DIR"); dir != "" {
		t.Cleanup(func() { in.keepLog(dir) }) // runs before the kill above, after the checks
	}
	return in
}

// keepLog copies the instance's log to dir (WEBHOOKD_CLUSTER_LOG_DIR), so
// a run can be examined after its temporary directories are gone.
func (in *instance) keepLog(dir string) {
	b, err := os.ReadFile(filepath.Join(in.dir, "webhookd.log"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, in.name+".log"), b, 0o644)
	}
	if err != nil {
		in.t.Logf("keep the log of %s: %v", in.name, err)
	}
}

func (in *instance) base() string { return "http://" + in.addr }

// start runs the process and waits until /readyz answers 200.
func (in *instance) start() {
	in.t.Helper()
	f, err := os.OpenFile(filepath.Join(in.dir, "webhookd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		in.t.Fatal(err)
	}
	in.log = f
	in.cmd = exec.Command(in.bin, in.args...)
	in.cmd.Env = append(os.Environ(), in.env...)
	in.cmd.Stdout, in.cmd.Stderr = f, f
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.waitReady(60 * time.Second)
}

func (in *instance) waitReady(timeout time.Duration) {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for in.readyz() != http.StatusOK {
		if time.Now().After(deadline) {
			in.t.Fatalf("%s not ready after %s; log:\n%s", in.name, timeout, in.tail())
		}
		time.Sleep(50 * time.Millisecond) // polling readiness with a deadline
	}
}

func (in *instance) readyz() int {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(in.base() + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (in *instance) signal(s syscall.Signal) {
	if in.cmd != nil && in.cmd.Process != nil {
		_ = in.cmd.Process.Signal(s)
	}
}

// kill SIGKILLs the process and reaps it.
func (in *instance) kill() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGCONT)
	_ = in.cmd.Process.Kill()
	_ = in.cmd.Wait()
	in.cmd = nil
	if in.log != nil {
		in.log.Close()
	}
}

// stop shuts down gracefully and waits for the exit.
func (in *instance) stop() error {
	if in.cmd == nil {
		return nil
	}
	in.signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- in.cmd.Wait() }()
	select {
	case err := <-done:
		in.cmd = nil
		return err
	case <-time.After(60 * time.Second):
		in.kill()
		return fmt.Errorf("%s did not stop within 60 s", in.name)
	}
}

func (in *instance) tail() string {
	b, _ := os.ReadFile(filepath.Join(in.dir, "webhookd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// metric returns the value of a metric line that starts with name.
func (in *instance) metric(name string) string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(in.base() + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

var keyLine = regexp.MustCompile(`(?m)^\s+(whk_\S+)\s*$`)

// createKey runs `webhookd keys create` against the running instance.
func (in *instance) createKey(account, scope string) string {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, in.bin, "keys", "create", "--account", account, "--scope", scope, "--data-dir", in.dir)
	cmd.Env = append(os.Environ(), in.env...)
	out, err := cmd.CombinedOutput()
	m := keyLine.FindSubmatch(out)
	if err != nil || m == nil {
		in.t.Fatalf("keys create: %v\n%s", err, out)
	}
	return string(m[1])
}
