package domain_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/webhookd/webhookd/domain"
)

// FuzzValidateCallbackURL checks that the URL validator never panics, that
// every refusal is an EINVALID on the url field, and that whatever it
// accepts is an absolute http(s) URL with a host and no credentials or
// fragment, within the length limit.
func FuzzValidateCallbackURL(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/hooks/receive.php", "http://127.0.0.1:8080/in", "https://[::1]:443/x?y=z",
		"https://user:pw@example.com/", "https://example.com/#frag", "mailto:a@example.com", "//example.com",
		"https://%zz", "http://[fe80::1%25eth0]/", "https://exa mple.com", "\xff", "https:", "http://:80/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := domain.ValidateCallbackURL(raw)
		if err != nil {
			var de *domain.Error
			if domain.ErrorCode(err) != domain.EINVALID || !errors.As(err, &de) || de.Field != "url" {
				t.Fatalf("refusal of %q is %#v, want EINVALID on url", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		switch {
		case perr != nil:
			t.Fatalf("accepted %q, which does not parse: %v", raw, perr)
		case len(raw) > domain.MaxCallbackURLLength:
			t.Fatalf("accepted %d bytes", len(raw))
		case u.Scheme != "http" && u.Scheme != "https":
			t.Fatalf("accepted scheme %q", u.Scheme)
		case u.Hostname() == "" || u.User != nil || u.Fragment != "":
			t.Fatalf("accepted %q: host %q, user %v, fragment %q", raw, u.Hostname(), u.User, u.Fragment)
		}
	})
}
