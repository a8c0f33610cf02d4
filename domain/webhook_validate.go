package domain

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on webhook settings. Field names in errors are the GraphQL input
// field names, so a client can show each message beside its input.
const (
	MaxWebhookNameLength        = 100
	MaxWebhookDescriptionLength = 500
	MaxWebhookHeaders           = 20
	MaxHeaderNameLength         = 100
	MaxHeaderValueLength        = 1000
	MaxRateLimitPerSecond       = 10000
	MaxWebhookConcurrency       = 64
	MaxReasonLength             = 500
	MaxSecretOverlap            = 7 * 24 * time.Hour
)

// ValidateWebhookName checks a webhook's display name: 1 to 100 characters,
// not only spaces, no control characters.
func ValidateWebhookName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return FieldErrorf(EINVALID, "name", "name is required")
	case n > MaxWebhookNameLength:
		return FieldErrorf(EINVALID, "name", "name must be at most %d characters", MaxWebhookNameLength)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return FieldErrorf(EINVALID, "name", "name must not contain control characters")
	}
	return nil
}

// ValidateWebhookDescription checks a free-text description: at most 500
// characters of valid UTF-8 (line breaks allowed).
func ValidateWebhookDescription(d string) error {
	switch {
	case utf8.RuneCountInString(d) > MaxWebhookDescriptionLength:
		return FieldErrorf(EINVALID, "description", "description must be at most %d characters", MaxWebhookDescriptionLength)
	case !utf8.ValidString(d):
		return FieldErrorf(EINVALID, "description", "description must be valid UTF-8")
	}
	return nil
}

// ValidateWebhookEventTypes checks a subscription list: at least one type,
// each known (per known, typically Catalogue.Known), none twice.
func ValidateWebhookEventTypes(types []string, known func(string) bool) error {
	if len(types) == 0 {
		return FieldErrorf(EINVALID, "eventTypes", "choose at least one event type")
	}
	seen := make(map[string]bool, len(types))
	for _, t := range types {
		switch {
		case seen[t]:
			return FieldErrorf(EINVALID, "eventTypes", "event type %q is listed twice", t)
		case !known(t):
			return FieldErrorf(EINVALID, "eventTypes", "unknown event type %q", t)
		}
		seen[t] = true
	}
	return nil
}

// forbiddenHeaders are request headers webhookd sets itself; letting a
// webhook override them would break framing, signing or routing.
var forbiddenHeaders = []string{"host", "content-length", "content-type", "transfer-encoding", "connection"}

// ValidateWebhookHeaders checks custom request headers: at most 20, names
// made of HTTP token characters and not one webhookd sets (Host,
// Content-Length, Content-Type, Transfer-Encoding, Connection, webhook-*),
// case-insensitively distinct, and values without control characters (so no
// CR/LF header injection).
func ValidateWebhookHeaders(h map[string]string) error {
	bad := func(format string, args ...any) error { return FieldErrorf(EINVALID, "headers", format, args...) }
	if len(h) > MaxWebhookHeaders {
		return bad("at most %d custom headers are allowed", MaxWebhookHeaders)
	}
	seen := make(map[string]bool, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) { // sorted: the same input always gives the same error
		lower := strings.ToLower(name)
		switch {
		case name == "" || len(name) > MaxHeaderNameLength || !isHTTPToken(name):
			return bad("%q is not a valid header name", name)
		case slices.Contains(forbiddenHeaders, lower) || strings.HasPrefix(lower, "webhook-"):
			return bad("header %q is set by webhookd and cannot be overridden", name)
		case seen[lower]:
			return bad("header %q is given twice", name)
		case len(h[name]) > MaxHeaderValueLength:
			return bad("the value of header %q must be at most %d characters", name, MaxHeaderValueLength)
		case !validHeaderValue(h[name]):
			return bad("the value of header %q must not contain line breaks or control characters", name)
		}
		seen[lower] = true
	}
	return nil
}

// isHTTPToken reports whether s consists of RFC 9110 token characters.
func isHTTPToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// validHeaderValue allows visible characters, spaces and tabs, and UTF-8
// text; it refuses CR, LF, NUL and other control characters.
func validHeaderValue(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r != '\t' && (r < ' ' || r == 0x7f) {
			return false
		}
	}
	return true
}

// ValidateRateLimit checks a rate limit: either off (zero) or 1 to 10000 per
// second with a burst of 1 to 10000 (0 meaning "same as per second").
func ValidateRateLimit(r RateLimit) error {
	switch {
	case r.PerSecond == 0 && r.Burst == 0:
		return nil
	case r.PerSecond < 1 || r.PerSecond > MaxRateLimitPerSecond:
		return FieldErrorf(EINVALID, "rateLimit", "rate limit must be 1 to %d per second", MaxRateLimitPerSecond)
	case r.Burst < 0 || r.Burst > MaxRateLimitPerSecond:
		return FieldErrorf(EINVALID, "rateLimit", "burst must be 1 to %d", MaxRateLimitPerSecond)
	}
	return nil
}

// normalizeRateLimit fills in the default burst.
func normalizeRateLimit(r RateLimit) RateLimit {
	if r.PerSecond > 0 && r.Burst == 0 {
		r.Burst = r.PerSecond
	}
	return r
}

// ValidateMaxConcurrency checks the cap on deliveries in flight: 1 to 64.
func ValidateMaxConcurrency(n int) error {
	if n < 1 || n > MaxWebhookConcurrency {
		return FieldErrorf(EINVALID, "maxConcurrency", "max concurrency must be 1 to %d", MaxWebhookConcurrency)
	}
	return nil
}

// validateSecret checks a Standard Webhooks secret, "whsec_" followed by
// the standard base64 of 24 to 64 bytes. Secrets are generated by webhookd,
// so a bad one is a caller bug; it is still refused rather than stored.
func validateSecret(secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
		return FieldErrorf(EINVALID, "secret", "secret must be whsec_ followed by base64 of 24 to 64 bytes")
	}
	return nil
}

// normalizeReason checks a human-readable reason (for disabling, or a
// failed verification) is present, and cuts it to 500 characters: reasons
// are written by webhookd's adapters, and quoting a long URL must not make
// the recording of a failure fail.
func normalizeReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", FieldErrorf(EINVALID, "reason", "a reason is required")
	}
	if utf8.RuneCountInString(reason) > MaxReasonLength {
		reason = string([]rune(reason)[:MaxReasonLength-1]) + "…"
	}
	return reason, nil
}
