package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runLogged starts serve on dir, as MustRunMain does, with its warnings
// kept.
func runLogged(t *testing.T, dir string) (*Main, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return mustRunMainLogged(t, logger, "--addr", "127.0.0.1:0", "--data-dir", dir, "--dev", "--shutdown-timeout", "5s"), log
}

// The read model is committed without fsync. A clean stop syncs it and
// leaves no crash mark; a mark left by another boot (the machine went
// down with serve running) makes the next start rebuild the read model
// from the log, and what it serves is the same.
func TestReadModelTornByAMachineCrashIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "readmodel.db.open")
	m, _ := runLogged(t, dir)
	key := m.DemoKey()
	client(m, key).MustCreateWebhook(t, "kept", "http://127.0.0.1:1/hooks/in")
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("no crash mark while serving: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Fatalf("a clean stop left the crash mark: %v", err)
	}

	m, log := runLogged(t, dir)
	if strings.Contains(log.String(), "rebuilding") {
		t.Fatalf("a clean stop's read model was rebuilt:\n%s", log)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// As the machine going down with serve running would leave it.
	if err := os.WriteFile(mark, []byte("an-earlier-boot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, log = runLogged(t, dir)
	if !strings.Contains(log.String(), "the read model was open when the machine went down; rebuilding it from the log") {
		t.Fatalf("no rebuild after a machine crash; log:\n%s", log)
	}
	var out struct {
		Webhooks struct {
			Nodes []struct{ Name string } `json:"nodes"`
		} `json:"webhooks"`
	}
	client(m, key).MustData(t, `{ webhooks(first: 10) { nodes { name } } }`, nil, &out)
	if len(out.Webhooks.Nodes) != 1 || out.Webhooks.Nodes[0].Name != "kept" {
		t.Fatalf("after the rebuild the webhooks are %+v", out.Webhooks.Nodes)
	}
}
