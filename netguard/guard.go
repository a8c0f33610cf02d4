// Package netguard keeps webhookd's outgoing requests away from internal
// networks (SSRF). Every connection webhookd makes to a customer-supplied
// URL goes through a Guard: it resolves the host itself, refuses loopback,
// private, link-local, CGNAT, multicast, documentation, reserved and cloud
// metadata addresses (including their IPv6 forms), and then dials the
// checked IP literal, so a DNS answer that changes between check and
// connect (rebinding) cannot slip through.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrBlocked is matched (errors.Is) by every refusal.
var ErrBlocked = errors.New("netguard: address refused")

// BlockedError says which address was refused and why, in words a user
// can act on.
type BlockedError struct {
	// Subject is what was being checked: a host name, "callback URL", or
	// empty when an address was checked directly.
	Subject string
	// Addr is the refused address (for an IPv6 form embedding IPv4, the
	// IPv4 address inside).
	Addr netip.Addr
	// Class names the range: "private", "loopback", "cloud metadata", ...
	Class string
}

func (e *BlockedError) Error() string {
	if e.Subject == "" {
		return fmt.Sprintf("%s is a %s address", e.Addr, e.Class)
	}
	return fmt.Sprintf("%s resolves to a %s address (%s)", e.Subject, e.Class, e.Addr)
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Resolver looks up a host's addresses. *net.Resolver implements it; tests
// pass a fake to simulate rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which addresses webhookd may connect to. Its zero value
// refuses every non-public address and uses the system resolver. Set its
// fields before first use; it is then safe for concurrent use.
type Guard struct {
	// AllowCIDRs are operator exceptions checked before any refusal, for
	// development and tests (127.0.0.0/8 to reach a local receiver) or a
	// deliberate internal target. Keep it empty in production.
	AllowCIDRs []netip.Prefix
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
	// Dial connects to an already-checked "ip:port". It defaults to a
	// net.Dialer with a 10 s connect timeout; tests replace it to observe
	// which address is dialled.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// CheckIP returns nil when a may be connected to, or a *BlockedError.
func (g *Guard) CheckIP(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	}
	if g.allowed(a) {
		return nil
	}
	if class, about := classify(a); class != "" {
		return &BlockedError{Addr: about, Class: class}
	}
	return nil
}

// allowed reports whether the operator allow-list covers a, in either its
// IPv6 or its unmapped IPv4 form.
func (g *Guard) allowed(a netip.Addr) bool {
	a = a.WithZone("")
	for _, p := range g.AllowCIDRs {
		if p.Contains(a) || p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

var defaultDialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

func (g *Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.Dial != nil {
		return g.Dial(ctx, network, addr)
	}
	return defaultDialer.DialContext(ctx, network, addr)
}
