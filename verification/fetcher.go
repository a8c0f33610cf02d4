// Package verification checks that an account holder controls a callback
// URL, the way SMTPeter does it: webhookd issues a file (a random name and
// a separate random token), the account holder places it next to their
// callback script or at their site root, and webhookd fetches it. The fetch
// goes through the SSRF guard, is bounded in size, time and redirects, and
// every failure is explained in words the account holder can act on.
package verification

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/netguard"
)

// Defaults for the Fetcher's knobs, from the design's bounds on
// verification requests.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultMaxBytes  = 1 << 10
	DefaultUserAgent = "webhookd-verifier/1"
	// maxRedirects is how many same-host redirects one location may take:
	// enough for http→https plus a trailing-slash or www fix-up, too few
	// for a loop to matter.
	maxRedirects = 3
)

var _ app.VerificationFetcher = (*Fetcher)(nil)

// Fetcher fetches verification files over HTTP(S) through a netguard.Guard.
// Build it with New; the exported knobs may be changed before first use.
// It is safe for concurrent use.
type Fetcher struct {
	// Timeout bounds the whole check, every location and redirect
	// included, so a slow receiver cannot hold a verifyWebhook call open.
	Timeout time.Duration
	// MaxBytes is the largest file accepted. A verification file is a
	// short token; anything bigger is not the file.
	MaxBytes int64
	// UserAgent identifies the check in the receiver's access logs.
	UserAgent string

	client *http.Client
}

// New returns a Fetcher that connects only where guard allows, with the
// default knobs.
func New(guard *netguard.Guard) *Fetcher {
	// No client timeout: the context made in Fetch bounds every request,
	// and a single deadline is what makes "timed out after 5s" true.
	return &Fetcher{
		Timeout:   DefaultTimeout,
		MaxBytes:  DefaultMaxBytes,
		UserAgent: DefaultUserAgent,
		client:    netguard.NewHTTPClient(guard, 0),
	}
}

// errTimedOut is the cause of the check's own deadline, told apart from a
// caller's cancellation so the reason says which one happened.
var errTimedOut = errors.New("verification timed out")

// Fetch looks for file at each of its locations for callbackURL in turn
// (the callback's directory, then the site root) and reports success as
// soon as one serves the token. On failure, reason names every URL tried
// and what happened there; it never contains the token.
func (f *Fetcher) Fetch(ctx context.Context, callbackURL string, file domain.VerificationFile) (ok bool, reason string) {
	if file.Name == "" || file.Token == "" {
		return false, "no verification file has been issued for this webhook"
	}
	locations, err := domain.VerificationFileLocations(callbackURL, file)
	if err != nil {
		return false, "the callback URL is not valid: " + domain.ErrorMessage(err)
	}
	timeout := f.timeout()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()

	var tried []string
	for _, loc := range locations {
		if ctx.Err() != nil {
			tried = append(tried, fmt.Sprintf("GET %s not tried: %s", shortURL(loc), f.stopped(ctx)))
			continue
		}
		outcome := f.fetchOne(ctx, loc, file)
		if outcome == "" {
			return true, ""
		}
		tried = append(tried, outcome)
	}
	return false, finishReason(strings.Join(tried, "; "), file.Token)
}

// fetchOne tries one location, following same-host redirects, and returns
// "" when it served the token or a sentence saying what went wrong.
func (f *Fetcher) fetchOne(ctx context.Context, loc string, file domain.VerificationFile) string {
	prefix := "GET " + shortURL(loc)
	current := loc
	for hop := 0; ; hop++ {
		resp, err := f.get(ctx, current)
		if err != nil {
			return prefix + " " + f.describeError(ctx, err)
		}
		if isRedirect(resp.StatusCode) {
			resp.Body.Close()
			next, refusal := nextHop(current, resp)
			if refusal != "" {
				return prefix + " " + refusal
			}
			if hop == maxRedirects {
				return fmt.Sprintf("%s was redirected more than %d times", prefix, maxRedirects)
			}
			current = next
			prefix = fmt.Sprintf("GET %s (redirected to %s)", shortURL(loc), shortURL(current))
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Sprintf("%s returned %d", prefix, resp.StatusCode)
		}
		if outcome := f.judgeBody(ctx, resp.Body, file); outcome != "" {
			return prefix + outcome
		}
		return ""
	}
}

func (f *Fetcher) get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.userAgent())
	req.Header.Set("Accept", "text/plain, */*;q=0.1")
	return f.client.Do(req)
}

// judgeBody reads at most MaxBytes+1 bytes (one more than allowed, to tell
// "exactly the limit" from "too large") and returns "" on a match, or the
// rest of the sentence after "GET <url>".
func (f *Fetcher) judgeBody(ctx context.Context, body io.Reader, file domain.VerificationFile) string {
	limit := f.maxBytes()
	content, err := io.ReadAll(io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		return " " + f.describeError(ctx, err)
	case int64(len(content)) > limit:
		return ": file is larger than " + sizeWords(limit)
	case file.Matches(content):
		return ""
	}
	trimmed := strings.TrimSpace(string(content))
	switch {
	case trimmed == "":
		return ": content did not match (the file is empty)"
	case strings.HasPrefix(trimmed, "<"):
		// A catch-all route answering every path with an HTML page is the
		// usual cause; say so rather than leave the user guessing.
		return ": content did not match (got an HTML page, not the token)"
	}
	return ": content did not match"
}

// stopped says why no more locations are tried once ctx is done.
func (f *Fetcher) stopped(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errTimedOut) {
		return "the " + f.timeout().String() + " time limit was used up"
	}
	return "the check was cancelled"
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout <= 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return f.MaxBytes
}

func (f *Fetcher) userAgent() string {
	if f.UserAgent == "" {
		return DefaultUserAgent
	}
	return f.UserAgent
}
