package verification_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/verification"
)

func TestFetchTimeout(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
		},
	})
	f := loopbackFetcher()
	f.Timeout = 200 * time.Millisecond
	ok, reason := f.Fetch(context.Background(), s.callback(), testFile)
	if ok {
		t.Fatal("verified a server that never answered")
	}
	mustContain(t, reason,
		"GET "+s.URL+"/hooks/"+testFile.Name+" timed out after 200ms",
		"GET "+s.URL+"/"+testFile.Name+" not tried: the 200ms time limit was used up")
}

func TestFetchCancelled(t *testing.T) {
	s := newSite(t, nil)
	s.put(t, "hooks/"+testFile.Name, testFile.Token)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, reason := loopbackFetcher().Fetch(ctx, s.callback(), testFile)
	if ok {
		t.Fatal("verified after the caller cancelled")
	}
	mustContain(t, reason, "cancelled")
	if got := s.requests(); len(got) != 0 {
		t.Fatalf("requests %v after cancellation", got)
	}
}

func TestFetchRedirects(t *testing.T) {
	t.Run("SameHostFollowed", func(t *testing.T) {
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/static/"+testFile.Name, http.StatusMovedPermanently)
			},
		})
		s.put(t, "static/"+testFile.Name, testFile.Token)
		if ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile); !ok {
			t.Fatalf("not verified: %s", reason)
		}
		want := "/hooks/" + testFile.Name + " /static/" + testFile.Name
		if got := strings.Join(s.requests(), " "); got != want {
			t.Fatalf("requests %q, want %q", got, want)
		}
	})
	t.Run("OffHostRefused", func(t *testing.T) {
		other := newSite(t, nil)
		other.put(t, "hooks/"+testFile.Name, testFile.Token)
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/hooks/"+testFile.Name, http.StatusFound)
			},
		})
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("verified through a redirect to another host")
		}
		mustContain(t, reason,
			"GET "+s.URL+"/hooks/"+testFile.Name+" redirected to another host ("+other.URL+"/hooks/"+testFile.Name+"); redirects must stay on the same host",
			s.URL+"/"+testFile.Name+" returned 404")
		if got := other.requests(); len(got) != 0 {
			t.Fatalf("the other host was requested: %v", got)
		}
	})
	t.Run("TooMany", func(t *testing.T) {
		s := newSite(t, map[string]http.HandlerFunc{
			"/hooks/" + testFile.Name: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
			},
		})
		ok, reason := loopbackFetcher().Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("verified through a redirect loop")
		}
		mustContain(t, reason, "redirected more than 3 times")
		// The first request plus three followed redirects, then the root.
		if got := len(s.requests()); got != 5 {
			t.Fatalf("%d requests, want 5: %v", got, s.requests())
		}
	})
}

func TestFetchNetworkRefusals(t *testing.T) {
	t.Run("SSRFGuard", func(t *testing.T) {
		s := newSite(t, nil)
		s.put(t, "hooks/"+testFile.Name, testFile.Token)
		ok, reason := verification.New(&netguard.Guard{}).Fetch(context.Background(), s.callback(), testFile)
		if ok {
			t.Fatal("the guard let a loopback URL through")
		}
		mustContain(t, reason, "refused: callback URL resolves to a loopback address (127.0.0.1)")
		if got := s.requests(); len(got) != 0 {
			t.Fatalf("the refused server was requested: %v", got)
		}
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		ok, reason := loopbackFetcher().Fetch(context.Background(), "http://"+addr+"/hooks/receive.php", testFile)
		if ok {
			t.Fatal("verified with nothing listening")
		}
		mustContain(t, reason, "GET http://"+addr+"/hooks/"+testFile.Name+" could not connect (connection refused)")
	})
}

func TestFetchHTTPSToPlainServer(t *testing.T) {
	s := newSite(t, nil)
	callback := "https://" + s.Listener.Addr().String() + "/hooks/receive.php"
	ok, reason := loopbackFetcher().Fetch(context.Background(), callback, testFile)
	if ok {
		t.Fatal("verified over a failed TLS connection")
	}
	mustContain(t, reason, "failed: the server answered in plain HTTP, not HTTPS")
}

func TestFetchLongURLReasonFits(t *testing.T) {
	s := newSite(t, nil)
	// Many short segments: one long one would exceed the file system's
	// name limit and make the file server answer 500.
	callback := s.URL + strings.Repeat("/"+strings.Repeat("a", 99), 18) + "/receive.php"
	ok, reason := loopbackFetcher().Fetch(context.Background(), callback, testFile)
	if ok {
		t.Fatal("verified without a file")
	}
	// mustContain checks the length; both outcomes must survive the cut.
	mustContain(t, reason, "returned 404; GET "+s.URL+"/"+testFile.Name+" returned 404")
}
