package verification

import (
	"net/url"
	"testing"
)

func TestSameHost(t *testing.T) {
	cases := []struct {
		from, to string
		want     bool
	}{
		{"https://a.example/x", "https://a.example/y", true},
		{"https://a.example/x", "https://A.EXAMPLE:443/y", true},
		{"http://a.example:8080/x", "http://a.example:8080/y", true},
		{"http://a.example/x", "https://a.example/x", true},           // upgrade
		{"http://a.example:8443/x", "https://a.example:8443/x", true}, // upgrade, same port
		{"http://a.example/x", "https://a.example:8443/x", false},     // upgrade to another port
		{"https://a.example/x", "http://a.example/x", false},          // downgrade
		{"https://a.example/x", "https://b.example/x", false},
		{"https://a.example/x", "https://sub.a.example/x", false},
		{"https://a.example/x", "https://a.example:8443/x", false},
		{"http://a.example/x", "http://a.example:81/x", false},
		{"https://a.example/x", "ftp://a.example/x", false},
		{"https://a.example/x", "https://user@a.example/x", false},
	}
	for _, c := range cases {
		t.Run(c.from+" to "+c.to, func(t *testing.T) {
			from, _ := url.Parse(c.from)
			to, _ := url.Parse(c.to)
			if got := sameHost(from, to); got != c.want {
				t.Fatalf("sameHost = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFinishReason(t *testing.T) {
	long := ""
	for len(long) < 600 {
		long += "GET https://a.example/abc returned 404; "
	}
	got := finishReason(long+"secret-token", "secret-token")
	if n := len([]rune(got)); n != maxReasonRunes {
		t.Fatalf("length %d, want %d", n, maxReasonRunes)
	}
	if got := finishReason("redirected to https://a.example/?t=secret-token", "secret-token"); got != "redirected to https://a.example/?t=[token]" {
		t.Fatalf("token not scrubbed: %q", got)
	}
}

func TestSizeWords(t *testing.T) {
	for n, want := range map[int64]string{1024: "1 KiB", 4096: "4 KiB", 1000: "1000 bytes", 1500: "1500 bytes"} {
		if got := sizeWords(n); got != want {
			t.Errorf("sizeWords(%d) = %q, want %q", n, got, want)
		}
	}
}
