package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/internal/browsertest"
)

// TestExplorer loads /graphiql from the real --dev server in Chromium that
// cannot resolve any host but localhost: GraphiQL must render from the
// binary's own assets, come with the demo key in its Headers tab for this
// loopback visitor, and run a query, without a request leaving the machine
// or a Content-Security-Policy violation.
func TestExplorer(t *testing.T) {
	browsertest.ChromiumPath(t)
	m := MustRunMain(t, t.TempDir())
	base := "http://" + m.HTTP.Addr()

	t.Run("Assets", func(t *testing.T) {
		for path, ct := range map[string]string{
			"/graphiql":             "text/html",
			"/graphiql/explorer.js": "text/javascript",
			"/graphiql/vendor/graphiql/graphiql.min.js":      "text/javascript",
			"/graphiql/vendor/graphiql/graphiql.min.css":     "text/css",
			"/graphiql/vendor/react/react.production.min.js": "text/javascript",
			"/graphiql/vendor/graphiql/LICENSE":              "text/plain",
		} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
				t.Errorf("%s: %d %q, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "http") {
				t.Errorf("%s: CSP %q", path, csp)
			}
		}
		if status, _ := httpGet(t, base+"/graphiql/vendor/"); status != http.StatusNotFound {
			t.Errorf("directory listing: %d", status)
		}
	})

	t.Run("Browser", func(t *testing.T) {
		b := browsertest.New(t, 60*time.Second, browsertest.Options{LoopbackOnly: true})
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(base+"/graphiql"),
			chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror"))); err != nil {
			t.Fatalf("GraphiQL did not render: %v\nrequests: %v\nconsole errors: %v", err, b.Requests(), b.Errors())
		}
		editors := `[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue())`
		waitFor(t, b, "the demo key in the Headers tab", editors+`.some(v => v.includes('"Bearer `+m.DemoKey()+`"'))`)
		if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
			t.Fatalf("run the query: %v", err)
		}
		result := `(document.querySelector('.graphiql-response .CodeMirror') || {CodeMirror: {getValue: () => ''}}).CodeMirror.getValue()`
		waitFor(t, b, "the viewer in the result", result+`.includes('"scope": "ACCOUNT"')`)
		saveScreenshot(t, b, "explorer-1280")

		// A subscription streams over SSE: webhooks created now show up.
		// Until the stream is established a creation may go unseen, so
		// create another until one is shown.
		setQuery := `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('subscription { webhookUpdated { name } }')`
		if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](setQuery)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
			t.Fatalf("start the subscription: %v", err)
		}
		demo := client(m, m.DemoKey())
		seen := false
		for i := 0; i < 20 && !seen; i++ {
			demo.MustCreateWebhook(t, fmt.Sprintf("sse-%d", i), "http://127.0.0.1:1/hooks/in")
			_, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](result+`.includes('"name": "sse-')`, chromedp.WithPollingTimeout(time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
			seen = err == nil
		}
		if !seen {
			got, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](result))
			t.Errorf("the subscription showed no created webhook; result pane: %q", got)
		}
		if off := b.OffMachine(); len(off) > 0 {
			t.Errorf("the explorer requested URLs off this machine: %v", off)
		}
		if errs := b.Errors(); len(errs) > 0 {
			t.Errorf("console errors (refused loads, CSP violations): %v", errs)
		}
	})
}

// saveScreenshot saves the page to screenshots/<name>.png at the module
// root (ignored by git), beside the Webhooks tab's screenshots.
func saveScreenshot(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls expr in the page until it is true, failing with what the
// page's editors hold.
func waitFor(t *testing.T, b *browsertest.Browser, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		got, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue().slice(0, 500))`))
		t.Fatalf("waiting for %s: %v\neditors: %q\nconsole errors: %v", what, err, got, b.Errors())
	}
}
