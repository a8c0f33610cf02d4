// Package testlock keeps the heaviest test suites from running at the same
// time. `go test ./...` runs packages in parallel, and on a small machine
// the cluster test (three services, PostgreSQL, Redis and a load
// generator) shares the CPU with the browser and child-process suites, so
// its latency figures measure the neighbours instead of webhookd. The
// cluster test takes the lock exclusively, the other heavy suites share
// it: they run beside each other, never beside the cluster.
package testlock

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// heldEnv marks a process whose parent holds the lock: a test binary that
// re-runs itself as a child service must not wait for its own parent.
const heldEnv = "WEBHOOKD_TEST_HEAVY_LOCK_HELD"

// Run runs the package's tests holding the machine-wide heavy-suite lock,
// exclusively or shared, and returns m.Run's exit code.
func Run(m *testing.M, exclusive bool) int {
	if os.Getenv(heldEnv) != "" {
		return m.Run()
	}
	path := filepath.Join(os.TempDir(), "webhookd-heavy-tests.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testlock: %v; running without the lock\n", err)
		return m.Run()
	}
	defer f.Close()
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		fmt.Fprintf(os.Stderr, "testlock: %v; running without the lock\n", err)
		return m.Run()
	}
	if waited := time.Since(start); waited > time.Second {
		fmt.Fprintf(os.Stderr, "testlock: waited %s for the other heavy test suites\n", waited.Round(time.Second))
	}
	os.Setenv(heldEnv, "1")
	return m.Run() // the lock goes with the process
}
