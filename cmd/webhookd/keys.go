package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/httpserver"
)

// keysCommand runs `webhookd keys create|list|revoke`. With a server running
// on the same data directory it goes through the server's admin socket
// (the server holds the embedded store's lock); otherwise it opens the
// stores itself.
func keysCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: webhookd keys create|list|revoke [flags]")
	}
	fs := flag.NewFlagSet("webhookd keys "+args[0], flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEBHOOKD_DATA_DIR", "./data"), "data directory of the webhookd instance")
	account := fs.String("account", "", "account the key belongs to (create, list)")
	scope := fs.String("scope", "account", "account, publisher or admin (create)")
	label := fs.String("label", "", "a note to recognise the key by (create)")
	ttl := fs.Duration("expires-in", 0, "lifetime of the key, such as 720h; 0 means it never expires (create)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var req *http.Request
	switch args[0] {
	case "create":
		body, _ := json.Marshal(httpserver.KeyRequest{Account: *account, Scope: *scope, Label: *label, TTLSeconds: int(ttl.Seconds())})
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/keys", bytes.NewReader(body))
	case "list":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/admin/keys?account="+*account, nil)
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("usage: webhookd keys revoke [--data-dir DIR] KEY_ID")
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/keys/"+fs.Arg(0)+"/revoke", nil)
	default:
		return fmt.Errorf("unknown keys command %q", args[0])
	}
	resp, err := adminRoundTrip(ctx, *dataDir, req)
	if err != nil {
		return err
	}
	return printKeys(stdout, args[0], resp)
}

// adminRoundTrip sends req to the running server's admin socket, or, when
// no server answers there, serves it in-process on directly opened stores.
func adminRoundTrip(ctx context.Context, dataDir string, req *http.Request) (httpserver.KeyResponse, error) {
	var out httpserver.KeyResponse
	sock := filepath.Join(dataDir, "admin.sock")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		return out, json.NewDecoder(resp.Body).Decode(&out)
	}
	cfg, cerr := config.FromEnvironment("webhookd keys", []string{"--data-dir", dataDir})
	if cerr != nil {
		return out, cerr
	}
	logger := newLogger(config.Config{LogLevel: "warn", LogFormat: "text"})
	c, oerr := openCore(ctx, cfg, logger)
	if oerr != nil {
		return out, fmt.Errorf("no server answered on %s (%v), and opening the stores failed: %w", sock, err, oerr)
	}
	defer c.Close()
	if err := c.Runner.CatchUp(ctx); err != nil {
		return out, err
	}
	c.App.Waiter = catchUpWaiter{c}
	rec := &responseBuffer{header: http.Header{}}
	httpserver.AdminHandler(c.App).ServeHTTP(rec, req)
	return out, json.Unmarshal(rec.body.Bytes(), &out)
}

// catchUpWaiter brings the read models up to date synchronously, for the
// offline CLI where no projection runner is following the log.
type catchUpWaiter struct{ c *core }

func (w catchUpWaiter) WaitFor(ctx context.Context, _ eventstore.Position) error {
	return w.c.Runner.CatchUp(ctx)
}

type responseBuffer struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (r *responseBuffer) Header() http.Header         { return r.header }
func (r *responseBuffer) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *responseBuffer) WriteHeader(code int)        { r.status = code }

func printKeys(w io.Writer, cmd string, resp httpserver.KeyResponse) error {
	if resp.Error != nil {
		return resp.Error
	}
	switch cmd {
	case "create":
		fmt.Fprintf(w, "Created %s key %s for account %s.\n", resp.Key.Scope, resp.Key.ID, resp.Key.AccountID)
		fmt.Fprintf(w, "The key is shown only this once; only its hash is stored:\n\n  %s\n\n", resp.Secret)
	case "revoke":
		fmt.Fprintf(w, "Revoked key %s of account %s.\n", resp.Key.ID, resp.Key.AccountID)
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tLABEL\tCREATED\tSTATE")
		for _, k := range resp.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Scope, k.Label, k.CreatedAt.Format(time.RFC3339), keyState(k))
		}
		return tw.Flush()
	}
	return nil
}

func keyState(k domain.APIKey) string {
	switch {
	case k.Revoked():
		return "revoked " + k.RevokedAt.Format(time.RFC3339)
	case !k.ExpiresAt.IsZero() && !k.ValidAt(time.Now()):
		return "expired"
	case !k.ExpiresAt.IsZero():
		return "expires " + k.ExpiresAt.Format(time.RFC3339)
	}
	return "active"
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
		return v
	}
	return def
}
