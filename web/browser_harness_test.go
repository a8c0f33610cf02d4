package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/browsertest"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

// uiServer is webhookd's HTTP surface as the UI uses it (/graphql, the
// verification-file and delivery-export routes, and the UI itself, mounted
// as the serve command mounts them) over a real core with a running
// dispatcher, and an account key to sign in with.
type uiServer struct {
	env       *testenv.Env
	srv       *gqltest.Server
	principal app.Principal
	key       string
}

func newUIServer(t *testing.T) *uiServer {
	t.Helper()
	srv := gqltest.NewServer(t) // httpserver.Server with the routes serve mounts
	srv.Env.StartDispatcher(t)
	p, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	return &uiServer{env: srv.Env, srv: srv, principal: p, key: key}
}

// chromiumPath finds Debian's chromium, or skips the test.
func chromiumPath(t *testing.T) string { return browsertest.ChromiumPath(t) }

// browserCtx is a headless Chromium tab that lives until the test ends,
// or until timeout; uncaught JavaScript exceptions fail the test (see
// internal/browsertest, shared with the explorer's test).
func browserCtx(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	return browsertest.New(t, timeout, browsertest.Options{}).Ctx
}

// do runs browser actions, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy in the page, without fixed sleeps.
func waitJS(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText.slice(0, 2000)`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, page)
	}
}

// text returns the trimmed text of the first visible element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// downloadsTo makes the browser save downloads into a fresh directory,
// which it returns, so a test can tell each download from earlier ones.
func downloadsTo(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return dir
}

// waitDownload waits for one finished download in dir.
func waitDownload(t *testing.T, dir string) (name, content string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".crdownload") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && len(b) > 0 {
				return e.Name(), string(b)
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a directory: there is no event to wait on
	}
	t.Fatalf("no download in %s", dir)
	return "", ""
}

// visible reports whether the element matching sel is rendered (not
// hidden by an attribute or a style), per the browser's checkVisibility.
func visible(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)?.checkVisibility()`, sel))
}

// signIn loads the UI and signs in with key.
func signIn(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#api-key")),
		// Enter submits: the form works from the keyboard alone.
		chromedp.SendKeys(chromedp.CSS("#api-key"), key+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#account-name")),
	)
}

// screenshot saves the full page at width to screenshots/<name>-<width>.png
// at the module root, then restores the desktop width.
func screenshot(t *testing.T, ctx context.Context, name string, width int) {
	t.Helper()
	dir := filepath.Join("..", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "resize to "+strconv.Itoa(width), chromedp.EmulateViewport(int64(width), 900))
	waitJS(t, ctx, "the new width", `window.innerWidth === `+strconv.Itoa(width), 5*time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	do(t, ctx, "restore the width", chromedp.EmulateViewport(1280, 900))
	if err := os.WriteFile(filepath.Join(dir, name+"-"+strconv.Itoa(width)+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
