package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// DialContext is a drop-in http.Transport.DialContext. It resolves the host,
// refuses the connection if ANY resolved address is refused, then dials the
// checked addresses themselves, in order, until one connects. Because it
// dials IP literals, nothing resolves the name again between check and
// connect: the checked IP is the connected IP, which defeats DNS rebinding.
//
// Refusing on any bad address, rather than skipping to a good one, is
// deliberate: a name that mixes public and internal records is either
// misconfigured or an attack, and the same rule at create time (CheckURL)
// and at send time keeps the two from disagreeing.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %s: %w", addr, err)
	}
	ips, err := g.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ip := range ips {
		conn, err := g.dial(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("netguard: dial %s: %w", addr, errors.Join(errs...))
}

// resolve returns the addresses of host, all checked. An IP literal is
// checked without a lookup. Refusals are *BlockedError naming the host.
func (g *Guard) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := g.CheckIP(ip); err != nil {
			return nil, err
		}
		return []netip.Addr{ip.Unmap()}, nil
	}
	lookup := "ip"
	switch network {
	case "tcp4", "udp4":
		lookup = "ip4"
	case "tcp6", "udp6":
		lookup = "ip6"
	}
	ips, err := g.resolver().LookupNetIP(ctx, lookup, host)
	if err != nil {
		return nil, fmt.Errorf("netguard: resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("netguard: resolve %s: no addresses", host)
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if err := g.CheckIP(ip); err != nil {
			var b *BlockedError
			if errors.As(err, &b) {
				b.Subject = host
			}
			return nil, err
		}
		// Dial the unmapped form so an IPv4-mapped answer uses IPv4.
		out = append(out, ip.Unmap())
	}
	return out, nil
}

// CheckURL validates a callback URL when a webhook is created or changed:
// http or https, a host, a valid port, and a host whose every address is
// allowed. Its errors are written for the person who typed the URL, such as
// "callback URL resolves to a private address (10.0.0.1)". Passing here
// does not replace the dial-time check, since DNS can change afterwards.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("callback URL is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("callback URL must start with http:// or https://")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("callback URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("callback URL has an invalid port %q", p)
		}
	}
	_, err = g.resolve(ctx, "tcp", strings.TrimSuffix(host, "."))
	var b *BlockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &b):
		b.Subject = "callback URL"
		return b
	case ctx.Err() != nil:
		return fmt.Errorf("callback URL host %s could not be resolved in time", host)
	default:
		return fmt.Errorf("callback URL host %s could not be resolved: %w", host, unwrapDNS(err))
	}
}

// unwrapDNS keeps the resolver's own short reason ("no such host") and
// drops the package prefix, for a message shown to users.
func unwrapDNS(err error) error {
	var d *net.DNSError
	if errors.As(err, &d) {
		return errors.New(d.Err)
	}
	return err
}
