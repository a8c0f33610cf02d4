package httpserver

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// bodyDeadline sets a read deadline on the connection while the request
// body of route is read, and clears it once the body has been read to the
// end, so long-lived responses (SSE subscriptions) are not cut by it. A
// body still unread at the deadline fails with a timeout error (see
// isBodyTimeout) and the connection is closed after the response.
func (s *Server) bodyDeadline(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.bodyReadTimeout(route)
		if d <= 0 || r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			h.ServeHTTP(w, r) // a writer without deadlines (e.g. httptest.ResponseRecorder)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) bodyReadTimeout(route string) time.Duration {
	if d, ok := s.RouteBodyReadTimeouts[route]; ok {
		return d
	}
	return s.BodyReadTimeout
}

// deadlineBody clears the connection's read deadline at the end of the
// body. net/http starts its background read (which watches for the client
// going away) at that point; left in place, the deadline would fire there
// and cancel the request's context.
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(b.clear)
	}
	return n, err
}

// isBodyTimeout reports whether err, from reading a request body, means the
// body did not arrive within its read timeout; the answer is then 408.
func isBodyTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
