package verification_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/verification"
)

var testFile = domain.VerificationFile{
	Name:  "webhookd-0123456789abcdef0123456789abcdef.txt",
	Token: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}

// site is a receiver's web server: files from a temporary directory, plus
// optional extra routes, with a log of every path requested.
type site struct {
	*httptest.Server
	root string

	mu   sync.Mutex
	seen []string
}

func newSite(t *testing.T, routes map[string]http.HandlerFunc) *site {
	t.Helper()
	s := &site{root: t.TempDir()}
	files := http.FileServer(http.Dir(s.root))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.URL.Path)
		s.mu.Unlock()
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// put writes a file under the site's document root.
func (s *site) put(t *testing.T, path, content string) {
	t.Helper()
	full := filepath.Join(s.root, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *site) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *site) callback() string { return s.URL + "/hooks/receive.php" }

func loopbackFetcher() *verification.Fetcher {
	return verification.New(&netguard.Guard{AllowCIDRs: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}})
}

func mustContain(t *testing.T, reason string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(reason, p) {
			t.Errorf("reason %q does not contain %q", reason, p)
		}
	}
	if strings.Contains(reason, testFile.Token) {
		t.Errorf("reason %q reveals the token", reason)
	}
	if n := len([]rune(reason)); n > domain.MaxReasonLength {
		t.Errorf("reason is %d characters, over %d", n, domain.MaxReasonLength)
	}
}

func TestFetchFound(t *testing.T) {
	t.Run("InCallbackDirectory", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, "hooks/"+testFile.Name, testFile.Token)
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if !ok {
			t.Fatalf("not verified: %s", reason)
		}
		if got := s.requests(); len(got) != 1 || got[0] != "/hooks/"+testFile.Name {
			t.Fatalf("requests %v, want only the directory URL", got)
		}
	})
	t.Run("AtSiteRootOnly", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, testFile.Name, testFile.Token)
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if !ok {
			t.Fatalf("not verified: %s", reason)
		}
		want := []string{"/hooks/" + testFile.Name, "/" + testFile.Name}
		if got := s.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("requests %v, want %v (directory first)", got, want)
		}
	})
	t.Run("SurroundingWhitespace", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, "hooks/"+testFile.Name, "  \n"+testFile.Token+"\r\n\n")
		if ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile); !ok {
			t.Fatalf("not verified: %s", reason)
		}
	})
	t.Run("ExactlyMaxBytes", func(t *testing.T) {
		s := newSite(t, nil)
		body := testFile.Token + strings.Repeat(" ", verification.DefaultMaxBytes-len(testFile.Token))
		s.put(t, "hooks/"+testFile.Name, body)
		if ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile); !ok {
			t.Fatalf("a file of exactly %d bytes was refused: %s", len(body), reason)
		}
	})
	t.Run("UserAgent", func(t *testing.T) {
		var ua string
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				ua = r.UserAgent()
				w.Write([]byte(testFile.Token))
			},
		})
		if ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile); !ok {
			t.Fatalf("not verified: %s", reason)
		}
		if ua != verification.DefaultUserAgent {
			t.Fatalf("User-Agent %q, want %q", ua, verification.DefaultUserAgent)
		}
	})
}

func TestFetchNotFound(t *testing.T) {
	t.Run("Missing", func(t *testing.T) {
		s := newSite(t, nil)
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("verified without a file")
		}
		want := "GET " + s.URL + "/hooks/" + testFile.Name + " returned 404; GET " + s.URL + "/" + testFile.Name + " returned 404"
		if reason != want {
			t.Fatalf("reason %q, want %q", reason, want)
		}
	})
	t.Run("WrongContent", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, "hooks/"+testFile.Name, "not-the-token")
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("verified with the wrong content")
		}
		mustContain(t, reason, s.URL+"/hooks/"+testFile.Name+": content did not match", s.URL+"/"+testFile.Name+" returned 404")
	})
	t.Run("HTMLCatchAll", func(t *testing.T) {
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("<!doctype html><title>Home</title>"))
			},
		})
		_, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		mustContain(t, reason, "content did not match (got an HTML page")
	})
	t.Run("TooLarge", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, "hooks/"+testFile.Name, testFile.Token+strings.Repeat("\n", 2000))
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("verified a file over the size limit")
		}
		mustContain(t, reason, s.URL+"/hooks/"+testFile.Name+": file is larger than 1 KiB")
	})
	t.Run("ServerError", func(t *testing.T) {
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, testFile.Token, http.StatusInternalServerError)
			},
		})
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("a 500 response verified the webhook")
		}
		mustContain(t, reason, "/hooks/"+testFile.Name+" returned 500")
	})
	t.Run("NoFileIssued", func(t *testing.T) {
		ok, reason := loopbackFetcher().Fetch(context.Background(), "https://example.com/hook", domain.VerificationFile{})
		if ok || reason == "" {
			t.Fatalf("ok %v reason %q", ok, reason)
		}
	})
	t.Run("InvalidCallbackURL", func(t *testing.T) {
		ok, reason := loopbackFetcher().Fetch(context.Background(), "ftp://example.com/hook", testFile)
		if ok || !strings.Contains(reason, "callback URL is not valid") {
			t.Fatalf("ok %v reason %q", ok, reason)
		}
	})
}
