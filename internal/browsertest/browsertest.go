// Package browsertest drives headless Chromium (Debian's chromium package)
// through the DevTools protocol for tests of pages webhookd serves: the
// Webhooks tab and the GraphQL explorer.
package browsertest

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Debian's chromium, or skips the test.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests need Debian's chromium package (apt-get install chromium)")
	return ""
}

// Options change how the browser starts.
type Options struct {
	// LoopbackOnly makes every host name but localhost unresolvable, so a
	// page that needs the internet (a CDN) fails as it would offline.
	LoopbackOnly bool
}

// Browser is one headless Chromium tab and what it saw.
type Browser struct {
	// Ctx is the tab; it ends when the test does, or after the timeout.
	Ctx context.Context

	mu       sync.Mutex
	errors   []string
	requests []string
}

// New starts a headless Chromium tab that lives until the test ends, or
// until timeout. Uncaught JavaScript exceptions fail the test: a broken
// module would otherwise only show as a blank or frozen page and a
// timeout. Console errors are logged and kept (Errors), and so is the URL
// of every request the page makes (Requests).
func New(t testing.TB, timeout time.Duration, o Options) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	if o.LoopbackOnly {
		opts = append(opts, chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first call starts the browser; it must not carry the timeout,
	// which would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		t.Fatalf("start chromium: %v", err)
	}
	b := &Browser{}
	var exceptions []string
	var wg sync.WaitGroup
	wg.Add(2)
	messages := chromedp.Console(ctx)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleException:
				b.mu.Lock()
				exceptions = append(exceptions, m.Text)
				b.mu.Unlock()
			case chromedp.ConsoleError:
				t.Logf("browser console error: %s", m.Text)
				b.mu.Lock()
				b.errors = append(b.errors, m.Text)
				b.mu.Unlock()
			}
		}
	}()
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		defer wg.Done()
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	b.Ctx = tctx
	t.Cleanup(func() {
		tcancel()
		cancel()
		acancel()
		wg.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("uncaught JavaScript exception: %s", e)
		}
	})
	return b
}

// Errors returns the console errors so far, such as refused loads and
// Content-Security-Policy violations.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Requests returns the URLs the page has requested so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// OffMachine returns the requested URLs that leave this machine: anything
// but loopback hosts and in-page schemes (data:, blob:, about:).
func (b *Browser) OffMachine() []string {
	var out []string
	for _, raw := range b.Requests() {
		u, err := url.Parse(raw)
		if err != nil {
			out = append(out, raw)
			continue
		}
		switch u.Scheme {
		case "data", "blob", "about", "chrome", "devtools":
			continue
		}
		h := u.Hostname()
		if h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			continue
		}
		out = append(out, raw)
	}
	return out
}
