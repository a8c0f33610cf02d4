package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

type deliveryJSON struct {
	ID           string `json:"id"`
	MessageID    string `json:"messageId"`
	Status       string `json:"status"`
	Test         bool   `json:"test"`
	AttemptCount int    `json:"attemptCount"`
	Attempts     []struct {
		StatusCode     *int `json:"statusCode"`
		RequestHeaders []struct{ Name, Value string }
	} `json:"attempts"`
	Webhook *struct{ ID string } `json:"webhook"`
}

const deliveryFields = `id messageId status test attemptCount attempts { statusCode requestHeaders { name value } } webhook { id }`

// deliverySetup is a server with a running dispatcher, an account with one
// verified webhook on a loopback receiver, and a publisher key.
func deliverySetup(t *testing.T) (*gqltest.Server, *gqltest.Client, *gqltest.Client, *testenv.Receiver, string) {
	t.Helper()
	srv := gqltest.NewServer(t)
	srv.Env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := srv.Env.VerifiedWebhook(t, p, recv, "/hooks/in", "email.bounce", "webhook.test")
	publisher := srv.AccountClient(t, "platform", domain.ScopePublisher)
	return srv, srv.Client(key), publisher, recv, domain.EncodeGlobalID("Webhook", hook.ID)
}

func publishBounce(t *testing.T, publisher *gqltest.Client, id string) string {
	t.Helper()
	var out struct {
		PublishEvents struct {
			Results []struct {
				MessageID  *string
				Duplicate  bool
				UserErrors []gqltest.UserError
			}
		}
	}
	publisher.MustData(t, `mutation($e: [PublishEventInput!]!) { publishEvents(input: {events: $e}) { results { messageId duplicate userErrors { field message code } } } }`,
		map[string]any{"e": []map[string]any{{"id": id, "account": "acme", "type": "email.bounce", "data": map[string]any{"to": "x@example.com"}}}}, &out)
	r := out.PublishEvents.Results[0]
	if len(r.UserErrors) > 0 || r.MessageID == nil {
		t.Fatalf("publish refused: %v", r.UserErrors)
	}
	return *r.MessageID
}

func TestDeliveryLogOverGraphQL(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := srv.Dial(ctx, client.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Subscribe(ctx, "1", `subscription($w: ID) { deliveryUpdated(webhook: $w) { `+deliveryFields+` } }`, map[string]any{"w": hookID}); err != nil {
		t.Fatal(err)
	}
	srv.WaitSubscribers(t, 1) // the subscription is registered before publishing

	msgID := publishBounce(t, publisher, "evt-42")
	recv.WaitFor(t, 1, 10*time.Second)

	t.Run("LiveUpdate", func(t *testing.T) {
		for {
			m, err := conn.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var data struct{ DeliveryUpdated deliveryJSON }
			if err := json.Unmarshal(payloadData(t, m), &data); err != nil {
				t.Fatal(err)
			}
			d := data.DeliveryUpdated
			if d.MessageID != msgID {
				t.Fatalf("live update for message %s, want %s", d.MessageID, msgID)
			}
			if d.Status == "SUCCEEDED" {
				if d.AttemptCount != 1 || len(d.Attempts) != 1 || d.Attempts[0].StatusCode == nil || *d.Attempts[0].StatusCode != 200 {
					t.Fatalf("succeeded delivery = %+v", d)
				}
				return
			}
		}
	})
	t.Run("ListAndDetail", func(t *testing.T) {
		var out struct {
			Deliveries struct{ Nodes []deliveryJSON }
		}
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w, status: SUCCEEDED, first: 10) { nodes { `+deliveryFields+` } } }`, map[string]any{"w": hookID}, &out)
		if len(out.Deliveries.Nodes) != 1 || out.Deliveries.Nodes[0].MessageID != msgID || out.Deliveries.Nodes[0].Webhook.ID != hookID {
			t.Fatalf("deliveries = %+v", out.Deliveries.Nodes)
		}
		for _, h := range out.Deliveries.Nodes[0].Attempts[0].RequestHeaders {
			if strings.Contains(h.Value, "whsec_") {
				t.Fatalf("request header %s leaks a secret", h.Name)
			}
		}
		// The log leaves out the headers an attempt's facts determine
		// (domain.DerivedRequestHeaders); the attempt still shows them.
		sent := map[string]string{}
		for _, h := range out.Deliveries.Nodes[0].Attempts[0].RequestHeaders {
			sent[h.Name] = h.Value
		}
		if sent["Webhook-Id"] != msgID || sent["Webhook-Timestamp"] == "" || sent["Webhook-Signature"] == "" || sent["Content-Type"] == "" {
			t.Errorf("attempt shows request headers %v, want webhook-id %s, its timestamp, signature and content type", sent, msgID)
		}
		var one struct{ Delivery *deliveryJSON }
		client.MustData(t, `query($id: ID!) { delivery(id: $id) { `+deliveryFields+` } }`, map[string]any{"id": out.Deliveries.Nodes[0].ID}, &one)
		if one.Delivery == nil || one.Delivery.ID != out.Deliveries.Nodes[0].ID {
			t.Fatalf("delivery(id) = %+v", one.Delivery)
		}
	})
	t.Run("History", func(t *testing.T) {
		var out struct {
			Deliveries struct {
				Nodes []struct{ ID, MessageGlobalID string }
			}
		}
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { id messageGlobalId } } }`, map[string]any{"w": hookID}, &out)
		d := out.Deliveries.Nodes[0]
		types := func(c *gqltest.Client, subject string) string {
			var h struct {
				History struct{ Nodes []struct{ Type string } }
			}
			c.MustData(t, `query($s: ID!) { history(subject: $s, first: 2) { nodes { type } } }`, map[string]any{"s": subject}, &h)
			var names []string
			for _, n := range h.History.Nodes {
				names = append(names, n.Type)
			}
			return strings.Join(names, ",")
		}
		// A first attempt that succeeds is one event: scheduling, attempt
		// and outcome.
		if got := types(client, d.ID); got != "delivery.attempt_recorded.v1" {
			t.Errorf("delivery history = %s", got)
		}
		if got := types(client, d.MessageGlobalID); got != "message.published.v1" {
			t.Errorf("message history = %s", got)
		}
		intruder := srv.AccountClient(t, "nosy", domain.ScopeAccount)
		if got := types(intruder, d.ID) + types(intruder, d.MessageGlobalID); got != "" {
			t.Errorf("another account reads the history: %s", got)
		}
		var page struct {
			History struct {
				Nodes    []struct{ Type string }
				PageInfo struct{ EndCursor string }
			}
		}
		client.MustData(t, `query($s: ID!) { history(subject: $s, first: 1) { nodes { type } pageInfo { endCursor } } }`, map[string]any{"s": d.ID}, &page)
		client.MustData(t, `query($s: ID!, $a: String) { history(subject: $s, first: 5, after: $a) { nodes { type } pageInfo { endCursor } } }`, map[string]any{"s": d.ID, "a": page.History.PageInfo.EndCursor}, &page)
		if len(page.History.Nodes) != 0 {
			t.Errorf("page after the stream's only event = %+v", page.History.Nodes)
		}
	})
	t.Run("OtherTenantSeesNothing", func(t *testing.T) {
		other := srv.AccountClient(t, "intruder", domain.ScopeAccount)
		var out struct {
			Deliveries struct{ Nodes []deliveryJSON }
			Stats      *struct{ Attempts int }
		}
		other.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { id } } stats(webhook: $w) { attempts } }`, map[string]any{"w": hookID}, &out)
		if len(out.Deliveries.Nodes) != 0 || out.Stats != nil {
			t.Fatalf("another account sees %+v", out)
		}
	})
	t.Run("DuplicatePublishDeliversNothingNew", func(t *testing.T) {
		if again := publishBounce(t, publisher, "evt-42"); again != msgID {
			t.Fatalf("republished key got message %s, want %s", again, msgID)
		}
	})
	t.Run("Stats", func(t *testing.T) {
		var out struct {
			Stats struct {
				Attempts, Succeeded int
				SuccessRate         float64
				Series              []struct{ Attempts int }
			}
		}
		client.MustData(t, `query($w: ID!) { stats(webhook: $w, window: HOUR) { attempts succeeded successRate series { attempts } } }`, map[string]any{"w": hookID}, &out)
		if out.Stats.Attempts != 1 || out.Stats.Succeeded != 1 || out.Stats.SuccessRate != 1 || len(out.Stats.Series) == 0 {
			t.Fatalf("stats = %+v", out.Stats)
		}
	})
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("receiver got %d requests, want exactly 1", n)
	}
}

func TestTestingToolAndCheckNow(t *testing.T) {
	srv, client, _, recv, hookID := deliverySetup(t)
	var out struct {
		TestWebhook struct {
			Result *struct {
				Succeeded  bool
				StatusCode *int
			}
			Delivery   *deliveryJSON
			UserErrors []gqltest.UserError
		}
	}
	client.MustData(t, `mutation($id: ID!) { testWebhook(input: {id: $id, type: "email.bounce", payload: {custom: true}}) { result { succeeded statusCode } delivery { `+deliveryFields+` } userErrors { field message code } } }`,
		map[string]any{"id": hookID}, &out)
	r := out.TestWebhook
	if len(r.UserErrors) > 0 || r.Result == nil || !r.Result.Succeeded || *r.Result.StatusCode != 200 || r.Delivery == nil || !r.Delivery.Test {
		t.Fatalf("testWebhook = %+v", r)
	}
	got := recv.Received()
	if len(got) != 1 || !strings.Contains(string(got[0].Body), `"custom":true`) {
		t.Fatalf("receiver got %d requests; body %s", len(got), got[0].Body)
	}

	// An unverified webhook cannot be tested; Check now says why.
	p, _ := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	if _, err := srv.Env.App.CreateWebhook(context.Background(), p, domain.CreateWebhook{Name: "new", URL: recv.URL + "/other", EventTypes: []string{"email.open"}}); err != nil {
		t.Fatal(err)
	}
	recv.Respond(http.StatusInternalServerError, 0)
	var check struct {
		CheckWebhooks struct {
			Results []struct {
				Webhook struct{ ID string }
				Result  *struct{ Succeeded bool }
				Error   *string
			}
		}
	}
	client.MustData(t, `mutation { checkWebhooks { results { webhook { id } result { succeeded } error } } }`, nil, &check)
	if len(check.CheckWebhooks.Results) != 2 {
		t.Fatalf("check now returned %d results", len(check.CheckWebhooks.Results))
	}
	for _, c := range check.CheckWebhooks.Results {
		switch {
		case c.Webhook.ID == hookID && (c.Result == nil || c.Result.Succeeded):
			t.Errorf("verified webhook with a failing receiver: %+v", c.Result)
		case c.Webhook.ID != hookID && (c.Error == nil || !strings.Contains(*c.Error, "verify")):
			t.Errorf("unverified webhook: error = %v", c.Error)
		}
	}
}

func TestRedeliverAndRecover(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	// A failed test delivery is final at once (tests get one attempt), which
	// gives a failed delivery without waiting through a retry schedule.
	recv.Respond(http.StatusInternalServerError, 0)
	var tw struct {
		TestWebhook struct{ Delivery deliveryJSON }
	}
	client.MustData(t, `mutation($id: ID!) { testWebhook(input: {id: $id, type: "webhook.test"}) { delivery { id status } } }`, map[string]any{"id": hookID}, &tw)
	if tw.TestWebhook.Delivery.Status != "FAILED" {
		t.Fatalf("test delivery status = %s", tw.TestWebhook.Delivery.Status)
	}
	recv.Respond(http.StatusOK, 0)
	var rd struct {
		Redeliver struct {
			Delivery   *deliveryJSON
			UserErrors []gqltest.UserError
		}
	}
	client.MustData(t, `mutation($d: ID!) { redeliver(input: {delivery: $d}) { delivery { id status } userErrors { field message code } } }`, map[string]any{"d": tw.TestWebhook.Delivery.ID}, &rd)
	if len(rd.Redeliver.UserErrors) > 0 {
		t.Fatalf("redeliver: %v", rd.Redeliver.UserErrors)
	}
	recv.WaitFor(t, 2, 10*time.Second)

	waitStatus(t, client, tw.TestWebhook.Delivery.ID, "SUCCEEDED")

	// Two more failures, then recover everything failed in the last hour.
	recv.Respond(http.StatusInternalServerError, 0)
	for range 2 {
		client.MustData(t, `mutation($id: ID!) { testWebhook(input: {id: $id, type: "webhook.test"}) { delivery { id status } } }`, map[string]any{"id": hookID}, &tw)
	}
	recv.Respond(http.StatusOK, 0)
	var rc struct {
		RecoverDeliveries struct {
			Count      int
			UserErrors []gqltest.UserError
		}
	}
	recover := `mutation($w: ID!, $s: Time!) { recoverDeliveries(input: {webhook: $w, since: $s}) { count userErrors { field message code } } }`
	vars := map[string]any{"w": hookID, "s": time.Now().Add(-time.Hour).Format(time.RFC3339)}
	client.MustData(t, recover, vars, &rc)
	if rc.RecoverDeliveries.Count != 2 {
		t.Fatalf("recovered %d deliveries, want 2", rc.RecoverDeliveries.Count)
	}
	recv.WaitFor(t, 6, 10*time.Second) // 1+1 earlier, 2 failures, 2 recovered
	client.MustData(t, recover, vars, &rc)
	if rc.RecoverDeliveries.Count != 0 {
		t.Fatalf("a second recover sent %d again", rc.RecoverDeliveries.Count)
	}

	// Another account cannot redeliver it.
	other := srv.AccountClient(t, "intruder", domain.ScopeAccount)
	other.MustData(t, `mutation($d: ID!) { redeliver(input: {delivery: $d}) { delivery { id } userErrors { field message code } } }`, map[string]any{"d": tw.TestWebhook.Delivery.ID}, &rd)
	if len(rd.Redeliver.UserErrors) != 1 || rd.Redeliver.UserErrors[0].Code != "NOT_FOUND" || rd.Redeliver.Delivery != nil {
		t.Fatalf("intruder redeliver: %+v", rd.Redeliver)
	}
	_ = publisher
}

func waitStatus(t *testing.T, c *gqltest.Client, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct{ Delivery deliveryJSON }
		c.MustData(t, `query($id: ID!) { delivery(id: $id) { id status } }`, map[string]any{"id": id}, &out)
		if out.Delivery.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s, want %s", id, out.Delivery.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func payloadData(t *testing.T, m gqltest.Message) json.RawMessage {
	t.Helper()
	if m.Type != "next" {
		t.Fatalf("subscription message %s: %s", m.Type, m.Payload)
	}
	var p struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("subscription payload %s: %v", m.Payload, err)
	}
	return p.Data
}

func TestPausedWebhookKeepsItsBacklog(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	var paused struct {
		PauseWebhook struct{ Webhook struct{ Status string } }
	}
	client.MustData(t, `mutation($id: ID!) { pauseWebhook(input: {id: $id}) { webhook { status } } }`, map[string]any{"id": hookID}, &paused)
	if paused.PauseWebhook.Webhook.Status != "PAUSED" {
		t.Fatalf("status = %s", paused.PauseWebhook.Webhook.Status)
	}
	msgID := publishBounce(t, publisher, "while-paused")
	var list struct {
		Deliveries struct{ Nodes []deliveryJSON }
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(list.Deliveries.Nodes) == 0 && time.Now().Before(deadline) {
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w, status: PENDING) { nodes { `+deliveryFields+` } } }`, map[string]any{"w": hookID}, &list)
	}
	if len(list.Deliveries.Nodes) != 1 || list.Deliveries.Nodes[0].MessageID != msgID || list.Deliveries.Nodes[0].AttemptCount != 0 {
		t.Fatalf("pending deliveries while paused = %+v", list.Deliveries.Nodes)
	}
	if n := len(recv.Received()); n != 0 {
		t.Fatalf("a paused webhook received %d requests", n)
	}
	client.MustData(t, `mutation($id: ID!) { resumeWebhook(input: {id: $id}) { webhook { status } } }`, map[string]any{"id": hookID}, &paused)
	got := recv.WaitFor(t, 1, 10*time.Second)
	if got[0].Header.Get("webhook-id") != msgID {
		t.Fatalf("after resuming, got message %s, want %s", got[0].Header.Get("webhook-id"), msgID)
	}
	waitStatus(t, client, list.Deliveries.Nodes[0].ID, "SUCCEEDED")
	_ = srv
}

func TestPublishEventsNeedsThePublisherScope(t *testing.T) {
	srv := gqltest.NewServer(t)
	account := srv.AccountClient(t, "acme", domain.ScopeAccount)
	q := `mutation { publishEvents(input: {events: [{account: "acme", type: "email.open", data: {}}]}) { results { messageId } } }`
	if res := account.Do(t, q, nil); !res.HasCode("FORBIDDEN") {
		t.Fatalf("an account key published: %s", res.Body)
	}
	var out struct {
		PublishEvents struct {
			Results []struct {
				MessageID  *string
				UserErrors []gqltest.UserError
			}
		}
	}
	publisher := srv.AccountClient(t, "platform", domain.ScopePublisher)
	publisher.MustData(t, `mutation { publishEvents(input: {events: [
		{account: "acme", type: "email.open", data: {}},
		{account: "acme", type: "no.such.type", data: {}}]}) { results { messageId userErrors { field message code } } } }`, nil, &out)
	r := out.PublishEvents.Results
	if len(r) != 2 || r[0].MessageID == nil || r[1].MessageID != nil || len(r[1].UserErrors) != 1 || r[1].UserErrors[0].Code != "INVALID" {
		t.Fatalf("results = %+v", r)
	}
}

// deliveryStreamReads counts the reads of delivery streams.
type deliveryStreamReads struct {
	eventstore.Store
	n atomic.Int64
}

func (s *deliveryStreamReads) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if strings.HasPrefix(stream, domain.DeliveryStreamCategory+"-") {
		s.n.Add(1)
	}
	return s.Store.ReadStream(ctx, stream, from, limit)
}

// A delivery's attempts are read from its stream only when a query asks
// for them: a listing that leaves them out (the Webhooks tab's list and
// its deliveryUpdated subscription) reads no stream, one that asks reads
// one stream per delivery.
func TestDeliveryAttemptsAreReadOnlyWhenAsked(t *testing.T) {
	var reads *deliveryStreamReads
	srv := gqltest.NewServerWith(t, gqltest.Options{Env: testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		reads = &deliveryStreamReads{Store: s}
		return reads
	}}})
	srv.Env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := srv.Env.VerifiedWebhook(t, p, recv, "/hooks/in", "email.bounce")
	publisher := srv.AccountClient(t, "platform", domain.ScopePublisher)
	for i := range 3 {
		publishBounce(t, publisher, fmt.Sprintf("evt-%d", i))
	}
	recv.WaitFor(t, 3, 10*time.Second)
	client, vars := srv.Client(key), map[string]any{"w": domain.EncodeGlobalID("Webhook", hook.ID)}
	type node struct {
		Status   string
		Attempts []struct{ Number int }
	}
	list := func(fields string) []node {
		var out struct{ Deliveries struct{ Nodes []node } }
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w, first: 10) { nodes { `+fields+` } } }`, vars, &out)
		return out.Deliveries.Nodes
	}
	waitFor(t, func() bool {
		n := list("status")
		return len(n) == 3 && n[0].Status == "SUCCEEDED" && n[1].Status == "SUCCEEDED" && n[2].Status == "SUCCEEDED"
	})
	before := reads.n.Load()
	list("id status attemptCount")
	if n := reads.n.Load() - before; n != 0 {
		t.Errorf("a listing without attempts read %d delivery streams", n)
	}
	before = reads.n.Load()
	nodes := list("id attempts { number }")
	if n := reads.n.Load() - before; n != 3 {
		t.Errorf("a listing of 3 deliveries with attempts read %d delivery streams, want 3", n)
	}
	for _, d := range nodes {
		if len(d.Attempts) != 1 || d.Attempts[0].Number != 1 {
			t.Errorf("attempts %+v, want the one first attempt", d.Attempts)
		}
	}
}
