// Package delivery is the dispatcher: the projector with side effects. It
// reads owed attempts from the due index, sends each as a signed POST, and
// appends the attempt and its outcome as events. It runs only in live mode,
// never during a projection rebuild, so a rebuild never re-sends.
package delivery

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/netguard"
)

// DefaultTimeout bounds one attempt, from dialling to the end of the
// response excerpt, unless the webhook chose another (Request.Timeout).
const DefaultTimeout = domain.DefaultAttemptTimeout

// Request is one signed POST to make.
type Request struct {
	URL       string
	MessageID string
	Timestamp time.Time
	Body      []byte
	// Secrets sign the request; during a rotation overlap there are two.
	Secrets []string
	// Headers are the webhook's custom headers.
	Headers map[string]string
	// Test marks a test send, which carries the domain.TestHeader.
	Test bool
	// ContentType is the body's (the webhook's body format); empty means
	// application/json.
	ContentType string
	// Timeout bounds this attempt within the client's own bound; zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Traceparent, when set, is sent as the W3C traceparent header (the
	// webhook asked for it; see tracing.go).
	Traceparent string
	// BatchSize, when set, is how many events the body's JSON array holds
	// (batch.go); it is sent as the BatchSizeHeader.
	BatchSize int
	// MayStart, when set, is asked once the request is built, right
	// before it goes out; false sends nothing (Result.NotSent). The
	// dispatcher asks whether it still owns the webhook: an instance
	// stopped past its lease between its decision and the send must not
	// send beside the new owner once it resumes.
	MayStart func() bool
}

// BatchSizeHeader tells a receiver how many events a batched body holds.
const BatchSizeHeader = "webhook-batch-size"

// Result is what an attempt produced.
type Result struct {
	Outcome        domain.AttemptOutcome
	Latency        time.Duration
	ErrorMessage   string
	Excerpt        []byte
	RequestHeaders map[string]string
	// NotSent tells that Request.MayStart refused: nothing went out.
	NotSent bool
}

// Sender makes signed POSTs through the SSRF guard.
type Sender struct {
	Client    *http.Client
	UserAgent string
	Now       func() time.Time
	// SigningKeys, when set, add v1a (ed25519) signatures to every request,
	// verifiable with the keys at /.well-known/jwks.json. Set them before
	// the first Send: signers are cached with them.
	SigningKeys []ed25519.PrivateKey

	signers signerCache
}

// NewSender returns a sender whose client never follows redirects and dials
// only addresses the guard allows, pinning the checked IP. timeout bounds
// every attempt, whatever its webhook chose; zero means the longest a
// webhook may choose, domain.MaxAttemptTimeout.
func NewSender(g *netguard.Guard, timeout time.Duration) *Sender {
	if timeout == 0 {
		timeout = domain.MaxAttemptTimeout
	}
	return &Sender{Client: netguard.NewHTTPClient(g, timeout), UserAgent: "webhookd/1", Now: time.Now}
}

// Send makes one attempt. It never returns an error: every failure is an
// outcome to record.
func (s *Sender) Send(ctx context.Context, r Request) Result {
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	if r.ContentType == "" {
		r.ContentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Result{Outcome: domain.AttemptOutcome{ErrClass: domain.ErrClassOther}, ErrorMessage: err.Error()}
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", r.ContentType)
	req.Header.Set("User-Agent", s.UserAgent)
	if r.Test {
		req.Header.Set(domain.TestHeader, "true")
	}
	if r.Traceparent != "" {
		req.Header.Set("traceparent", r.Traceparent)
	}
	if r.BatchSize > 0 {
		req.Header.Set(BatchSizeHeader, strconv.Itoa(r.BatchSize))
	}
	signer, err := s.signers.get(r.Secrets, s.SigningKeys)
	if err != nil {
		return Result{Outcome: domain.AttemptOutcome{ErrClass: domain.ErrClassOther}, ErrorMessage: "signing: " + err.Error()}
	}
	signer.SetHeaders(req.Header, r.MessageID, r.Timestamp, r.Body)
	sent := flatten(req.Header)

	if r.MayStart != nil && !r.MayStart() {
		return Result{NotSent: true}
	}
	start := time.Now()
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Outcome: domain.AttemptOutcome{ErrClass: classify(err)}, Latency: time.Since(start), ErrorMessage: err.Error(), RequestHeaders: sent}
	}
	defer resp.Body.Close()
	excerpt, readErr := io.ReadAll(io.LimitReader(resp.Body, domain.MaxResponseExcerpt))
	// Drain a little more so the connection can be reused, but never wait
	// on a large body we will not keep.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	res := Result{Latency: time.Since(start), Excerpt: excerpt, RequestHeaders: sent,
		Outcome: domain.AttemptOutcome{StatusCode: resp.StatusCode}}
	if d, ok := domain.ParseRetryAfter(resp.Header.Get("Retry-After"), s.Now()); ok {
		res.Outcome.RetryAfter = d
	}
	if readErr != nil && resp.StatusCode/100 != 2 {
		res.ErrorMessage = "reading response: " + readErr.Error()
	}
	return res
}

func flatten(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// classify maps a transport error to a stable error class.
func classify(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return domain.ErrClassTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return domain.ErrClassConnectionRefused
	case errors.As(err, &dnsErr):
		return domain.ErrClassDNS
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &recordErr):
		return domain.ErrClassTLS
	default:
		return domain.ErrClassOther
	}
}
