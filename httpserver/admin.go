package httpserver

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// KeyRequest is the body of POST /admin/keys on the admin socket.
type KeyRequest struct {
	Account    string `json:"account"`
	Scope      string `json:"scope"`
	Label      string `json:"label"`
	TTLSeconds int    `json:"ttlSeconds"`
}

// KeyResponse answers the admin key routes. Secret is set only on creation.
type KeyResponse struct {
	Key    *domain.APIKey  `json:"key,omitempty"`
	Keys   []domain.APIKey `json:"keys,omitempty"`
	Secret string          `json:"secret,omitempty"`
	Error  *domain.Error   `json:"error,omitempty"`
}

// AdminHandler serves the operator API on the admin Unix socket. The socket
// file is created 0600 in the data directory, so file-system permissions
// are its authentication: whoever may read the data directory may already
// read every event. It lets `webhookd keys` work while a running server
// holds the embedded store's lock, including for the very first key.
func AdminHandler(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/keys", func(w http.ResponseWriter, r *http.Request) {
		var req KeyRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			writeAdmin(w, KeyResponse{Error: domain.Errorf(domain.EINVALID, "malformed request: %v", err)})
			return
		}
		k, err := a.CreateAPIKey(r.Context(), req.Account, domain.KeyScope(req.Scope), req.Label, time.Duration(req.TTLSeconds)*time.Second)
		if err != nil {
			writeAdmin(w, KeyResponse{Error: asDomainError(err)})
			return
		}
		writeAdmin(w, KeyResponse{Key: &k.Key, Secret: k.Secret})
	})
	mux.HandleFunc("GET /admin/keys", func(w http.ResponseWriter, r *http.Request) {
		keys, err := a.APIKeys(r.Context(), r.URL.Query().Get("account"))
		if err != nil {
			writeAdmin(w, KeyResponse{Error: asDomainError(err)})
			return
		}
		writeAdmin(w, KeyResponse{Keys: keys})
	})
	mux.HandleFunc("POST /admin/keys/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		k, err := a.RevokeAPIKey(r.Context(), app.Principal{Scope: domain.ScopeAdmin}, r.PathValue("id"))
		if err != nil {
			writeAdmin(w, KeyResponse{Error: asDomainError(err)})
			return
		}
		writeAdmin(w, KeyResponse{Key: &k})
	})
	return mux
}

func asDomainError(err error) *domain.Error {
	return &domain.Error{Code: domain.ErrorCode(err), Message: domain.ErrorMessage(err)}
}

func writeAdmin(w http.ResponseWriter, resp KeyResponse) {
	w.Header().Set("Content-Type", "application/json")
	if resp.Error != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	_ = json.NewEncoder(w).Encode(resp)
}
