package netguard_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/webhookd/webhookd/netguard"
)

func TestCheckIP(t *testing.T) {
	cases := []struct {
		addr  string
		class string // "" means allowed
		about string // the address named in the error, when not addr
	}{
		// Public addresses pass.
		{addr: "93.184.216.34"},
		{addr: "8.8.8.8"},
		{addr: "1.1.1.1"},
		{addr: "2606:4700:4700::1111"},
		{addr: "::ffff:8.8.8.8"},
		{addr: "64:ff9b::808:808"}, // NAT64 of 8.8.8.8
		{addr: "2002:808:808::1"},  // 6to4 of 8.8.8.8
		{addr: "172.32.0.1"},       // just outside 172.16/12
		{addr: "100.128.0.1"},      // just outside 100.64/10
		{addr: "198.20.0.1"},       // just outside 198.18/15
		{addr: "169.255.0.1"},      // just outside link-local
		// IPv4 refusals.
		{addr: "0.0.0.0", class: "unspecified"},
		{addr: "0.1.2.3", class: "unspecified"},
		{addr: "10.0.0.1", class: "private"},
		{addr: "10.255.255.255", class: "private"},
		{addr: "172.16.0.1", class: "private"},
		{addr: "172.31.255.254", class: "private"},
		{addr: "192.168.1.1", class: "private"},
		{addr: "100.64.0.1", class: "shared (carrier-grade NAT)"},
		{addr: "100.127.255.254", class: "shared (carrier-grade NAT)"},
		{addr: "127.0.0.1", class: "loopback"},
		{addr: "127.255.0.9", class: "loopback"},
		{addr: "169.254.169.254", class: "cloud metadata"},
		{addr: "169.254.1.1", class: "link-local"},
		{addr: "192.0.0.8", class: "reserved"},
		{addr: "192.0.2.10", class: "documentation"},
		{addr: "198.51.100.7", class: "documentation"},
		{addr: "203.0.113.200", class: "documentation"},
		{addr: "198.18.0.1", class: "benchmarking"},
		{addr: "198.19.255.1", class: "benchmarking"},
		{addr: "224.0.0.1", class: "multicast"},
		{addr: "239.255.255.250", class: "multicast"},
		{addr: "240.0.0.1", class: "reserved"},
		{addr: "255.255.255.255", class: "broadcast"},
		// IPv6 refusals.
		{addr: "::", class: "unspecified"},
		{addr: "::1", class: "loopback"},
		{addr: "fc00::1", class: "private"},
		{addr: "fd12:3456::1", class: "private"},
		{addr: "fd00:ec2::254", class: "cloud metadata"},
		{addr: "fe80::1", class: "link-local"},
		{addr: "fe80::1%eth0", class: "link-local"},
		{addr: "fec0::1", class: "private"},
		{addr: "ff02::1", class: "multicast"},
		{addr: "2001:db8::1", class: "documentation"},
		{addr: "3fff::1", class: "documentation"},
		{addr: "2001:2::1", class: "benchmarking"},
		{addr: "2001:0:4136:e378:8000:63bf:3fff:fdd2", class: "reserved (Teredo)"},
		{addr: "100::1", class: "reserved"},
		{addr: "64:ff9b:1::a00:1", class: "private"},
		{addr: "4000::1", class: "reserved"}, // outside global unicast
		// IPv6 forms embedding a refused IPv4 address.
		{addr: "::ffff:127.0.0.1", class: "loopback (IPv4-mapped)", about: "127.0.0.1"},
		{addr: "::ffff:10.0.0.1", class: "private (IPv4-mapped)", about: "10.0.0.1"},
		{addr: "::ffff:169.254.169.254", class: "cloud metadata (IPv4-mapped)", about: "169.254.169.254"},
		{addr: "::127.0.0.1", class: "reserved (IPv4-compatible)"},
		{addr: "::8.8.8.8", class: "reserved (IPv4-compatible)"},
		{addr: "64:ff9b::10.0.0.1", class: "private (NAT64)", about: "10.0.0.1"},
		{addr: "64:ff9b::7f00:1", class: "loopback (NAT64)", about: "127.0.0.1"},
		{addr: "2002:a00:1::1", class: "private (6to4)", about: "10.0.0.1"},
		{addr: "2002:a9fe:a9fe::", class: "cloud metadata (6to4)", about: "169.254.169.254"},
		{addr: "2002:c0a8:101::1", class: "private (6to4)", about: "192.168.1.1"},
	}
	g := &netguard.Guard{}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			err := g.CheckIP(netip.MustParseAddr(c.addr))
			if c.class == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var b *netguard.BlockedError
			if !errors.As(err, &b) || !errors.Is(err, netguard.ErrBlocked) {
				t.Fatalf("CheckIP = %v, want a %s refusal", err, c.class)
			}
			about := c.about
			if about == "" {
				about = netip.MustParseAddr(c.addr).WithZone("").String()
			}
			if b.Class != c.class || b.Addr.String() != about {
				t.Fatalf("refused as %q about %s, want %q about %s", b.Class, b.Addr, c.class, about)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	g := &netguard.Guard{AllowCIDRs: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("fd00:1234::/32"),
	}}
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "fd00:1234::5"} {
		if err := g.CheckIP(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"10.0.0.1", "::1", "169.254.169.254", "fd00:1235::5"} {
		if err := g.CheckIP(netip.MustParseAddr(a)); !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("%s: %v, want refusal", a, err)
		}
	}
}

func TestCheckIPInvalid(t *testing.T) {
	if err := (&netguard.Guard{}).CheckIP(netip.Addr{}); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("zero Addr: %v", err)
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	err := (&netguard.Guard{}).CheckIP(netip.MustParseAddr("10.0.0.1"))
	if got, want := err.Error(), "10.0.0.1 is a private address"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
