package httpserver

import (
	"net/http"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// VerificationFileHandler serves GET /webhooks/{id}/verification-file: the
// webhook's verification file as a download, to the owning account only.
// {id} is the webhook's global ID, as GraphQL returns it.
func VerificationFileHandler(a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.AuthenticateRequest(r) // a key, or the portal cookie with its CSRF header
		if err != nil {
			http.Error(w, "a valid API key is required", http.StatusUnauthorized)
			return
		}
		if err := app.Require(p, domain.ScopeAccount, domain.ScopeAdmin); err != nil {
			http.Error(w, domain.ErrorMessage(err), http.StatusForbidden)
			return
		}
		kind, id, err := domain.DecodeGlobalID(r.PathValue("id"))
		if err != nil || kind != "Webhook" {
			http.Error(w, "webhook not found", http.StatusNotFound)
			return
		}
		view, err := a.Webhook(r.Context(), p, id)
		if err != nil {
			http.Error(w, "webhook not found", http.StatusNotFound)
			return
		}
		f := view.Verification.File
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(f.Token))
	})
}
