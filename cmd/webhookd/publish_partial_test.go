package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/faultstore"
)

// A store that fills up partway through a batch leaves some events
// accepted: /v1/events answers each event exactly, the accepted ones with
// their message IDs (and they are in the log), the rest rejected with
// STORE_UNAVAILABLE (and not in the log), so the publisher resends only
// those.
func TestPublishBatchFailingPartwayReportsEachEvent(t *testing.T) {
	var fs *faultstore.Store
	m := runMainWith(t, t.TempDir(), func(s eventstore.Store) eventstore.Store { fs = faultstore.Wrap(s); return fs })
	base := "http://" + m.HTTP.Addr()
	ctx := context.Background()
	pub, err := m.Core.App.CreateAPIKey(ctx, "platform", domain.ScopePublisher, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	const accepted, events = 3, 8
	var body strings.Builder
	for i := range events {
		fmt.Fprintf(&body, `{"account":"acme","type":"email.open","data":{"n":%d}}`+"\n", i)
	}
	fs.FailAppendsAfter(accepted, fmt.Errorf("bolt: commit: write events.db: %w", syscall.ENOSPC))
	status, _, out := postEvents(t, base, pub.Secret, body.String())
	results, _ := out["results"].([]any)
	if status != http.StatusOK || len(results) != events {
		t.Fatalf("status %d, body %v; want 200 with %d results", status, out, events)
	}
	for i, r := range results {
		res := r.(map[string]any)
		id, _ := res["messageId"].(string)
		_, err := m.Core.Store.ReadStream(ctx, domain.MessageStream(id), 0, 1)
		if i < accepted {
			if res["status"] != "accepted" || id == "" || err != nil {
				t.Fatalf("event %d: %v, in the log: %v; want accepted and stored", i, res, err)
			}
			continue
		}
		e, _ := res["error"].(map[string]any)
		if res["status"] != "rejected" || e == nil || e["code"] != domain.ESTOREUNAVAILABLE || id != "" {
			t.Fatalf("event %d: %v; want rejected with STORE_UNAVAILABLE and no message ID", i, res)
		}
	}
	if n := fs.RefusedAppends(); n != events-accepted {
		t.Fatalf("the store refused %d appends, want %d", n, events-accepted)
	}
	recs, err := m.Core.Store.ReadAll(ctx, eventstore.Start, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, r := range recs {
		if r.Type == (domain.MessagePublished{}).EventType() {
			stored++
		}
	}
	if stored != accepted {
		t.Fatalf("the log holds %d messages, want %d", stored, accepted)
	}
}
