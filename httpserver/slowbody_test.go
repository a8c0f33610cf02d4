package httpserver_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/metrics"
)

// dribble sends a request whose body of n bytes arrives one byte per tick
// over a raw TCP connection, and returns the server's answer and how many
// body bytes had been sent when it came. The client would need n ticks;
// a server that gives up answers long before.
func dribble(t *testing.T, addr, path, key string, n int) (*http.Response, int) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, addr, key, n)
	type answer struct {
		resp *http.Response
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		answered <- answer{resp, err}
	}()
	tick := time.NewTicker(20 * time.Millisecond) // the slow client's pace, 50 bytes/s
	defer tick.Stop()
	giveUp := time.After(10 * time.Second)
	for sent := 0; ; {
		select {
		case a := <-answered:
			if a.err != nil {
				t.Fatalf("%s: no answer after %d of %d body bytes: %v", path, sent, n, a.err)
			}
			return a.resp, sent
		case <-giveUp:
			t.Fatalf("%s: still reading the body after %d of %d bytes", path, sent, n)
		case <-tick.C:
			if sent < n {
				if _, err := conn.Write([]byte(" ")); err != nil {
					t.Fatalf("%s: write: %v", path, err)
				}
				sent++
			}
		}
	}
}

// A client that sends its body too slowly is cut off with 408 at its
// route's body read timeout, which is set per route: the ingest route
// keeps its own (longer in production) timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	const body = 1000 // bytes: 20 s at the client's pace
	for _, tc := range []struct {
		name, path   string
		graph, event time.Duration
	}{
		{"GraphQL", "/graphql", 300 * time.Millisecond, time.Hour},
		{"Events", "/v1/events", time.Hour, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := gqltest.NewServerWith(t, gqltest.Options{BodyReadTimeout: tc.graph, IngestBodyReadTimeout: tc.event})
			_, key := srv.Env.AccountKey(t, "platform", domain.ScopePublisher)
			resp, sent := dribble(t, srv.HTTP.Addr(), tc.path, key, body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || sent >= body {
				t.Fatalf("answered %d after %d of %d body bytes, want 408 before the body ended", resp.StatusCode, sent, body)
			}
			if !resp.Close && !strings.EqualFold(resp.Header.Get("Connection"), "close") {
				t.Errorf("the connection stays open after a timed-out body")
			}
		})
	}
}

// The production timeouts: every route has one, and ingest (bodies of
// megabytes) gets more time than the rest.
func TestBodyReadTimeoutDefaults(t *testing.T) {
	s := httpserver.New(slog.New(slog.DiscardHandler), metrics.New())
	ingest := s.RouteBodyReadTimeouts["POST /v1/events"]
	if s.BodyReadTimeout <= 0 || ingest <= s.BodyReadTimeout {
		t.Fatalf("body read timeouts: default %v, ingest %v", s.BodyReadTimeout, ingest)
	}
}
