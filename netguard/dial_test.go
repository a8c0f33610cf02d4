package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/netguard"
)

// fakeResolver answers each lookup of a host with the next answer in its
// list, repeating the last one, as a rebinding DNS server would.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups int
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	list, ok := f.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	ans := list[0]
	if len(list) > 1 {
		f.answers[host] = list[1:]
	}
	return ans, nil
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// TestRebindingIsDefeated: the name resolves to an allowed address when
// the URL is checked, then to a refused one. Every dial re-resolves and
// re-checks, and connects to exactly the IP literal it checked.
func TestRebindingIsDefeated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	res := &fakeResolver{answers: map[string][][]netip.Addr{
		"hooks.example.com": {addrs("127.0.0.1"), addrs("127.0.0.1"), addrs("10.0.0.7")},
	}}
	var dialed []string
	g := &netguard.Guard{AllowCIDRs: loopbackOnly, Resolver: res,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = append(dialed, addr)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	target := "http://hooks.example.com:" + port + "/hook"

	if err := g.CheckURL(context.Background(), target); err != nil {
		t.Fatalf("CheckURL on first answer: %v", err)
	}
	c := netguard.NewHTTPClient(g, 5*time.Second)
	resp, err := c.Get(target)
	if err != nil {
		t.Fatalf("GET on second answer: %v", err)
	}
	resp.Body.Close()
	if want := "127.0.0.1:" + port; len(dialed) != 1 || dialed[0] != want {
		t.Fatalf("dialed %v, want exactly [%s]: the checked literal", dialed, want)
	}

	// The rebinding answer arrives on the next new connection.
	c.CloseIdleConnections()
	_, err = c.Get(target)
	var b *netguard.BlockedError
	if !errors.As(err, &b) || b.Addr.String() != "10.0.0.7" || b.Subject != "hooks.example.com" {
		t.Fatalf("GET after rebinding = %v, want refusal of 10.0.0.7", err)
	}
	if len(dialed) != 1 {
		t.Fatalf("a refused address was dialed: %v", dialed)
	}
	if res.lookups != 3 {
		t.Fatalf("%d lookups, want 3 (one per check or dial)", res.lookups)
	}
}

func TestDialRefusesIfAnyAddressIsRefused(t *testing.T) {
	res := &fakeResolver{answers: map[string][][]netip.Addr{
		"mixed.example.com": {addrs("93.184.216.34", "169.254.169.254")},
	}}
	dials := 0
	g := &netguard.Guard{Resolver: res, Dial: func(context.Context, string, string) (net.Conn, error) {
		dials++
		return nil, errors.New("unreachable in test")
	}}
	_, err := g.DialContext(context.Background(), "tcp", "mixed.example.com:443")
	if !errors.Is(err, netguard.ErrBlocked) || !strings.Contains(err.Error(), "cloud metadata") {
		t.Fatalf("DialContext = %v", err)
	}
	if dials != 0 {
		t.Fatalf("dialed %d times", dials)
	}
}

func TestDialTriesEachCheckedAddress(t *testing.T) {
	res := &fakeResolver{answers: map[string][][]netip.Addr{
		"two.example.com": {addrs("93.184.216.34", "::ffff:93.184.216.35")},
	}}
	var dialed []string
	g := &netguard.Guard{Resolver: res, Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		return nil, fmt.Errorf("refused by test")
	}}
	_, err := g.DialContext(context.Background(), "tcp", "two.example.com:443")
	if err == nil || errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("DialContext = %v, want the dial failures", err)
	}
	if want := []string{"93.184.216.34:443", "93.184.216.35:443"}; fmt.Sprint(dialed) != fmt.Sprint(want) {
		t.Fatalf("dialed %v, want %v (mapped answers dialled as IPv4)", dialed, want)
	}
}

func TestCheckURL(t *testing.T) {
	res := &fakeResolver{answers: map[string][][]netip.Addr{
		"public.example.com":   {addrs("93.184.216.34")},
		"internal.example.com": {addrs("10.0.0.1")},
		"meta.example.com":     {addrs("fd00:ec2::254")},
	}}
	g := &netguard.Guard{Resolver: res}
	cases := []struct{ url, want string }{
		{"https://public.example.com/hooks", ""},
		{"http://public.example.com:8080/hooks", ""},
		{"https://public.example.com./hooks", ""},
		{"https://internal.example.com/x", "callback URL resolves to a private address (10.0.0.1)"},
		{"https://meta.example.com/x", "callback URL resolves to a cloud metadata address (fd00:ec2::254)"},
		{"http://127.0.0.1:9000/", "callback URL resolves to a loopback address (127.0.0.1)"},
		{"http://[::ffff:10.1.2.3]/", "callback URL resolves to a private (IPv4-mapped) address (10.1.2.3)"},
		{"https://nowhere.example.com/", "callback URL host nowhere.example.com could not be resolved: no such host"},
		{"ftp://public.example.com/", "callback URL must start with http:// or https://"},
		{"https:///path", "callback URL has no host"},
		{"https://public.example.com:99999/", `callback URL has an invalid port "99999"`},
		{"://bad", "callback URL is not a valid URL"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			err := g.CheckURL(context.Background(), c.url)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("CheckURL = %q, want %q", got, c.want)
			}
		})
	}
}

// TestLoopbackServer uses the real system resolver and dialer: a local
// receiver is unreachable by default and reachable once 127.0.0.0/8 is on
// the allow-list, as in development.
func TestLoopbackServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/landed", http.StatusFound)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	localhostURL := "http://localhost:" + u.Port() + "/"

	t.Run("RefusedByDefault", func(t *testing.T) {
		c := netguard.NewHTTPClient(&netguard.Guard{}, 5*time.Second)
		for _, target := range []string{srv.URL, localhostURL} {
			_, err := c.Get(target)
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Errorf("GET %s = %v, want refusal", target, err)
			}
		}
	})
	t.Run("AllowListed", func(t *testing.T) {
		g := &netguard.Guard{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
		c := netguard.NewHTTPClient(g, 5*time.Second)
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello" {
			t.Fatalf("body %q", body)
		}
		if err := g.CheckURL(context.Background(), localhostURL); err != nil {
			t.Fatalf("CheckURL localhost: %v", err)
		}
	})
	t.Run("RedirectNotFollowed", func(t *testing.T) {
		g := &netguard.Guard{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		resp, err := netguard.NewHTTPClient(g, 5*time.Second).Get(srv.URL + "/redirect")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/landed" {
			t.Fatalf("status %d location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestClientIgnoresEnvironmentProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://10.0.0.1:3128")
	t.Setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
	c := netguard.NewHTTPClient(&netguard.Guard{}, time.Second)
	if tr := c.Transport.(*http.Transport); tr.Proxy != nil {
		t.Fatal("transport has a proxy function")
	}
}
