package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/config"
)

// TestKeysCreateStore checks that keys create names the store it used and
// never quietly starts a store no server reads.
func TestKeysCreateStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Run("ErrNoStore", func(t *testing.T) {
		r := cli(t, "keys", "create", "--account", "acme", "--data-dir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, filepath.Join(dir, "events.db")) || !strings.Contains(r.stderr, "--init") {
			t.Errorf("exit %d, stderr %q: want 1, naming the missing store and --init", r.code, r.stderr)
		}
		if strings.Contains(r.stdout, "whk_") {
			t.Errorf("a key was printed: %q", r.stdout)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the refused create left %s behind (%v)", dir, err)
		}
	})
	t.Run("Init", func(t *testing.T) {
		r := cli(t, "keys", "create", "--account", "acme", "--init", "--data-dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "Store: "+filepath.Join(dir, "events.db")+" (created by --init") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = cli(t, "keys", "list", "--account", "acme", "--data-dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "Store: "+filepath.Join(dir, "events.db")+" (opened directly") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("ThroughServer", func(t *testing.T) {
		m := MustRunMain(t, dir)
		r := cli(t, "keys", "create", "--data-dir", dir, "--account", "acme")
		if r.code != 0 || !strings.Contains(r.stdout, "Store: the server running on "+dir+" (admin socket ") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// Flags after the key ID: revoke the key just created.
		id := regexp.MustCompile(`key (\w+) for account`).FindStringSubmatch(r.stdout)
		if id == nil {
			t.Fatalf("no key ID in %q", r.stdout)
		}
		if r := cli(t, "keys", "revoke", id[1], "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "Revoked key "+id[1]) {
			t.Fatalf("revoke with the flag last: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		m.Close()
	})
}

// TestDevStart checks what --dev prints: both keys on a fresh data
// directory, each working with its scope, and on a second start the command
// that gets a key again, which then works.
func TestDevStart(t *testing.T) {
	dir := t.TempDir()
	m := MustRunMain(t, dir)
	out := mainStdout(m)
	for scope, re := range map[string]string{"ACCOUNT": `account key[^:]*:\s+(whk_\S+)`, "PUBLISHER": `publisher key[^:]*:\s+(whk_\S+)`} {
		k := regexp.MustCompile(re).FindStringSubmatch(out)
		if k == nil {
			t.Fatalf("no %s key printed:\n%s", scope, out)
		}
		var v struct {
			Viewer struct{ Scope string } `json:"viewer"`
		}
		client(m, k[1]).MustData(t, `{ viewer { scope } }`, nil, &v)
		if v.Viewer.Scope != scope {
			t.Errorf("printed %s key has scope %q", scope, v.Viewer.Scope)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := MustRunMain(t, dir)
	out = mainStdout(m2)
	hint := regexp.MustCompile(`(?m)^  webhookd keys create (.+)$`).FindStringSubmatch(out)
	if hint == nil || strings.Contains(out, "whk_") {
		t.Fatalf("second --dev start printed:\n%s\nwant the command that creates a key, and no key", out)
	}
	_, key := createKeyCLI(t, dir, "demo", "account") // what the hint says, through the running server
	if !strings.Contains(hint[1], "--data-dir "+dir+" --account demo --scope account") {
		t.Errorf("hint %q does not name this data directory and the demo account", hint[1])
	}
	client(m2, key).MustData(t, `{ viewer { keyId } }`, nil, nil)
}

// TestDevAddr checks that --dev alone listens on loopback only.
func TestDevAddr(t *testing.T) {
	t.Setenv("WEBHOOKD_ADDR", "")
	m := NewMain()
	if err := m.ParseFlags([]string{"--dev", "--data-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if m.Config.Addr != config.DevAddr {
		t.Errorf("--dev listens on %q, want %q", m.Config.Addr, config.DevAddr)
	}
	if err := m.ParseFlags([]string{"--dev", "--addr", "0.0.0.0:9"}); err != nil || m.Config.Addr != "0.0.0.0:9" {
		t.Errorf("--dev --addr: %q, %v", m.Config.Addr, err)
	}
}

// TestDevKeyLoopbackOnly reads the UI's /ui/config.json and the explorer's
// /graphiql/config.json from a --dev server bound to every interface: over
// loopback they carry the demo key, from the machine's own non-loopback
// address they do not.
func TestDevKeyLoopbackOnly(t *testing.T) {
	m := mustRunMainArgs(t, "--addr", "0.0.0.0:0", "--data-dir", t.TempDir(), "--dev", "--shutdown-timeout", "5s")
	_, port, _ := net.SplitHostPort(m.HTTP.Addr())
	read := func(host, path string) (c struct{ DevKey, Headers string }) {
		t.Helper()
		resp, err := http.Get("http://" + net.JoinHostPort(host, port) + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	key := m.DemoKey()
	if got := read("127.0.0.1", "/ui/config.json").DevKey; key == "" || got != key {
		t.Errorf("over loopback devKey = %q, want the demo key %q", got, key)
	}
	if got := read("127.0.0.1", "/graphiql/config.json").Headers; !strings.Contains(got, "Bearer "+key) {
		t.Errorf("over loopback the explorer's headers are %q, want the demo key", got)
	}
	ip := nonLoopbackIP(t)
	if got := read(ip, "/ui/config.json").DevKey; got != "" {
		t.Errorf("from %s devKey = %q, want none", ip, got)
	}
	if got := read(ip, "/graphiql/config.json").Headers; strings.Contains(got, "whk_") || !strings.Contains(got, `"Authorization": "Bearer "`) {
		t.Errorf("from %s the explorer's headers are %q, want an empty Bearer", ip, got)
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not
// loopback, or skips the test.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address to connect from")
	return ""
}
