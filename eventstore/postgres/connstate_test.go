package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/webhookd/webhookd/eventstore"
)

// TestSubscriptionReportsDisconnection: while the database refuses
// connections, a subscription blocked in Next (which retries inside)
// reports the failure through eventstore.ConnectionState; once the
// database takes connections again it delivers what was appended and
// reports nothing.
func TestSubscriptionReportsDisconnection(t *testing.T) {
	dbURL := newDatabase(t)
	s := mustOpen(t, dbURL, Options{SweepInterval: -1, PollInterval: 50 * time.Millisecond})
	ctx := t.Context()
	sub, err := s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	cs, ok := sub.(eventstore.ConnectionState)
	if !ok {
		t.Fatal("the subscription does not implement eventstore.ConnectionState")
	}
	got := make(chan eventstore.RecordedEvent)
	go func() {
		for {
			ev, err := sub.Next(ctx)
			if err != nil {
				return
			}
			got <- ev
		}
	}()

	admin := adminConn(t)
	name := strings.TrimPrefix(mustParse(t, dbURL).Path, "/")
	allow := func(on bool) {
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS "+map[bool]string{true: "true", false: "false"}[on]); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true") })
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the subscription reports the lost connection", func() bool { return cs.Disconnected() != nil })

	allow(true)
	stream := "conn-" + uuid.NewString()
	if _, err := s.Append(ctx, stream, eventstore.NoStream, testEvent(0)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Stream != stream {
			t.Fatalf("got %s, want the event appended to %s", ev.Stream, stream)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event within 30 s of the database taking connections again")
	}
	if err := cs.Disconnected(); err != nil {
		t.Fatalf("after a successful read Disconnected = %v, want nil", err)
	}
}

// adminConn connects to the server's maintenance database (the test URL).
func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), serverURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitUntil polls cond until it holds, failing after 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
}
