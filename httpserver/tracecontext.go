package httpserver

import (
	"net/http"

	"github.com/webhookd/webhookd/app"
)

// ContinueTrace makes the spans a request starts (publishEvents' publish
// spans, a test send's attempt span) continue the caller's W3C trace when
// the request carries a traceparent header, as POST /v1/events does.
func ContinueTrace(a *app.App, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := r.Header.Get("traceparent"); tp != "" {
			r = r.WithContext(a.WithTraceparent(r.Context(), tp))
		}
		next.ServeHTTP(w, r)
	})
}
