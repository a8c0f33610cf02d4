package clustertest

import (
	"net/http"
	"testing"
	"time"
)

// TestAPIOnlyReadyzDuringStoreCut: an API-only instance (--dispatch=false,
// so no leases to lose) on PostgreSQL answers /readyz 503 while its store
// connection is cut, because its subscription, which retries inside,
// reports the lost connection to readiness; and 200 again after the cut.
func TestAPIOnlyReadyzDuringStoreCut(t *testing.T) {
	dbURL, redis := postgresDatabase(t), redisURL(t)
	px := newProxy(t, "127.0.0.1:5432")
	in := newInstance(t, buildBinary(t), "api", withHost(withPool(dbURL, poolPerInstance), px.Addr()), redis, "--dispatch=false")
	in.start()
	px.Cut()
	waitStatus(t, in, http.StatusServiceUnavailable, "during the cut")
	px.Heal()
	waitStatus(t, in, http.StatusOK, "after the cut")
}

func waitStatus(t *testing.T, in *instance, want int, when string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for in.readyz() != want {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered %d %s; log:\n%s", want, when, in.tail())
		}
		time.Sleep(100 * time.Millisecond) // polling readiness with a deadline
	}
}
