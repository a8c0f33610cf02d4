package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/eventstore/eventstoretest"
)

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true})
	})
}

// mustOpen opens a store and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts bolt.Options) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
