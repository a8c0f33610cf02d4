package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/httpserver"
)

const keysUsage = `Usage:
  webhookd keys create --account A [--scope account|publisher|admin] [--label L] [--expires-in 720h] [--init] [--data-dir DIR]
  webhookd keys list --account A [--data-dir DIR]
  webhookd keys revoke KEY_ID [--data-dir DIR]

With a server running on the data directory, keys goes through its admin
socket; otherwise it opens the stores there itself. It never creates a
store unless keys create is given --init. "webhookd keys SUBCOMMAND --help"
lists a subcommand's flags.
`

// keysArgs are the parsed flags of one keys subcommand.
type keysArgs struct {
	dataDir, account, scope, label string
	ttl                            time.Duration
	init                           bool
	positional                     []string
}

// parseKeysArgs gives each keys subcommand its own flag set, so --help
// lists only the flags that subcommand reads, and lets flags follow the
// key ID.
func parseKeysArgs(cmd string, args []string, stderr io.Writer) (keysArgs, error) {
	var k keysArgs
	fs := flag.NewFlagSet("webhookd keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&k.dataDir, "data-dir", envOr("WEBHOOKD_DATA_DIR", "./data"), "data directory of the webhookd instance (env WEBHOOKD_DATA_DIR)")
	switch cmd {
	case "create":
		fs.StringVar(&k.account, "account", "", "account the key belongs to; created with its first key (required)")
		fs.StringVar(&k.scope, "scope", "account", "account, publisher or admin")
		fs.StringVar(&k.label, "label", "", "a note to recognise the key by")
		fs.DurationVar(&k.ttl, "expires-in", 0, "lifetime of the key, such as 720h; 0 means it never expires")
		fs.BoolVar(&k.init, "init", false, "create a new event store in --data-dir when there is none")
	case "list":
		fs.StringVar(&k.account, "account", "", "account whose keys to list (required)")
	case "revoke":
	default:
		return k, usageError{fmt.Errorf("unknown keys command %q\n\n%s", cmd, keysUsage)}
	}
	rest, err := config.ParseInterspersed(fs, args)
	if err != nil {
		return k, flagError(err)
	}
	k.positional = rest
	switch {
	case cmd == "revoke" && len(rest) != 1:
		return k, usageError{errors.New("usage: webhookd keys revoke KEY_ID [--data-dir DIR]")}
	case cmd != "revoke" && len(rest) > 0:
		return k, usageError{fmt.Errorf("keys %s: unexpected argument %q", cmd, rest[0])}
	case cmd != "revoke" && k.account == "":
		return k, usageError{fmt.Errorf("keys %s: --account is required", cmd)}
	}
	return k, nil
}

// keysCommand runs `webhookd keys create|list|revoke`. With a server running
// on the same data directory it goes through the server's admin socket
// (the server holds the embedded store's lock); otherwise it opens the
// stores itself. It names the store it used, so a key created against the
// wrong directory is noticed before it is handed out.
func keysCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return usageError{errors.New("keys: no subcommand given")}
	}
	if slices.Contains([]string{"help", "-h", "-help", "--help"}, args[0]) {
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	k, err := parseKeysArgs(args[0], args[1:], stderr)
	if err != nil {
		return err
	}
	var req *http.Request
	switch args[0] {
	case "create":
		body, _ := json.Marshal(httpserver.KeyRequest{Account: k.account, Scope: k.scope, Label: k.label, TTLSeconds: int(k.ttl.Seconds())})
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/keys", bytes.NewReader(body))
	case "list":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/admin/keys?account="+url.QueryEscape(k.account), nil)
	case "revoke":
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/keys/"+url.PathEscape(k.positional[0])+"/revoke", nil)
	}
	resp, store, err := adminRoundTrip(ctx, k.dataDir, k.init, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Store: %s\n", store)
	return printKeys(stdout, args[0], resp)
}

// adminRoundTrip sends req to the running server's admin socket, or, when
// no server answers there, serves it in-process on directly opened stores.
// It returns a description of the store it used. It refuses to open an
// embedded store that does not exist yet unless init is set: a fresh store
// would take the key, and no running server would ever accept it.
func adminRoundTrip(ctx context.Context, dataDir string, init bool, req *http.Request) (httpserver.KeyResponse, string, error) {
	var out httpserver.KeyResponse
	dir := absDir(dataDir)
	sock := filepath.Join(dir, "admin.sock")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		return out, "the server running on " + dir + " (admin socket " + sock + ")", json.NewDecoder(resp.Body).Decode(&out)
	}
	cfg, cerr := config.FromEnvironment("webhookd keys", []string{"--data-dir", dataDir})
	if cerr != nil {
		return out, "", cerr
	}
	store := "EventStoreDB at " + redactURL(cfg.EventStore) + ", read models in " + dir + " (no server is running there)"
	if cfg.EventStore == "embedded" {
		events := filepath.Join(dir, "events.db")
		store = events + " (opened directly: no server is running on " + dir + ")"
		if _, serr := os.Stat(events); errors.Is(serr, fs.ErrNotExist) && !init {
			return out, "", fmt.Errorf("no server answers on %s and there is no event store at %s: "+
				"pass the --data-dir of your webhookd instance (or set WEBHOOKD_DATA_DIR), "+
				"or add --init to keys create to start a new store there", sock, events)
		} else if errors.Is(serr, fs.ErrNotExist) {
			store = events + " (created by --init; no server is running on " + dir + ")"
		}
	}
	out, err = serveOffline(ctx, cfg, req)
	if err != nil {
		return out, "", fmt.Errorf("no server answered on %s, and %w", sock, err)
	}
	return out, store, nil
}

// serveOffline serves req with the admin handler over stores opened here.
func serveOffline(ctx context.Context, cfg config.Config, req *http.Request) (httpserver.KeyResponse, error) {
	var out httpserver.KeyResponse
	logger := newLogger(config.Config{LogLevel: "warn", LogFormat: "text"})
	c, err := openCore(ctx, cfg, logger)
	if err != nil {
		return out, fmt.Errorf("opening the stores failed: %w", err)
	}
	defer c.Close()
	if err := c.Runner.CatchUp(ctx); err != nil {
		return out, fmt.Errorf("catching up the read models: %w", err)
	}
	c.App.Waiter = catchUpWaiter{c}
	rec := &responseBuffer{header: http.Header{}}
	httpserver.AdminHandler(c.App).ServeHTTP(rec, req)
	return out, json.Unmarshal(rec.body.Bytes(), &out)
}

// redactURL drops credentials and query from an event store URL before it
// is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
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
