package netguard

import (
	"net/http"
	"time"
)

// NewHTTPClient returns a client for requests to customer URLs. It dials
// only through g, never follows redirects (a redirect could point inside
// the network, and a webhook's 3xx is a failed delivery anyway; the 3xx
// response is returned as is), and ignores HTTP(S)_PROXY from the
// environment, since a proxy would do the resolving and bypass the guard.
// timeout bounds the whole request including reading the body.
func NewHTTPClient(g *Guard, timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:             nil,
		DialContext:       g.DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      1024,
		// Many webhooks often share one host (a platform's endpoint for
		// many accounts), and their lanes together keep up to their caps
		// in flight: an idle pool smaller than that closes a connection
		// after each response and dials a new one for the next.
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
