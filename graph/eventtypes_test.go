package graph_test

import (
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// TestEventTypesSayWhichAreOperational: the catalogue tells the UI which
// types webhookd publishes itself, so a form can group them apart from
// the platform's.
func TestEventTypesSayWhichAreOperational(t *testing.T) {
	srv := gqltest.NewServer(t)
	client := srv.AccountClient(t, "acme", domain.ScopeAccount)
	var out struct {
		EventTypes []struct {
			Name        string
			Operational bool
		}
	}
	client.MustData(t, `{ eventTypes { name operational } }`, nil, &out)
	got := map[string]bool{}
	for _, e := range out.EventTypes {
		got[e.Name] = e.Operational
	}
	for name, want := range map[string]bool{
		"email.bounce": false, "profile.updated": false,
		"webhook.disabled": true, "delivery.failed": true, "webhook.recovered": true,
	} {
		if op, ok := got[name]; !ok || op != want {
			t.Errorf("%s: operational = %v (listed %v), want %v", name, op, ok, want)
		}
	}
}
