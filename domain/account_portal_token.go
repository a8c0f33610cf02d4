package domain

// Prefixes of the two portal secrets: the one-use link token, which the
// platform puts in a URL, and the session cookie it is exchanged for. Both
// are recognisable by secret scanners, and neither is an API key: each
// authenticates only as the one portal session.
const (
	PortalLinkPrefix   = "whp_"
	PortalCookiePrefix = "whc_"
)

// FormatPortalToken writes a portal secret as it travels:
// <prefix><session id>_<secret>.
func FormatPortalToken(prefix, sessionID, secret string) string {
	return prefix + sessionID + "_" + secret
}

// ParsePortalToken splits a presented portal token of the given prefix
// into its session ID and secret; anything malformed is ok=false.
func ParsePortalToken(prefix, raw string) (sessionID, secret string, ok bool) {
	return parseToken(prefix, raw)
}
