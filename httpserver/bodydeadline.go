package httpserver

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// bodyDeadline sets a read deadline on the connection for reading the
// request body of route. A body still unread at the deadline fails with a
// timeout error (see isBodyTimeout) and the connection is closed after the
// response. net/http clears the deadline itself once the body has been
// read to the end (it then starts watching for the client going away), so
// long-lived responses such as SSE subscriptions are not cut by it;
// TestSSETransport pins that.
func (s *Server) bodyDeadline(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := s.bodyReadTimeout(route); d > 0 && r.Body != nil && r.Body != http.NoBody {
			// An error means a writer without deadlines (httptest's recorder).
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) bodyReadTimeout(route string) time.Duration {
	if d, ok := s.RouteBodyReadTimeouts[route]; ok {
		return d
	}
	return s.BodyReadTimeout
}

// isBodyTimeout reports whether err, from reading a request body, means the
// body did not arrive within its read timeout; the answer is then 408.
func isBodyTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
