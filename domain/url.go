package domain

import (
	"net/url"
	"unicode/utf8"
)

// MaxCallbackURLLength bounds a callback URL, in bytes. 2048 is the common
// practical limit of browsers and proxies.
const MaxCallbackURLLength = 2048

// ValidateCallbackURL checks the shape of a webhook callback URL: absolute
// http or https, with a host, without user:password credentials (they would
// be stored and shown in clear) and without a fragment (never sent, so
// always a mistake). It returns an EINVALID error on the field "url".
//
// It deliberately does no DNS: whether the host resolves to a forbidden
// address (the SSRF guard) is decided by the delivery adapter at connect
// time, where the resolved IP can be pinned.
func ValidateCallbackURL(raw string) error {
	bad := func(format string, args ...any) error {
		return FieldErrorf(EINVALID, "url", format, args...)
	}
	switch {
	case raw == "":
		return bad("URL is required")
	case len(raw) > MaxCallbackURLLength:
		return bad("URL must be at most %d characters", MaxCallbackURLLength)
	case !utf8.ValidString(raw):
		return bad("URL must be valid UTF-8")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a valid URL")
	}
	switch {
	case !u.IsAbs():
		return bad("URL must be absolute, starting with https:// or http://")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("URL must use http or https, not %q", u.Scheme)
	case u.Opaque != "" || u.Hostname() == "":
		return bad("URL must have a host")
	case u.User != nil:
		return bad("URL must not contain credentials; use custom headers instead")
	case u.Fragment != "" || u.RawFragment != "":
		return bad("URL must not contain a fragment (#...)")
	}
	return nil
}
