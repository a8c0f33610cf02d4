package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// writeFixture creates a closed store holding 200 events whose payloads
// carry a recognisable marker, and returns its path.
func writeFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		e := ev("x.v1", i)
		e.Data = fmt.Appendf(nil, `{"marker":"MARK%04d","pad":%q}`, i, strings.Repeat("p", 100))
		if _, err := s.Append(t.Context(), fmt.Sprintf("delivery-%d", i%7), eventstore.Any, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantCorruption asserts err is a CorruptionError naming path.
func wantCorruption(t *testing.T, err error, path string) *eventstore.CorruptionError {
	t.Helper()
	var c *eventstore.CorruptionError
	if !errors.As(err, &c) {
		t.Fatalf("err = %v, want *CorruptionError", err)
	}
	if c.File != path {
		t.Fatalf("corruption error names %q, want %q", c.File, path)
	}
	return c
}

func TestOpenTruncatedFile(t *testing.T) {
	t.Run("MidPage", func(t *testing.T) {
		path := writeFixture(t)
		fi, _ := os.Stat(path)
		if err := os.Truncate(path, fi.Size()-100); err != nil {
			t.Fatal(err)
		}
		_, err := bolt.Open(path, bolt.Options{})
		c := wantCorruption(t, err, path)
		page := int64(os.Getpagesize())
		if want := (fi.Size() - 100) / page * page; c.Offset != want {
			t.Fatalf("offset = %d, want %d (the last whole page)", c.Offset, want)
		}
	})
	t.Run("AtPageBoundary", func(t *testing.T) {
		path := writeFixture(t)
		page := int64(os.Getpagesize())
		if err := os.Truncate(path, 4*page); err != nil {
			t.Fatal(err)
		}
		_, err := bolt.Open(path, bolt.Options{})
		if c := wantCorruption(t, err, path); c.Offset != 4*page {
			t.Fatalf("offset = %d, want %d (the end of the file)", c.Offset, 4*page)
		}
	})
}

func TestOpenGarbageFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	garbage := make([]byte, 64<<10)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(garbage)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(path, bolt.Options{})
	wantCorruption(t, err, path)
}

// TestFlippedRecordByte damages one event's payload in place: bbolt cannot
// notice, so the record checksum must, and reads must report where.
func TestFlippedRecordByte(t *testing.T) {
	path := writeFixture(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(raw, []byte("MARK0123"))
	if at < 0 {
		t.Fatal("marker not found in file")
	}
	raw[at+4] ^= 0xff
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	pointsAtDamage := func(t *testing.T, c *eventstore.CorruptionError) {
		t.Helper()
		if c.Offset < 0 || c.Offset > int64(at) || int64(at)-c.Offset > 4096 {
			t.Fatalf("offset %d does not point at the damaged record (byte %d)", c.Offset, at)
		}
		if !strings.Contains(c.Reason, "position 124") {
			t.Fatalf("reason %q does not name position 124", c.Reason)
		}
	}
	// Open decodes the log's tail to rebuild the idempotency window, so
	// damage there stops the store from opening.
	_, err = bolt.Open(path, bolt.Options{})
	pointsAtDamage(t, wantCorruption(t, err, path))

	// Without the window, Open succeeds and reads find the damage.
	s := mustOpen(t, path, bolt.Options{IDWindow: -1})
	ctx := t.Context()

	before, err := s.ReadAll(ctx, eventstore.Start, 1000)
	if err != nil || len(before) != 123 {
		t.Fatalf("read all = %d events, %v; want the 123 before the damage", len(before), err)
	}
	_, err = s.ReadAll(ctx, before[122].Position, 1000)
	pointsAtDamage(t, wantCorruption(t, err, path))
	_, err = s.ReadStream(ctx, "delivery-4", 0, 1000) // event 123 went to stream 123%7 = 4
	wantCorruption(t, err, path)
	sub, err := s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range 123 {
		if _, err := sub.Next(ctx); err != nil {
			t.Fatalf("event %d before the damage: %v", i, err)
		}
	}
	_, err = sub.Next(ctx)
	wantCorruption(t, err, path)
}

// TestRandomDamageNeverPanics flips bytes all over the file. Whatever bbolt
// makes of it, opening and reading must return errors, not crash.
func TestRandomDamageNeverPanics(t *testing.T) {
	good, err := os.ReadFile(writeFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for round := range 40 {
		raw := bytes.Clone(good)
		for range 1 + r.IntN(8) {
			raw[r.IntN(len(raw))] ^= byte(1 + r.IntN(255))
		}
		path := filepath.Join(t.TempDir(), fmt.Sprintf("damaged-%d.db", round))
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := bolt.Open(path, bolt.Options{NoSync: true, SweepInterval: -1})
		if err != nil {
			continue
		}
		_, _ = s.ReadAll(t.Context(), eventstore.Start, 1000)
		for i := range 7 {
			_, _ = s.ReadStream(t.Context(), fmt.Sprintf("delivery-%d", i), 0, 1000)
		}
		_ = s.Close()
	}
}
