package domain

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// PortalTheme brands the Webhooks tab for the platform that embeds it. Every
// field is optional; an empty one keeps webhookd's own look.
type PortalTheme struct {
	// BrandColor is a hex colour such as #0a7d4f, used for buttons and
	// links.
	BrandColor string `json:"brandColor,omitempty"`
	// LogoURL is an https URL (or a path on webhookd's own origin) of an
	// image shown in the header. The page's content security policy must
	// allow it: an https logo on another host is allowed only for portal
	// pages, and only as an image.
	LogoURL string `json:"logoUrl,omitempty"`
	// ProductName replaces "webhookd" in the header and the title.
	ProductName string `json:"productName,omitempty"`
}

// MaxLogoURLLength bounds a theme's logo URL.
const MaxLogoURLLength = 2048

var brandColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate reports the first field that breaks a rule, as EINVALID.
func (t PortalTheme) Validate() error {
	switch {
	case t.BrandColor != "" && !brandColor.MatchString(t.BrandColor):
		return FieldErrorf(EINVALID, "theme.brandColor", "brand colour must be #rrggbb")
	case utf8.RuneCountInString(t.ProductName) > MaxWebhookNameLength:
		return FieldErrorf(EINVALID, "theme.productName", "product name must be at most %d characters", MaxWebhookNameLength)
	case strings.ContainsAny(t.ProductName, "\x00\r\n"):
		return FieldErrorf(EINVALID, "theme.productName", "product name must be one line")
	case t.LogoURL != "" && !validLogoURL(t.LogoURL):
		return FieldErrorf(EINVALID, "theme.logoUrl", "logo URL must be an https URL or a path starting with /")
	}
	return nil
}

// Merge returns t with every empty field taken from defaults, so a
// session's theme overrides the configured one field by field.
func (t PortalTheme) Merge(defaults PortalTheme) PortalTheme {
	if t.BrandColor == "" {
		t.BrandColor = defaults.BrandColor
	}
	if t.LogoURL == "" {
		t.LogoURL = defaults.LogoURL
	}
	if t.ProductName == "" {
		t.ProductName = defaults.ProductName
	}
	return t
}

func validLogoURL(raw string) bool {
	if len(raw) > MaxLogoURLLength || strings.ContainsAny(raw, " \"'<>\\") {
		return false
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		return true
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// ParsePortalTheme reads a theme file (--portal-theme-file): a YAML or
// JSON mapping of brandColor, logoUrl and productName. Unknown keys are
// refused, so a misspelt one is not silently ignored.
func ParsePortalTheme(data []byte) (PortalTheme, error) {
	var t struct {
		BrandColor  string `yaml:"brandColor"`
		LogoURL     string `yaml:"logoUrl"`
		ProductName string `yaml:"productName"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return PortalTheme{}, fmt.Errorf("portal theme: %w", err)
	}
	theme := PortalTheme{BrandColor: t.BrandColor, LogoURL: t.LogoURL, ProductName: t.ProductName}
	if err := theme.Validate(); err != nil {
		return PortalTheme{}, fmt.Errorf("portal theme: %s", ErrorMessage(err))
	}
	return theme, nil
}
