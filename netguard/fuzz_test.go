package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// noDNS is a resolver that refuses every lookup, so fuzzing never leaves
// the process.
type noDNS struct{}

func (noDNS) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("no DNS while fuzzing")
}

// FuzzCheckIP parses arbitrary text as an address and checks it. It must
// not panic, and the verdict must not depend on the form: an IPv4 address
// and its IPv4-mapped IPv6 form, or an address with and without a zone,
// are the same host and get the same answer.
func FuzzCheckIP(f *testing.F) {
	for _, seed := range []string{
		"127.0.0.1", "10.1.2.3", "169.254.169.254", "8.8.8.8", "::1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
		"2002:a00:1::", "fe80::1%eth0", "2606:4700::1111", "fd00:ec2::254", "0.0.0.0", "::", "1.2.3", "::ffff:1.2.3.4%z",
	} {
		f.Add(seed)
	}
	var g Guard
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		verdict := g.CheckIP(a)
		if verdict != nil && !errors.Is(verdict, ErrBlocked) {
			t.Fatalf("CheckIP(%s) = %v, not an ErrBlocked", a, verdict)
		}
		if (g.CheckIP(a.WithZone("")) == nil) != (verdict == nil) {
			t.Fatalf("%s and %s get different verdicts", a, a.WithZone(""))
		}
		if a.Is4() {
			mapped := netip.AddrFrom16(a.As16())
			if (g.CheckIP(mapped) == nil) != (verdict == nil) {
				t.Fatalf("%s allowed=%v but its mapped form %s allowed=%v", a, verdict == nil, mapped, g.CheckIP(mapped) == nil)
			}
		}
	})
}

// FuzzCheckURL runs the create-time URL check on arbitrary text with DNS
// off. It must not panic, and an IP-literal host it accepts must be one
// CheckIP accepts, so a URL never reaches an address the dialer refuses.
func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/x", "http://127.0.0.1/", "http://[::ffff:127.0.0.1]:8080/", "http://[fe80::1%25eth0]/",
		"https://8.8.8.8:0/", "https://8.8.8.8:65536/", "http://0x7f.1/", "http://2130706433/", "ftp://8.8.8.8/", "http:///",
	} {
		f.Add(seed)
	}
	g := &Guard{Resolver: noDNS{}}
	f.Fuzz(func(t *testing.T, raw string) {
		err := g.CheckURL(context.Background(), raw)
		if err != nil {
			return
		}
		host := raw[strings.Index(raw, "//")+2:]
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		host = strings.TrimSuffix(strings.TrimPrefix(strings.Split(host, "]")[0], "["), ".")
		if a, perr := netip.ParseAddr(strings.ReplaceAll(host, "%25", "%")); perr == nil && g.CheckIP(a) != nil {
			t.Fatalf("CheckURL accepted %q, whose address %s CheckIP refuses", raw, a)
		}
	})
}
