package graph

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"
)

// explorerAssets are the GraphiQL page and its vendored React and GraphiQL
// builds (see explorer/README.md), embedded so the explorer needs no CDN.
//
//go:embed explorer/assets
var explorerAssets embed.FS

// ExplorerOptions configure the GraphQL explorer.
type ExplorerOptions struct {
	// Endpoint is the GraphQL route the explorer queries.
	Endpoint string
	// DevKey returns the --dev demo key to pre-fill in the Authorization
	// header, or "". It is offered to loopback clients only. Nil outside
	// development.
	DevKey func() string
}

// explorerCSP allows only webhookd's own origin, with nothing inline.
// GraphiQL's stylesheet embeds its fonts and icons as data: URLs, hence
// data: for fonts and images. TestExplorer fails on any violation.
const explorerCSP = "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self' data:; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// ExplorerConfig is the body of GET /graphiql/config.json.
type ExplorerConfig struct {
	Endpoint string `json:"endpoint"`
	// Headers is the initial text of GraphiQL's Headers tab (JSON).
	Headers string `json:"headers"`
}

// Explorer serves GraphiQL: the page at /graphiql, its assets under
// /graphiql/, and /graphiql/config.json. Mount it on "GET /graphiql" and
// "GET /graphiql/". Every asset is in the binary, so it works offline.
func Explorer(opts ExplorerOptions) http.Handler {
	sub, err := fs.Sub(explorerAssets, "explorer/assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at compile time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", explorerCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		switch p := r.URL.Path; {
		case p == "/graphiql" || p == "/graphiql/":
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, sub, "index.html")
		case p == "/graphiql/config.json":
			serveExplorerConfig(w, r, opts)
		case strings.HasSuffix(p, "/") || p == "/graphiql/index.html":
			http.NotFound(w, r) // no directory listings, one URL for the page
		default:
			h.Set("Cache-Control", "no-cache")
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(p, "/graphiql")
			files.ServeHTTP(w, r2)
		}
	})
}

func serveExplorerConfig(w http.ResponseWriter, r *http.Request, opts ExplorerOptions) {
	key := ""
	if opts.DevKey != nil && isLoopback(r) {
		key = opts.DevKey()
	}
	hdr, _ := json.MarshalIndent(map[string]string{"Authorization": "Bearer " + key}, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(ExplorerConfig{Endpoint: opts.Endpoint, Headers: string(hdr)})
}

// isLoopback reports whether r came over a loopback connection. Only the
// connection's address counts, never X-Forwarded-For or similar headers.
// (The web package applies the same rule to the UI's demo key.)
func isLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
