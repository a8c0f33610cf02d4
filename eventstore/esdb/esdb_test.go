package esdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/esdb"
	"github.com/webhookd/webhookd/eventstore/eventstoretest"
)

// TestConformance runs the shared event store suite against a real server.
func TestConformance(t *testing.T) {
	url := os.Getenv("WEBHOOKD_TEST_ESDB_URL")
	if url == "" {
		t.Skip("EventStoreDB suite: set WEBHOOKD_TEST_ESDB_URL=esdb://127.0.0.1:2113?tls=false to run it against an EventStoreDB server")
	}
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := esdb.Open(ctx, url)
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return s
	})
}

func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:2113", "esdb://", "::"} {
		t.Run(url, func(t *testing.T) {
			if s, err := esdb.Open(t.Context(), url); err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", url)
			}
		})
	}
}
