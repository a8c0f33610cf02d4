package graph_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

const filterPayload = `webhook { id filter revision } userErrors { field message code }`

type filterHook struct {
	CreateWebhook, UpdateWebhook struct {
		Webhook *struct {
			ID       string
			Filter   json.RawMessage
			Revision int
		}
		UserErrors []gqltest.UserError
	}
}

// TestWebhookFilterOverGraphQL: a filter is checked at create and update
// (a userError on ["input","filter"] naming the path or operator), stored
// in canonical form, returned, removed with {}, and audited.
func TestWebhookFilterOverGraphQL(t *testing.T) {
	srv := gqltest.NewServer(t)
	client := srv.AccountClient(t, "acme", domain.ScopeAccount)
	create := func(filter any) filterHook {
		var out filterHook
		client.MustData(t, `mutation($f: JSON) { createWebhook(input: {name: "f", url: "https://hooks.example.com/in", eventTypes: ["email.bounce"], filter: $f}) { `+filterPayload+` } }`,
			map[string]any{"f": filter}, &out)
		return out
	}
	for _, tc := range []struct {
		filter any
		want   string
	}{
		{map[string]any{"severity": "hard"}, `path "severity" must start with "data."`},
		{map[string]any{"data.code": map[string]any{"$regex": "^5"}}, `unknown operator "$regex" at data.code`},
		{map[string]any{"data.code": map[string]any{"$gt": "500"}}, `$gt at data.code needs a number`},
		{"data.severity = hard", "must be a JSON object"},
	} {
		out := create(tc.filter).CreateWebhook
		if out.Webhook != nil || len(out.UserErrors) != 1 || strings.Join(out.UserErrors[0].Field, ".") != "input.filter" ||
			out.UserErrors[0].Code != domain.EINVALID || !strings.Contains(out.UserErrors[0].Message, tc.want) {
			t.Errorf("filter %v: %+v, want a userError on input.filter mentioning %q", tc.filter, out, tc.want)
		}
	}

	out := create(map[string]any{"data": map[string]any{"severity": "hard"}, "data.tags": map[string]any{"$contains": "newsletter"}}).CreateWebhook
	if len(out.UserErrors) > 0 || out.Webhook == nil || string(out.Webhook.Filter) != `{"data":{"severity":"hard"},"data.tags":{"$contains":"newsletter"}}` {
		t.Fatalf("create with a filter = %+v (filter %s)", out, out.Webhook.Filter)
	}
	id := out.Webhook.ID
	update := func(filter any) filterHook {
		var out filterHook
		client.MustData(t, `mutation($id: ID!, $f: JSON) { updateWebhook(input: {id: $id, filter: $f}) { `+filterPayload+` } }`,
			map[string]any{"id": id, "f": filter}, &out)
		return out
	}
	if u := update(map[string]any{"data.x": map[string]any{"$in": []any{}}}).UpdateWebhook; len(u.UserErrors) != 1 ||
		!strings.Contains(u.UserErrors[0].Message, "$in at data.x needs a non-empty list") {
		t.Errorf("bad update = %+v", u)
	}
	if u := update(map[string]any{"data.severity": "soft"}).UpdateWebhook; len(u.UserErrors) > 0 || string(u.Webhook.Filter) != `{"data.severity":"soft"}` {
		t.Errorf("update = %+v", u)
	}
	var kept filterHook
	client.MustData(t, `mutation($id: ID!) { updateWebhook(input: {id: $id, name: "renamed"}) { `+filterPayload+` } }`, map[string]any{"id": id}, &kept)
	if w := kept.UpdateWebhook.Webhook; w == nil || string(w.Filter) != `{"data.severity":"soft"}` {
		t.Errorf("an update without a filter changed it: %+v", kept.UpdateWebhook)
	}
	if u := update(map[string]any{}).UpdateWebhook; len(u.UserErrors) > 0 || u.Webhook.Filter != nil && string(u.Webhook.Filter) != "null" {
		t.Errorf("removing the filter = %+v (filter %s)", u, u.Webhook.Filter)
	}
	var sets []string
	for _, e := range client.History(t, id) {
		if e.Type == "webhook.filter_set.v1" {
			f, _ := json.Marshal(e.Data["filter"])
			sets = append(sets, string(f))
		}
	}
	if strings.Join(sets, " ") != `{"data":{"severity":"hard"},"data.tags":{"$contains":"newsletter"}} {"data.severity":"soft"} null` {
		t.Errorf("history of filter changes: %v", sets)
	}
}

type testSendResult struct {
	TestWebhook struct {
		Result *struct {
			Succeeded    bool
			PassesFilter bool
		}
		UserErrors []gqltest.UserError
	}
}

// TestTestSendsAreFlagged: the testing tool and Check now send the
// webhook-test header and "test": true, and say whether the event passes
// the filter; a real delivery carries neither flag.
func TestTestSendsAreFlagged(t *testing.T) {
	_, client, publisher, recv, hookID := deliverySetup(t)
	var set filterHook
	client.MustData(t, `mutation($id: ID!, $f: JSON) { updateWebhook(input: {id: $id, filter: $f}) { `+filterPayload+` } }`,
		map[string]any{"id": hookID, "f": map[string]any{"data.to": "x@example.com"}}, &set)
	if len(set.UpdateWebhook.UserErrors) > 0 {
		t.Fatal(set.UpdateWebhook.UserErrors)
	}
	send := func(to string) testSendResult {
		var out testSendResult
		client.MustData(t, `mutation($id: ID!, $p: JSON) { testWebhook(input: {id: $id, type: "email.bounce", payload: $p}) { result { succeeded passesFilter } userErrors { field message code } } }`,
			map[string]any{"id": hookID, "p": map[string]any{"to": to}}, &out)
		if out.TestWebhook.Result == nil || !out.TestWebhook.Result.Succeeded {
			t.Fatalf("test send to %s: %+v", to, out.TestWebhook)
		}
		return out
	}
	if send("y@example.com").TestWebhook.Result.PassesFilter {
		t.Error("an event the filter turns away is reported as passing")
	}
	if !send("x@example.com").TestWebhook.Result.PassesFilter {
		t.Error("an event the filter takes is reported as filtered out")
	}
	client.MustData(t, `mutation { checkWebhooks { results { result { succeeded } } } }`, nil, &struct{}{})
	got := recv.WaitFor(t, 3, 10*time.Second)
	for i, r := range got {
		var body struct{ Test bool }
		if err := json.Unmarshal(r.Body, &body); err != nil || !body.Test || r.Header.Get(domain.TestHeader) != "true" {
			t.Errorf("test send %d: header %q, body %s", i, r.Header.Get(domain.TestHeader), r.Body)
		}
	}

	publishBounce(t, publisher, "evt-real")
	real := recv.WaitFor(t, 4, 10*time.Second)[3]
	if _, ok := real.Header[httpHeaderKey(domain.TestHeader)]; ok || strings.Contains(string(real.Body), `"test"`) {
		t.Errorf("a real delivery is flagged as a test: header %v, body %s", real.Header, real.Body)
	}
}

// httpHeaderKey is the canonical form net/http stores a header under.
func httpHeaderKey(name string) string { return http.CanonicalHeaderKey(name) }

func publishData(t *testing.T, publisher *gqltest.Client, id string, data map[string]any) string {
	t.Helper()
	var out struct {
		PublishEvents struct {
			Results []struct {
				MessageID  *string
				UserErrors []gqltest.UserError
			}
		}
	}
	publisher.MustData(t, `mutation($e: [PublishEventInput!]!) { publishEvents(input: {events: $e}) { results { messageId userErrors { field message code } } } }`,
		map[string]any{"e": []map[string]any{{"id": id, "account": "acme", "type": "email.bounce", "data": data}}}, &out)
	if r := out.PublishEvents.Results[0]; len(r.UserErrors) > 0 || r.MessageID == nil {
		t.Fatalf("publish refused: %v", r.UserErrors)
	}
	return *out.PublishEvents.Results[0].MessageID
}

// TestFilteredFanOut: published through the real server, an event the
// filter turns away is never queued for the filtered webhook, while the
// unfiltered one still gets everything.
func TestFilteredFanOut(t *testing.T) {
	srv, client, publisher, all, allID := deliverySetup(t)
	hardOnly := testenv.NewReceiver(t)
	p, _ := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := srv.Env.VerifiedWebhook(t, p, hardOnly, "/hard", "email.bounce")
	hookID := domain.EncodeGlobalID("Webhook", hook.ID)
	var set filterHook
	client.MustData(t, `mutation($id: ID!, $f: JSON) { updateWebhook(input: {id: $id, filter: $f}) { `+filterPayload+` } }`,
		map[string]any{"id": hookID, "f": map[string]any{"data.severity": "hard", "data.tags": map[string]any{"$contains": "newsletter"}}}, &set)
	if len(set.UpdateWebhook.UserErrors) > 0 {
		t.Fatal(set.UpdateWebhook.UserErrors)
	}

	publishData(t, publisher, "soft", map[string]any{"severity": "soft", "tags": []string{"newsletter"}})
	publishData(t, publisher, "hard-no-tag", map[string]any{"severity": "hard", "tags": []string{"receipt"}})
	hard := publishData(t, publisher, "hard", map[string]any{"severity": "hard", "tags": []string{"promo", "newsletter"}})
	if got := hardOnly.WaitFor(t, 1, 10*time.Second); !strings.Contains(string(got[0].Body), hard) {
		t.Fatalf("the filtered webhook got %s, want message %s", got[0].Body, hard)
	}
	all.WaitFor(t, 3, 10*time.Second)

	// Fan-out is decided in log order: once the last message was delivered,
	// the two before it were fanned out too, so the listing is final.
	list := func(id string) []deliveryJSON {
		var out struct {
			Deliveries struct{ Nodes []deliveryJSON }
		}
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { `+deliveryFields+` } } }`, map[string]any{"w": id}, &out)
		return out.Deliveries.Nodes
	}
	if got := list(hookID); len(got) != 1 || got[0].MessageID != hard {
		t.Errorf("the filtered webhook's deliveries: %+v, want only message %s", got, hard)
	}
	if got := list(allID); len(got) != 3 {
		t.Errorf("the unfiltered webhook has %d deliveries, want 3", len(got))
	}
}

// TestFilterChangeKeepsQueued: a filter reaches only messages published
// after it is set; a delivery already queued (here held by a pause) is
// still delivered when the new filter would have turned it away.
func TestFilterChangeKeepsQueued(t *testing.T) {
	_, client, publisher, recv, hookID := deliverySetup(t)
	client.MustData(t, `mutation($id: ID!) { pauseWebhook(input: {id: $id}) { userErrors { message } } }`, map[string]any{"id": hookID}, &struct{}{})
	held := publishData(t, publisher, "held", map[string]any{"severity": "hard"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct {
			Deliveries struct{ Nodes []deliveryJSON }
		}
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { `+deliveryFields+` } } }`, map[string]any{"w": hookID}, &out)
		if len(out.Deliveries.Nodes) == 1 && out.Deliveries.Nodes[0].MessageID == held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the held delivery is not listed: %+v", out.Deliveries.Nodes)
		}
	}
	var set filterHook
	client.MustData(t, `mutation($id: ID!, $f: JSON) { updateWebhook(input: {id: $id, filter: $f}) { `+filterPayload+` } }`,
		map[string]any{"id": hookID, "f": map[string]any{"data.severity": "soft"}}, &set)
	if len(set.UpdateWebhook.UserErrors) > 0 {
		t.Fatal(set.UpdateWebhook.UserErrors)
	}
	publishData(t, publisher, "after", map[string]any{"severity": "hard"}) // turned away: published after the filter
	soft := publishData(t, publisher, "soft", map[string]any{"severity": "soft"})
	client.MustData(t, `mutation($id: ID!) { resumeWebhook(input: {id: $id}) { userErrors { message } } }`, map[string]any{"id": hookID}, &struct{}{})
	got := recv.WaitFor(t, 2, 10*time.Second)
	bodies := string(got[0].Body) + string(got[1].Body)
	if !strings.Contains(bodies, held) || !strings.Contains(bodies, soft) {
		t.Errorf("after resuming, the receiver got %s", bodies)
	}
}
