// Package web is the Webhooks tab: a small single-page UI served by
// webhookd itself. The assets are plain HTML, CSS and JavaScript modules
// embedded in the binary, so the UI needs no build step, no CDN and no
// network beyond webhookd's own /graphql endpoint and verification-file
// route.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"
)

//go:embed assets
var assets embed.FS

// Options configure the UI handler.
type Options struct {
	// DevKey returns the demo API key to pre-fill on the sign-in form, or
	// "" when there is none. It is a function because --dev creates the key
	// after the routes are mounted. Leave nil outside development. Even in
	// development the key goes only to loopback clients, so a --dev server
	// bound to a public address does not hand it to the network.
	DevKey func() string
	// PortalFrameAncestors are the origins that may frame the portal page
	// (/portal, --portal-frame-ancestors). Empty means none, as for every
	// other page of the UI.
	PortalFrameAncestors []string
}

// contentSecurityPolicy allows only webhookd's own origin: scripts, styles
// and connections (GraphQL over fetch and websocket) never leave it, and
// blob: lets the verification file be downloaded from fetched bytes.
const contentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// portalPolicy is the policy of the portal page: the same, except that
// the configured origins may frame it and a theme's logo may be any https
// image.
func portalPolicy(ancestors []string) string {
	fa := "'none'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	return "default-src 'self'; connect-src 'self'; img-src 'self' data: https:; " +
		"style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors " + fa + "; form-action 'self'"
}

// Handler serves the UI: index.html at "/", the assets under "/ui/", and
// "/ui/config.json" with the dev key when there is one; other paths are
// not found. Mount it on "/" (it refuses methods other than GET and HEAD
// itself): every other route is more specific and keeps precedence in
// net/http's ServeMux, whereas "GET /" conflicts with method-less routes
// such as "/graphql".
func Handler(opts Options) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at compile time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		isUI := p == "/" || p == "/index.html" || p == "/portal" || (strings.HasPrefix(p, "/ui/") && !strings.HasSuffix(p, "/"))
		if !isUI {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		setSecurityHeaders(w.Header())
		switch p {
		case "/portal":
			// The magic link's page: index.html, which finds the link's
			// token in the fragment; only this page may be framed.
			w.Header().Set("Content-Security-Policy", portalPolicy(opts.PortalFrameAncestors))
			if len(opts.PortalFrameAncestors) > 0 {
				w.Header().Del("X-Frame-Options") // the CSP's list decides
			}
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, sub, "index.html")
		case "/", "/index.html":
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, sub, "index.html")
		case "/ui/config.json":
			serveConfig(w, r, opts)
		default:
			w.Header().Set("Cache-Control", "no-cache")
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(p, "/ui")
			files.ServeHTTP(w, r2)
		}
	})
}

// Config is the body of GET /ui/config.json.
type Config struct {
	// DevKey is the demo key in --dev mode; absent otherwise.
	DevKey string `json:"devKey,omitempty"`
}

func serveConfig(w http.ResponseWriter, r *http.Request, opts Options) {
	var c Config
	if opts.DevKey != nil && IsLoopback(r) {
		c.DevKey = opts.DevKey()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(c)
}

// IsLoopback reports whether r came from this machine over a loopback
// address. It looks only at the connection's address, never at headers
// such as X-Forwarded-For, which any client can set.
func IsLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}
