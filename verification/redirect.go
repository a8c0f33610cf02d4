package verification

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// isRedirect reports whether status asks the client to go elsewhere. 300
// and 304 are not: they carry no single target to follow.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// nextHop resolves resp's Location against current and returns the URL to
// follow, or a refusal (the rest of a sentence after "GET <url>") when the
// redirect must not be followed.
func nextHop(current string, resp *http.Response) (next, refusal string) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", "returned " + strconv.Itoa(resp.StatusCode) + " without saying where to (no Location header)"
	}
	from, err := url.Parse(current)
	if err != nil {
		return "", "redirected to an invalid URL"
	}
	to, err := from.Parse(loc)
	if err != nil {
		return "", "redirected to an invalid URL"
	}
	to.Fragment, to.RawFragment = "", ""
	if !sameHost(from, to) {
		return "", "redirected to another host (" + shortURL(to.String()) + "); redirects must stay on the same host"
	}
	return to.String(), ""
}

// sameHost reports whether a redirect from one URL to another stays on
// the same site: the same scheme, host and port, or an upgrade from http to
// https on the same host (to its default port, or the port it was on).
// Anything else could be used to point the check at someone else's server,
// which would prove nothing about the callback URL's owner.
func sameHost(from, to *url.URL) bool {
	if to.User != nil || !strings.EqualFold(from.Hostname(), to.Hostname()) || to.Hostname() == "" {
		return false
	}
	fromPort, toPort := effectivePort(from), effectivePort(to)
	switch {
	case from.Scheme == to.Scheme:
		return (to.Scheme == "http" || to.Scheme == "https") && fromPort == toPort
	case from.Scheme == "http" && to.Scheme == "https":
		return toPort == "443" || toPort == from.Port()
	}
	return false
}

// effectivePort is u's port, spelled out when the scheme implies it.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
