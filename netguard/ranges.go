package netguard

import "net/netip"

// blockedRange is one refused prefix and the words a user reads when an
// address falls in it.
type blockedRange struct {
	prefix netip.Prefix
	class  string
}

func r(cidr, class string) blockedRange {
	return blockedRange{prefix: netip.MustParsePrefix(cidr), class: class}
}

// Refused IPv4 ranges, most specific first so the message names the
// narrowest reason (metadata before link-local, broadcast before reserved).
var blockedV4 = []blockedRange{
	r("169.254.169.254/32", "cloud metadata"),
	r("255.255.255.255/32", "broadcast"),
	r("0.0.0.0/8", "unspecified"),
	r("10.0.0.0/8", "private"),
	r("100.64.0.0/10", "shared (carrier-grade NAT)"),
	r("127.0.0.0/8", "loopback"),
	r("169.254.0.0/16", "link-local"),
	r("172.16.0.0/12", "private"),
	r("192.0.0.0/24", "reserved"),
	r("192.0.2.0/24", "documentation"),
	r("192.88.99.0/24", "reserved"), // deprecated 6to4 relay anycast
	r("192.168.0.0/16", "private"),
	r("198.18.0.0/15", "benchmarking"),
	r("198.51.100.0/24", "documentation"),
	r("203.0.113.0/24", "documentation"),
	r("224.0.0.0/4", "multicast"),
	r("240.0.0.0/4", "reserved"),
}

// Refused IPv6 ranges. Forms that embed an IPv4 address (mapped, NAT64,
// 6to4) are not listed: check unwraps them and judges the IPv4 inside.
var blockedV6 = []blockedRange{
	r("fd00:ec2::254/128", "cloud metadata"),
	r("::/128", "unspecified"),
	r("::1/128", "loopback"),
	r("::/96", "reserved (IPv4-compatible)"), // deprecated; never routable
	r("64:ff9b:1::/48", "private"),           // local-use NAT64, RFC 8215
	r("100::/64", "reserved"),                // discard-only
	r("2001::/32", "reserved (Teredo)"),      // tunnels to arbitrary IPv4 hosts
	r("2001:2::/48", "benchmarking"),
	r("2001:10::/28", "reserved"),
	r("2001:20::/28", "reserved"),
	r("2001:db8::/32", "documentation"),
	r("3fff::/20", "documentation"), // RFC 9637
	r("fc00::/7", "private"),
	r("fe80::/10", "link-local"),
	r("fec0::/10", "private"), // deprecated site-local
	r("ff00::/8", "multicast"),
}

var (
	mappedV4  = netip.MustParsePrefix("::ffff:0:0/96")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	// Only global unicast IPv6 is routable on the internet; anything
	// outside it that no rule above names is refused as reserved.
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// classify returns why a is refused ("" when it is not) and the address
// the reason is about: for an IPv6 form embedding IPv4, the IPv4 address.
func classify(a netip.Addr) (class string, about netip.Addr) {
	a = a.WithZone("")
	if a.Is4() {
		for _, b := range blockedV4 {
			if b.prefix.Contains(a) {
				return b.class, a
			}
		}
		return "", a
	}
	if embedded, via, ok := embeddedV4(a); ok {
		if c, inner := classify(embedded); c != "" {
			return c + " (" + via + ")", inner
		}
		return "", a
	}
	for _, b := range blockedV6 {
		if b.prefix.Contains(a) {
			return b.class, a
		}
	}
	if !globalUnicast.Contains(a) {
		return "reserved", a
	}
	return "", a
}

// embeddedV4 extracts the IPv4 address carried by an IPv4-mapped, NAT64
// (well-known prefix) or 6to4 IPv6 address, because reaching such an
// address reaches the IPv4 host inside it.
func embeddedV4(a netip.Addr) (v4 netip.Addr, via string, ok bool) {
	b := a.As16()
	switch {
	case mappedV4.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), "IPv4-mapped", true
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), "NAT64", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4", true
	}
	return netip.Addr{}, "", false
}
