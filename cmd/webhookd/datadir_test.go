package main

import (
	"log/slog"
	"strings"
	"testing"
)

// A second instance on a data directory in use fails at once and says
// why, whatever the event store.
func TestSecondInstanceOnOneDataDir(t *testing.T) {
	dir := t.TempDir()
	MustRunMain(t, dir)
	m := NewMain()
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", dir}); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.DiscardHandler)
	err := m.Run(t.Context())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "in use by another webhookd process") {
		t.Fatalf("second instance on %s: %v; want an error naming the data dir in use", dir, err)
	}
}
