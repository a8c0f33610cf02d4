package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/eventstoretest"
)

// defaultTestURL is the machine's local PostgreSQL (trust auth).
const defaultTestURL = "postgres://127.0.0.1:5432/test?sslmode=disable"

// serverURL is the PostgreSQL the tests use: WEBHOOKD_TEST_POSTGRES_URL or
// the local default.
func serverURL() string {
	if u := os.Getenv("WEBHOOKD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// newDatabase creates a throwaway database for one test and drops it when
// the test ends. It skips the test when no PostgreSQL answers.
func newDatabase(tb testing.TB) string {
	tb.Helper()
	base := serverURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" { // .ci/run starts PostgreSQL: absent there is a fault
			tb.Fatalf("PostgreSQL not reachable at %s (set WEBHOOKD_TEST_POSTGRES_URL): %v", base, err)
		}
		tb.Skipf("PostgreSQL not reachable at %s (set WEBHOOKD_TEST_POSTGRES_URL): %v", base, err)
	}
	defer admin.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "webhookd_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("WEBHOOKD_TEST_POSTGRES_URL %q is not a URL: %v", base, err)
	}
	u.Path = "/" + name
	return u.String()
}

// mustOpen opens a store on dbURL and closes it when the test ends.
func mustOpen(tb testing.TB, dbURL string, opts Options) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dbURL, opts)
	if err != nil {
		tb.Fatalf("open %s: %v", dbURL, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the shared event store suite against a fresh
// database.
func TestConformance(t *testing.T) {
	dbURL := newDatabase(t)
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, dbURL, Options{SweepInterval: -1})
	})
}

// TestOpenBadURL: a malformed or unreachable URL fails Open instead of
// returning a store that fails later.
func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"postgres://127.0.0.1:1/x?connect_timeout=2", "postgres://%zz"} {
		if s, err := Open(t.Context(), u, Options{}); err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", u)
		}
	}
}
