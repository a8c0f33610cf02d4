package web_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/web"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandler(t *testing.T) {
	h := web.Handler(web.Options{})
	t.Run("IndexAtRoot", func(t *testing.T) {
		r := get(t, h, http.MethodGet, "/")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d", r.StatusCode)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q", ct)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if b := body(t, r); !strings.Contains(b, `src="/ui/js/app.js"`) {
			t.Errorf("index does not load the app module:\n%s", b)
		}
	})
	t.Run("Assets", func(t *testing.T) {
		for path, ct := range map[string]string{"/ui/js/app.js": "text/javascript", "/ui/app.css": "text/css"} {
			r := get(t, h, http.MethodGet, path)
			if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ct) {
				t.Errorf("%s: status %d, Content-Type %q", path, r.StatusCode, r.Header.Get("Content-Type"))
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", path)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, path := range []string{"/nope", "/ui/js/", "/ui/", "/ui/missing.js"} {
			if r := get(t, h, http.MethodGet, path); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, r.StatusCode)
			}
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		if r := get(t, h, http.MethodPost, "/"); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /: status %d", r.StatusCode)
		}
	})
}

func TestConfig(t *testing.T) {
	readFrom := func(t *testing.T, h http.Handler, remote string) map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/ui/config.json", nil)
		req.RemoteAddr = remote
		h.ServeHTTP(rec, req)
		r := rec.Result()
		if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("status %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
		}
		var c map[string]any
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	read := func(t *testing.T, h http.Handler) map[string]any { return readFrom(t, h, "127.0.0.1:50000") }
	t.Run("NoDevKey", func(t *testing.T) {
		for _, opts := range []web.Options{{}, {DevKey: func() string { return "" }}} {
			if c := read(t, web.Handler(opts)); len(c) != 0 {
				t.Errorf("config %v, want {}", c)
			}
		}
	})
	t.Run("DevKey", func(t *testing.T) {
		key := ""
		h := web.Handler(web.Options{DevKey: func() string { return key }})
		key = "whk_demo" // set after mounting, as --dev does
		if c := read(t, h); c["devKey"] != "whk_demo" {
			t.Errorf("config %v", c)
		}
		if c := readFrom(t, h, "[::1]:50000"); c["devKey"] != "whk_demo" {
			t.Errorf("config for ::1: %v", c)
		}
	})
	t.Run("DevKeyNotForTheNetwork", func(t *testing.T) {
		h := web.Handler(web.Options{DevKey: func() string { return "whk_demo" }})
		for _, remote := range []string{"203.0.113.7:443", "10.0.0.2:5000", "[2001:db8::1]:80", "[::ffff:192.0.2.1]:80", "garbage"} {
			if c := readFrom(t, h, remote); len(c) != 0 {
				t.Errorf("config for %s: %v, want {}", remote, c)
			}
		}
	})
}

// TestModuleImports checks that every relative import between the
// embedded modules names an embedded file: a typo would otherwise only
// show as a blank page in a browser.
func TestModuleImports(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^import\s+(?:[^'"]*\s+from\s+)?['"](\./[^'"]+)['"]`)
	files, err := fs.Glob(web.Assets, "assets/js/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no modules embedded: %v", err)
	}
	for _, f := range files {
		src, err := fs.ReadFile(web.Assets, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imp.FindAllStringSubmatch(string(src), -1) {
			target := "assets/js/" + strings.TrimPrefix(m[1], "./")
			if _, err := fs.Stat(web.Assets, target); err != nil {
				t.Errorf("%s imports %s, which is not embedded", f, m[1])
			}
		}
	}
}
