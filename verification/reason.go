package verification

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/webhookd/webhookd/netguard"
)

// Limits on what a reason quotes, so the whole reason fits the 500
// characters an event records, even with two long URLs in it.
const (
	maxReasonRunes = 500
	maxURLRunes    = 160
)

// describeError turns a failed request or body read into the rest of a
// sentence after "GET <url>", in words an account holder can act on.
func (f *Fetcher) describeError(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		// Whatever the transport said, the real cause is the deadline or
		// the caller going away.
		if errors.Is(context.Cause(ctx), errTimedOut) {
			return "timed out after " + f.timeout().String()
		}
		return "was stopped: the check was cancelled"
	}
	var (
		blocked  *netguard.BlockedError
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		opErr    *net.OpError
	)
	switch {
	case errors.As(err, &blocked):
		return fmt.Sprintf("refused: callback URL resolves to a %s address (%s)", blocked.Class, blocked.Addr)
	case errors.Is(err, netguard.ErrBlocked):
		return "refused: the address is not allowed"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("could not look up the host name (%s)", dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "could not connect (connection refused)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "could not connect (host unreachable)"
	case errors.Is(err, syscall.ECONNRESET):
		return "failed: the server reset the connection"
	case errors.As(err, &certErr):
		return fmt.Sprintf("failed: the TLS certificate is not valid (%s)", innermost(certErr.Err))
	case errors.As(err, &recErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "failed: the server answered in plain HTTP, not HTTPS"
	case errors.As(err, &alertErr):
		return fmt.Sprintf("failed: the TLS handshake was refused (%s)", alertErr)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "failed: the server closed the connection before answering in full"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("could not connect (%s)", innermost(err))
	}
	return fmt.Sprintf("failed (%s)", innermost(err))
}

// innermost is the message of the deepest error in err's chain (following
// the first branch of a joined error), which drops Go's "Get "…": dial tcp
// …:" prefixes that repeat what the reason already says.
func innermost(err error) string {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// sizeWords writes a byte count the way a person would ("1 KiB").
func sizeWords(n int64) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// shortURL quotes a URL in a reason, eliding its middle when long, so one
// long URL cannot crowd the others out.
func shortURL(u string) string {
	return elide(u, maxURLRunes)
}

// finishReason makes a reason safe to record: it scrubs the token, should a
// server have echoed it into a redirect URL, and caps the length.
func finishReason(reason, token string) string {
	if token != "" {
		reason = strings.ReplaceAll(reason, token, "[token]")
	}
	if utf8.RuneCountInString(reason) > maxReasonRunes {
		reason = string([]rune(reason)[:maxReasonRunes-1]) + "…"
	}
	return reason
}

func elide(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	head := (max - 1) * 2 / 3
	tail := max - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
