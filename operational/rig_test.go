package operational_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/operational"
	"github.com/webhookd/webhookd/projections/due"
)

// opsTypes are the operational event types.
var opsTypes = []string{
	domain.OpWebhookDisabled, domain.OpWebhookVerificationFailed, domain.OpWebhookRecovered,
	domain.OpWebhookRateLimited, domain.OpDeliveryFailed,
}

// rig is a webhookd server (the production HTTP chain over a real core)
// with an account, a publisher key and the account's webhooks on real
// loopback receivers.
type rig struct {
	srv    *gqltest.Server
	c      *gqltest.Client
	pubKey string
}

func newRig(t *testing.T, opts gqltest.Options) *rig {
	t.Helper()
	if opts.Env.Logger == nil {
		opts.Env.Logger = slog.New(slog.DiscardHandler)
	}
	srv := gqltest.NewServerWith(t, opts)
	srv.AllowLoopback()
	_, acct := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	_, pub := srv.Env.AccountKey(t, "platform", domain.ScopePublisher)
	return &rig{srv: srv, c: srv.Client(acct), pubKey: pub}
}

// reopen serves the same data directory again with the same keys.
func (r *rig) reopen(t *testing.T, dir string) *rig {
	t.Helper()
	srv := gqltest.NewServerWith(t, gqltest.Options{Env: testenv.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)}})
	srv.AllowLoopback()
	return &rig{srv: srv, c: srv.Client(r.c.Key), pubKey: r.pubKey}
}

// webhook creates a webhook on rc at path with input's extra fields,
// subscribed to types; verified unless unverified is set.
func (r *rig) webhook(t *testing.T, rc *testenv.Receiver, path string, types []string, extra map[string]any, verify bool) gqltest.Webhook {
	t.Helper()
	in := map[string]any{"name": "hook " + path, "url": rc.URL + path, "eventTypes": types}
	maps.Copy(in, extra)
	w, ue := r.c.CreateWebhook(t, in)
	if len(ue) > 0 || w == nil {
		t.Fatalf("createWebhook: %v", ue)
	}
	if !verify {
		return *w
	}
	rc.PlaceFile(w.Verification.FileName, w.Verification.FileContent)
	if ok, reason := r.verify(t, w.ID); !ok {
		t.Fatalf("verify %s: %s", path, reason)
	}
	return *w
}

func (r *rig) verify(t *testing.T, id string) (bool, string) {
	t.Helper()
	var out struct {
		VerifyWebhook struct {
			Verified   bool                `json:"verified"`
			Reason     *string             `json:"reason"`
			UserErrors []gqltest.UserError `json:"userErrors"`
		} `json:"verifyWebhook"`
	}
	r.c.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified reason userErrors { field message code } } }`,
		map[string]any{"id": id}, &out)
	if len(out.VerifyWebhook.UserErrors) > 0 {
		t.Fatalf("verifyWebhook: %v", out.VerifyWebhook.UserErrors)
	}
	reason := ""
	if out.VerifyWebhook.Reason != nil {
		reason = *out.VerifyWebhook.Reason
	}
	return out.VerifyWebhook.Verified, reason
}

// publish posts one event of type typ for acme to POST /v1/events and
// returns the answer's status per event.
func (r *rig) publish(t *testing.T, typ string) []map[string]any {
	t.Helper()
	body, _ := json.Marshal([]map[string]any{{"account": "acme", "type": typ, "data": map[string]any{"n": 1}}})
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+r.pubKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.srv.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Results) != 1 || out.Results[0]["status"] != "accepted" {
		t.Fatalf("POST /v1/events: %d: %v %v", resp.StatusCode, err, out.Results)
	}
	return out.Results
}

// received is one delivery a receiver got, decoded.
type received struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (d received) about() string {
	var v struct {
		Webhook domain.OperationalWebhook `json:"webhook"`
	}
	_ = json.Unmarshal(d.Data, &v)
	return v.Webhook.ID
}

// deliveries returns what rc received, decoded, of the given types (all
// when none are given).
func deliveries(t *testing.T, rc *testenv.Receiver, types ...string) []received {
	t.Helper()
	return decode(t, rc.Received(), types...)
}

func decode(t *testing.T, got []testenv.Received, types ...string) []received {
	t.Helper()
	var out []received
	for _, g := range got {
		var d received
		if err := json.Unmarshal(g.Body, &d); err != nil {
			t.Fatalf("a delivery that is not JSON: %s", g.Body)
		}
		if len(types) == 0 || slices.Contains(types, d.Type) {
			out = append(out, d)
		}
	}
	return out
}

// waitOps waits until rc has received n deliveries of typ about webhook
// gid (any webhook when gid is ""), and returns them.
func waitOps(t *testing.T, rc *testenv.Receiver, typ, gid string, n int) []received {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// One snapshot for both the check and the wait, so a delivery
		// arriving in between is not waited for twice.
		all := rc.Received()
		var got []received
		for _, d := range decode(t, all, typ) {
			if gid == "" || d.about() == gid {
				got = append(got, d)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s deliveries about %s, want %d; all received: %d", len(got), typ, gid, n, len(all))
		}
		rc.WaitFor(t, len(all)+1, time.Until(deadline))
	}
}

// sampleKeys is the sorted top-level keys of typ's catalogue sample, and
// of its objects one level down as "name.key".
func sampleKeys(t *testing.T, typ string) []string {
	t.Helper()
	et, ok := domain.BuiltinCatalogue().Lookup(typ)
	if !ok {
		t.Fatalf("%s not in the catalogue", typ)
	}
	return keysOf(t, et.Sample)
}

func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) == nil {
			for ik := range inner {
				keys = append(keys, k+"."+ik)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// countOperationalMessages counts the operational messages in the log.
func countOperationalMessages(t *testing.T, env *testenv.Env) int {
	t.Helper()
	n := 0
	for pos := uint64(0); ; {
		recs, err := env.Store.ReadAll(t.Context(), eventstore.Position(pos), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			pos = uint64(rec.Position)
			if rec.Type != (domain.MessagePublished{}).EventType() {
				continue
			}
			ev, err := env.Codec.Decode(rec)
			if err != nil {
				t.Fatal(err)
			}
			if m := ev.(domain.MessagePublished); domain.BuiltinCatalogue().Operational(m.Type) {
				n++
			}
		}
		if len(recs) < 1000 {
			return n
		}
	}
}

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

func aboutOf(ds []received, gid string) []received {
	var out []received
	for _, d := range ds {
		if d.about() == gid {
			out = append(out, d)
		}
	}
	return out
}

// sentinel makes a webhook fail its verification and waits until ops has
// received the webhook.verification_failed about it. The reactor handles
// the log in order, so everything before has been handled then. It
// returns the webhook's ID.
func sentinel(t *testing.T, r *rig, rc, ops *testenv.Receiver) string {
	t.Helper()
	w := r.webhook(t, rc, "/sentinel", []string{"email.click"}, nil, false)
	if ok, _ := r.verify(t, w.ID); ok {
		t.Fatal("verified without a file")
	}
	waitOps(t, ops, domain.OpWebhookVerificationFailed, w.ID, 1)
	return w.ID
}

// waitNothingOwed waits until the due index owes the webhook (GraphQL ID
// gid) nothing: every delivery to it has finished.
func waitNothingOwed(t *testing.T, r *rig, gid string) {
	t.Helper()
	_, id, err := domain.DecodeGlobalID(gid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		owed, _, err := due.DueFor(r.srv.Env.ReadDB, id, time.Now().Add(24*time.Hour), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(owed) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook %s still owes %s after 20 s", id, owed[0].DeliveryID)
		}
		time.Sleep(20 * time.Millisecond) // polling the read model with a deadline
	}
}

// waitPosts waits until rc has received n POSTs.
func waitPosts(t *testing.T, rc *testenv.Receiver, _ string, n int) {
	t.Helper()
	rc.WaitFor(t, n, 20*time.Second)
}

// waitFailed waits until a delivery to webhook id shows as failed.
func waitFailed(t *testing.T, r *rig, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out struct {
			Deliveries struct {
				Nodes []struct{ ID string } `json:"nodes"`
			} `json:"deliveries"`
		}
		r.c.MustData(t, `query($w: ID!) { deliveries(webhook: $w, status: FAILED, first: 5) { nodes { id } } }`, map[string]any{"w": id}, &out)
		if len(out.Deliveries.Nodes) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed delivery after 20 s")
		}
		time.Sleep(20 * time.Millisecond) // polling a query: the read model has no wait for this
	}
}

// replayAll runs a second reactor over the whole log from its start, with
// a checkpoint of its own, until it has handled the log's last event it
// reacts to: what a crash right after publishing, before any checkpoint
// was saved, would replay.
func replayAll(t *testing.T, env *testenv.Env) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "replay.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rx := &operational.Reactor{Store: env.Store, Codec: env.Codec, DB: db, Publisher: env.App,
		Operational: env.App.Catalogue.Operational, Logger: slog.New(slog.DiscardHandler)}
	if err := rx.Open(); err != nil {
		t.Fatal(err)
	}
	last := lastTrigger(t, env)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rx.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for rx.Position() < last {
		if time.Now().After(deadline) {
			t.Fatalf("replay reached %d of %d", rx.Position(), last)
		}
		time.Sleep(5 * time.Millisecond) // polling a position the reactor does not announce
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// lastTrigger is the position of the log's last webhook or delivery event.
func lastTrigger(t *testing.T, env *testenv.Env) eventstore.Position {
	t.Helper()
	var last eventstore.Position
	for pos := eventstore.Position(0); ; {
		recs, err := env.Store.ReadAll(t.Context(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			pos = rec.Position
			switch rec.Type {
			case "webhook.verification_failed.v1", "webhook.disabled.v1", "delivery.failed.v1", "delivery.succeeded.v1", "delivery.retry_scheduled.v1", "webhook.deleted.v1":
				last = rec.Position
			}
		}
		if len(recs) < 1000 {
			return last
		}
	}
}
