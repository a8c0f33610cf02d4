package config

import (
	"slices"
	"strings"
	"testing"
)

func TestPortalFrameAncestors(t *testing.T) {
	c, err := Parse("serve", []string{"--portal-frame-ancestors", "https://app.example.com, http://127.0.0.1:9000,https://*.Example.org"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://app.example.com", "http://127.0.0.1:9000", "https://*.example.org"}
	if !slices.Equal(c.PortalFrameAncestors, want) {
		t.Fatalf("ancestors %q, want %q", c.PortalFrameAncestors, want)
	}
	if c, err := Parse("serve", nil, env(nil)); err != nil || len(c.PortalFrameAncestors) != 0 {
		t.Fatalf("default: %q %v, want none", c.PortalFrameAncestors, err)
	}
	for _, bad := range []string{"app.example.com", "https://app.example.com/path", "*", "'self'", "https://a.*.com", "javascript:x", "https://app.example.com; script-src *"} {
		t.Run(bad, func(t *testing.T) {
			_, err := Parse("serve", []string{"--portal-frame-ancestors", bad}, env(nil))
			if err == nil || !strings.Contains(err.Error(), "portal-frame-ancestors") {
				t.Fatalf("accepted %q: %v", bad, err)
			}
		})
	}
}
