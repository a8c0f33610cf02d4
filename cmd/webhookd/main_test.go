package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/gqltest"
)

// MustRunMain starts the real service on a loopback port over dataDir in
// dev mode, waits for /readyz, and closes it when the test ends unless the
// test closed it first.
func MustRunMain(t *testing.T, dataDir string) *Main {
	t.Helper()
	return mustRunMainArgs(t, "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--dev", "--shutdown-timeout", "5s")
}

// mustRunMainArgs is MustRunMain with the serve flags given. What Main
// prints for the operator is kept for mainStdout.
func mustRunMainArgs(t *testing.T, args ...string) *Main {
	t.Helper()
	return mustRunMainLogged(t, slog.New(slog.DiscardHandler), args...)
}

// mustRunMainLogged is mustRunMainArgs with Main logging to logger.
func mustRunMainLogged(t *testing.T, logger *slog.Logger, args ...string) *Main {
	t.Helper()
	m := NewMain()
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	m.Logger = logger
	m.Stdout = new(bytes.Buffer) // written only during Run
	if err := m.Run(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() }) // a second Close is harmless
	waitReady(t, "http://"+m.HTTP.Addr())
	return m
}

// mainStdout returns what Main printed for the operator while starting.
func mainStdout(m *Main) string { return m.Stdout.(*bytes.Buffer).String() }

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _ := httpGet(t, base+"/readyz")
		if status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after 15 s", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func client(m *Main, key string) *gqltest.Client {
	return &gqltest.Client{URL: "http://" + m.HTTP.Addr() + "/graphql", Key: key}
}

const listWebhooks = `{ webhooks(first: 100) { totalCount nodes { id name url eventTypes status revision createdAt updatedAt verification { fileName fileContent } } } }`

// TestServe runs the real Main end to end: readiness, health, metrics, the
// --dev demo key, a webhook created over GraphQL that survives a restart,
// the keys CLI through the admin socket while serving and offline while
// stopped, and a projections rebuild that reproduces the same listing.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m := MustRunMain(t, dir)
	base := "http://" + m.HTTP.Addr()

	if status, body := httpGet(t, base+"/healthz"); status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", status, body)
	}
	if m.DemoKey() == "" {
		t.Fatal("--dev on a fresh data directory created no demo key")
	}
	demo := client(m, m.DemoKey())
	hook := demo.MustCreateWebhook(t, "survivor", "http://127.0.0.1:1/hooks/in")
	var before struct {
		Webhooks struct {
			TotalCount int `json:"totalCount"`
		} `json:"webhooks"`
	}
	listing := demo.MustData(t, listWebhooks, nil, &before).Body
	if before.Webhooks.TotalCount != 1 {
		t.Fatalf("listing after create: %s", listing)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{`webhookd_http_requests_total{`, "go_goroutines "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	t.Run("KeysThroughAdminSocket", func(t *testing.T) {
		id, key := createKeyCLI(t, dir, "ops", "admin")
		// The running server knows the key at once: the CLI went through
		// its admin socket rather than a second copy of the stores.
		var out struct {
			Viewer struct {
				KeyID string `json:"keyId"`
				Scope string `json:"scope"`
			} `json:"viewer"`
		}
		client(m, key).MustData(t, `{ viewer { keyId scope } }`, nil, &out)
		if out.Viewer.KeyID != id || out.Viewer.Scope != "ADMIN" {
			t.Errorf("viewer %+v, want key %s with ADMIN", out.Viewer, id)
		}
		if list := runKeys(t, "list", "--data-dir", dir, "--account", "ops"); !strings.Contains(list, id) || !strings.Contains(list, "active") {
			t.Errorf("keys list:\n%s", list)
		}
		runKeys(t, "revoke", "--data-dir", dir, id)
		if r := client(m, key).Do(t, `{ viewer { keyId } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("a key revoked through the admin socket still works: %d %s", r.Status, r.Body)
		}
	})

	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	t.Run("KeysOffline", func(t *testing.T) {
		id, _ := createKeyCLI(t, dir, "offline-acct", "account")
		if list := runKeys(t, "list", "--data-dir", dir, "--account", "offline-acct"); !strings.Contains(list, id) {
			t.Errorf("keys list offline lacks %s:\n%s", id, list)
		}
		if err := keysCommand(ctx, []string{"create", "--data-dir", dir, "--account", "bad account!"}, io.Discard, io.Discard); err == nil {
			t.Error("keys create accepted an invalid account name")
		}
	})

	var offlineKey string
	t.Run("Restart", func(t *testing.T) {
		_, offlineKey = createKeyCLI(t, dir, "acct-later", "account")
		m2 := MustRunMain(t, dir)
		defer m2.Close()
		if m2.DemoKey() != "" {
			t.Error("a restart on a used data directory created another demo key")
		}
		got := client(m2, m.DemoKey()).MustData(t, listWebhooks, nil, nil).Body
		if !bytes.Equal(got, listing) {
			t.Errorf("after a restart the listing is\n%s\nwant\n%s", got, listing)
		}
		if w := client(m2, m.DemoKey()).WebhookByID(t, hook.ID); w == nil || w.Name != "survivor" {
			t.Errorf("webhook after restart: %+v", w)
		}
		client(m2, offlineKey).MustData(t, `{ viewer { keyId } }`, nil, nil) // created while stopped
	})

	t.Run("Rebuild", func(t *testing.T) {
		var out bytes.Buffer
		if err := rebuildCommand(ctx, []string{"rebuild", "--data-dir", dir, "--log-level", "error"}, &out, io.Discard); err != nil {
			t.Fatalf("rebuild: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "rebuilt read models up to position") {
			t.Errorf("rebuild output: %q", out.String())
		}
		m3 := MustRunMain(t, dir)
		defer m3.Close()
		if got := client(m3, m.DemoKey()).MustData(t, listWebhooks, nil, nil).Body; !bytes.Equal(got, listing) {
			t.Errorf("after a rebuild the listing is\n%s\nwant\n%s", got, listing)
		}
		client(m3, offlineKey).MustData(t, `{ viewer { keyId } }`, nil, nil)
	})
}

var createdKey = regexp.MustCompile(`Created \w+ key (\w+) for account [\w.-]+\.\n.*\n\n  (whk_\S+)\n`)

// createKeyCLI runs `webhookd keys create` and returns the key's ID and
// secret from its output.
func createKeyCLI(t *testing.T, dir, account, scope string) (id, secret string) {
	t.Helper()
	out := runKeys(t, "create", "--data-dir", dir, "--account", account, "--scope", scope, "--label", "cli test")
	m := createdKey.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("unexpected keys create output:\n%s", out)
	}
	return m[1], m[2]
}

func runKeys(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := keysCommand(context.Background(), args, &out, &out); err != nil {
		t.Fatalf("webhookd keys %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}
