package config

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseFrameAncestors parses --portal-frame-ancestors: comma-separated
// origins (scheme://host[:port], the host may start with "*." for any
// subdomain) that may frame the portal. Empty is none: the portal, like
// the rest of the UI, refuses to be framed.
func ParseFrameAncestors(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		o := strings.TrimSpace(part)
		if o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("portal-frame-ancestors: %q %w", o, err)
		}
		out = append(out, strings.ToLower(o))
	}
	return out, nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(strings.Replace(o, "://*.", "://wildcard.", 1))
	switch {
	case err != nil:
		return fmt.Errorf("is not an origin: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("is not an http(s) origin such as https://app.example.com")
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("is not an origin (scheme://host[:port], no path)")
	case strings.ContainsAny(u.Host, "*;' "):
		return fmt.Errorf("may use a wildcard only as the first label (https://*.example.com)")
	}
	return nil
}
