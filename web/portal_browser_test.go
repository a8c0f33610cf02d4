package web_test

import (
	"context"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/browsertest"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

const portalWait = 15 * time.Second

// embedder is a page of the platform on its own loopback origin that
// frames the portal link given as ?src=, and notes when the frame has
// loaded (with the portal, or with the browser's refusal).
var embedderPage = template.Must(template.New("e").Parse(`<!doctype html><title>platform</title>
<h1>Platform</h1><iframe id="portal" src="{{.}}" width="1000" height="700" onload="window.frameLoaded = true"></iframe>`))

func newEmbedder(t *testing.T) (ln net.Listener, serve func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = embedderPage.Execute(w, r.URL.Query().Get("src"))
	})}}
	return ln, func() { srv.Start(); t.Cleanup(srv.Close) }
}

// TestPortalBrowser opens magic links in headless Chromium: framed by an
// allowed origin (http://127.0.0.1 on another port: signed in, themed,
// read-only without changing controls, the token gone from the address
// bar), framed by one that is not allowed (http://localhost: refused, the
// link left unused), then used again and expired (a clear message).
func TestPortalBrowser(t *testing.T) {
	browsertest.ChromiumPath(t)
	allowedLn, serveAllowed := newEmbedder(t)
	refusedLn, serveRefused := newEmbedder(t)
	allowed := "http://" + allowedLn.Addr().String()
	refused := "http://localhost:" + portOf(refusedLn)
	serveAllowed()
	serveRefused()

	srv := gqltest.NewServerWith(t, gqltest.Options{PortalFrameAncestors: []string{allowed}})
	var offset atomic.Int64
	srv.Env.App.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(offset.Load())) }
	admin := srv.AccountClient(t, "platform", domain.ScopeAdmin)
	p, _ := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	recv := testenv.NewReceiver(t)
	hook := srv.Env.VerifiedWebhook(t, p, recv, "/hooks", "email.bounce")
	hookID := domain.EncodeGlobalID("Webhook", hook.ID)
	mint := func(input map[string]any) (path, id string) {
		var out struct {
			CreatePortalSession struct {
				Path    string
				Session struct{ ID string }
			}
		}
		admin.MustData(t, `mutation($input: CreatePortalSessionInput!) { createPortalSession(input: $input) { path session { id } userErrors { message } } }`,
			map[string]any{"input": input}, &out)
		return out.CreatePortalSession.Path, out.CreatePortalSession.Session.ID
	}
	b := browsertest.New(t, 90*time.Second, browsertest.Options{})
	ctx := b.Ctx

	roPath, _ := mint(map[string]any{"account": "acme", "scope": "READ_ONLY", "theme": map[string]any{"productName": "Shop Mail", "brandColor": "#0a7d4f"}})
	t.Run("AllowedFrame", func(t *testing.T) {
		run(t, ctx, "open the platform page", chromedp.Navigate(allowed+"/?src="+url.QueryEscape(srv.URL+roPath)))
		frame := portalFrame(t, ctx)
		inFrame(t, ctx, frame, "signed in as acme", `document.querySelector('#account-name')?.textContent === 'acme'`)
		got := inFrame(t, ctx, frame, "the page state", `JSON.stringify({
			href: location.href, brand: document.querySelector('.brand').textContent, title: document.title,
			primary: document.documentElement.style.getPropertyValue('--primary'),
			badge: !!document.querySelector('#read-only-badge'), newLink: document.querySelector('#nav a[href="#/new"]').checkVisibility()})`)
		for _, want := range []string{`"brand":"Shop Mail"`, `"title":"Webhooks · Shop Mail"`, `"primary":"#0a7d4f"`, `"badge":true`, `"newLink":false`} {
			if !strings.Contains(got, want) {
				t.Errorf("page state %s lacks %s", got, want)
			}
		}
		if strings.Contains(got, "token") || !strings.Contains(got, `/portal#/"`) {
			t.Errorf("the token is still in the address: %s", got)
		}
		t.Run("ReadOnly", func(t *testing.T) {
			inFrame(t, ctx, frame, "the manage page", `(location.hash = '#/webhooks/`+url.PathEscape(hookID)+`', true) && !!document.querySelector('#read-only-note') && !!document.querySelector('#test-send')`)
			controls := inFrame(t, ctx, frame, "changing controls", `JSON.stringify(['#delete', '#edit', '#pause', '#resume', '#secret-rotate', '#verify'].filter((s) => document.querySelector(s)).concat('none'))`)
			if controls != `["none"]` {
				t.Errorf("a read-only session shows %s", controls)
			}
			inFrame(t, ctx, frame, "the test button", `(() => { const b = document.querySelector('#test-send'); if (!b || b.disabled) return false; b.click(); return true; })()`)
			if got := inFrame(t, ctx, frame, "a test delivery", `document.querySelector('#test-outcome')?.textContent || document.querySelector('#test-result .error-box')?.textContent`); got != "Succeeded" {
				t.Errorf("test delivery from a read-only session: %s", got)
			}
			refusedCode := inFrame(t, ctx, frame, "the API's answer to a delete", `(async () => {
				const m = await import('/ui/js/gql.js');
				try { await m.gql('mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId } }', { id: '`+hookID+`' }); return 'accepted'; }
				catch (e) { return e.code; } })()`)
			if refusedCode != "FORBIDDEN" {
				t.Errorf("delete from a read-only session: %s", refusedCode)
			}
		})
	})

	fullPath, fullID := mint(map[string]any{"account": "acme"})
	t.Run("RefusedFrame", func(t *testing.T) {
		run(t, ctx, "open the other platform page", chromedp.Navigate(refused+"/?src="+url.QueryEscape(srv.URL+fullPath)))
		poll(t, ctx, "the frame to load (or be refused)", `window.frameLoaded === true`)
		var s struct{ PortalSession struct{ ExchangedAt *string } }
		admin.MustData(t, `query($id: String!) { portalSession(id: $id) { exchangedAt } }`, map[string]any{"id": fullID}, &s)
		if s.PortalSession.ExchangedAt != nil {
			t.Fatal("the portal ran inside a frame of an origin not allowed")
		}
		if !strings.Contains(strings.Join(b.Errors(), "\n"), `violates the following Content Security Policy directive: "frame-ancestors `+allowed+`"`) {
			t.Errorf("no frame-ancestors refusal reported; console errors: %q", b.Errors())
		}
		// The link itself was fine: only the framing was refused.
		run(t, ctx, "open the link itself", chromedp.Navigate("about:blank"), chromedp.Navigate(srv.URL+fullPath))
		poll(t, ctx, "signed in", `document.querySelector('#account-name')?.textContent === 'acme' && !!document.querySelector('#nav a[href="#/new"]').checkVisibility()`)
	})

	t.Run("ReusedLink", func(t *testing.T) {
		// A fresh load, not a fragment change of the page already open.
		run(t, ctx, "open a used link", chromedp.Navigate("about:blank"), chromedp.Navigate(srv.URL+fullPath))
		poll(t, ctx, "the reuse message", `document.querySelector('#portal-error')?.textContent.includes('already used')`)
		if href := evalString(t, ctx, `location.href`); strings.Contains(href, "whp_") {
			t.Errorf("a refused link stays in the address bar: %s", href)
		}
	})

	t.Run("ExpiredLink", func(t *testing.T) {
		path, _ := mint(map[string]any{"account": "acme", "ttlSeconds": 60})
		offset.Store(int64(2 * time.Minute))
		run(t, ctx, "open an expired link", chromedp.Navigate("about:blank"), chromedp.Navigate(srv.URL+path))
		poll(t, ctx, "the expiry message", `document.querySelector('#portal-error')?.textContent.includes('expired')`)
	})
}

func portOf(ln net.Listener) string {
	return ln.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):]
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(portalWait), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// portalFrame waits for the platform page's iframe and returns its node.
func portalFrame(t *testing.T, ctx context.Context) *chromedp.Node {
	t.Helper()
	poll(t, ctx, "the frame to load", `window.frameLoaded === true`)
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#portal")))
	if err != nil || len(nodes) != 1 {
		t.Fatalf("the portal frame: %v (%d nodes)", err, len(nodes))
	}
	return nodes[0]
}

// inFrame polls expr inside frame until it is truthy and returns its
// value as a string (use JSON.stringify for structures).
func inFrame(t *testing.T, ctx context.Context, frame *chromedp.Node, what, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[any](expr, chromedp.WithPollingInFrame(frame),
		chromedp.WithPollingTimeout(portalWait), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("in the portal frame, waiting for %s (%s): %v", what, expr, err)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
