package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// postgresDatabase creates a database for this run and drops it at the
// end; it skips the test when no PostgreSQL answers.
func postgresDatabase(t testing.TB) (dbURL string) {
	base := os.Getenv("WEBHOOKD_TEST_POSTGRES_URL")
	if base == "" {
		base = "postgres://127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		skipOrFailInCI(t, "PostgreSQL not reachable at %s (set WEBHOOKD_TEST_POSTGRES_URL): %v", base, err)
	}
	defer admin.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "webhookd_cluster_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	// Three instances share the server with the rest of the suite (the
	// store's default pool is 32); PostgreSQL's default allows 100 clients.
	q := u.Query()
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "8")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func redisURL(t testing.TB) string {
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", 2*time.Second)
	if err != nil {
		skipOrFailInCI(t, "Redis not reachable at 127.0.0.1:6379: %v", err)
	}
	c.Close()
	return "redis://127.0.0.1:6379/0"
}

// retryConnect calls connect until it succeeds, for up to a minute: the
// server's connections are shared with whatever else runs on it, and the
// checks must not fail because it was full for a moment.
func retryConnect(t testing.TB, connect func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := connect()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to PostgreSQL: %v", err)
		}
		time.Sleep(500 * time.Millisecond) // polling for a free connection with a deadline
	}
}

// connectDirect opens one connection to dbURL (not a pool), for the
// checks that query the event table itself.
func connectDirect(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	var c *pgx.Conn
	retryConnect(t, func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cfg, err := pgx.ParseConfig(dbURL)
		if err != nil {
			return err
		}
		delete(cfg.RuntimeParams, "pool_max_conns") // a pool setting, not the server's
		c, err = pgx.ConnectConfig(ctx, cfg)
		return err
	})
	return c
}

// withPool returns dbURL with the pool capped at n connections.
func withPool(dbURL string, n int) string {
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// withHost returns dbURL pointing at addr instead.
func withHost(dbURL, addr string) string {
	u, _ := url.Parse(dbURL)
	u.Host = addr
	return u.String()
}

var hookTypes = []string{"email.bounce", "email.click", "email.delivery", "email.failure", "email.open"}

// hook is one of the test's webhooks: account a, type index k.
type hook struct {
	index, account int
	id, eventType  string
}

// createHooks creates and verifies accounts×len(hookTypes) webhooks with a
// concurrency cap of maxConc, and returns them with the account keys.
func createHooks(t testing.TB, in *instance, recv *receiver, accounts, maxConc int) ([]hook, []string) {
	var hooks []hook
	keys := make([]string, accounts)
	for a := range accounts {
		keys[a] = in.createKey("acc-"+strconv.Itoa(a), "account")
		c := &gqltest.Client{URL: in.base() + "/graphql", Key: keys[a]}
		for k, typ := range hookTypes {
			i := len(hooks)
			w, ue := c.CreateWebhook(t, map[string]any{"name": "h" + strconv.Itoa(i), "url": recv.URL + "/h/" + strconv.Itoa(i),
				"eventTypes": []string{typ}, "maxConcurrency": maxConc})
			if len(ue) > 0 || w == nil {
				t.Fatalf("createWebhook: %v", ue)
			}
			recv.place(w.Verification.FileName, w.Verification.FileContent)
			var out struct {
				VerifyWebhook struct {
					Webhook struct {
						Verification struct{ Status string } `json:"verification"`
					} `json:"webhook"`
				} `json:"verifyWebhook"`
			}
			c.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { webhook { verification { status } } } }`, map[string]any{"id": w.ID}, &out)
			if out.VerifyWebhook.Webhook.Verification.Status != "VERIFIED" {
				t.Fatalf("webhook %d not verified: %+v", i, out)
			}
			_, raw, err := domain.DecodeGlobalID(w.ID)
			if err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, hook{index: i, account: a, id: raw, eventType: hookTypes[k]})
		}
	}
	return hooks, keys
}

// skipOrFailInCI skips a test whose server is absent, except under CI
// (CI=true), where .ci/run has started every server the suite needs and an
// absent one is a fault, not a reason to skip.
func skipOrFailInCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
