package graph_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/webhookd/webhookd/internal/gqltest"
)

const policyFields = `bodyFormat retryPolicy { schedule delaysSeconds maxAttempts totalSeconds attemptTimeoutSeconds }`

type policyJSON struct {
	BodyFormat  string
	RetryPolicy struct {
		Schedule                                         string
		DelaysSeconds                                    []int
		MaxAttempts, TotalSeconds, AttemptTimeoutSeconds int
	}
}

// setPolicy runs updateWebhook with the given policy input and returns
// the webhook's policy as the payload shows it, or its userErrors.
func setPolicy(t *testing.T, client *gqltest.Client, hookID string, input map[string]any) (policyJSON, []gqltest.UserError) {
	t.Helper()
	input["id"] = hookID
	var out struct {
		UpdateWebhook struct {
			Webhook    *policyJSON
			UserErrors []gqltest.UserError
		}
	}
	client.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { webhook { `+policyFields+` } userErrors { field message code } } }`,
		map[string]any{"in": input}, &out)
	if out.UpdateWebhook.Webhook == nil {
		return policyJSON{}, out.UpdateWebhook.UserErrors
	}
	return *out.UpdateWebhook.Webhook, out.UpdateWebhook.UserErrors
}

// TestFormBodyDelivery: a FORM webhook receives SMTPeter's fields,
// form-encoded and signed over the bytes sent (the reference Standard
// Webhooks library verifies them), and requestBody shows those bytes.
func TestFormBodyDelivery(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	if p, ue := setPolicy(t, client, hookID, map[string]any{"bodyFormat": "FORM"}); len(ue) > 0 || p.BodyFormat != "FORM" {
		t.Fatalf("set FORM: %+v %v", p, ue)
	}
	var pub struct {
		PublishEvents struct{ Results []struct{ MessageID *string } }
	}
	publisher.MustData(t, `mutation($e: [PublishEventInput!]!) { publishEvents(input: {events: $e}) { results { messageId } } }`,
		map[string]any{"e": []map[string]any{{"id": "evt-form", "account": "acme", "type": "email.bounce", "data": map[string]any{
			"id": "smtpeter-1", "recipient": "old@example.org", "from": "news@shop.example", "tags": []string{"news", "may"},
			"time": "2024-05-14T09:31:09Z", "mime": "MIME-Version: 1.0\r\n\r\nUser unknown",
		}}}}, &pub)
	got := recv.WaitFor(t, 1, 10*time.Second)[0]

	if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	var secret struct{ Webhook struct{ Secret string } }
	client.MustData(t, `query($id: ID!) { webhook(id: $id) { secret } }`, map[string]any{"id": hookID}, &secret)
	wh, err := standardwebhooks.NewWebhook(secret.Webhook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Errorf("the reference library rejects the FORM delivery: %v", err)
	}
	q, err := url.ParseQuery(string(got.Body))
	if err != nil {
		t.Fatalf("body is not form-encoded: %v\n%s", err, got.Body)
	}
	want := url.Values{
		"id": {"smtpeter-1"}, "timestamp": {"1715679069"}, "time": {"2024-05-14T09:31:09Z"}, "recipient": {"old@example.org"},
		"envelope": {"news@shop.example"}, "mime": {"MIME-Version: 1.0\r\n\r\nUser unknown"}, "tags[]": {"news", "may"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(q[k], v) {
			t.Errorf("%s = %q, want %q", k, q[k], v)
		}
	}
	if q.Get("webhookd[type]") != "email.bounce" || q.Get("webhookd[id]") != got.Header.Get("webhook-id") {
		t.Errorf("envelope fields: %v", q)
	}

	var d struct {
		Deliveries struct {
			Nodes []struct{ Status, RequestBody string }
		}
	}
	waitFor(t, func() bool { // the attempt recorded, with the Content-Type it was sent with
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { status requestBody } } }`, map[string]any{"w": hookID}, &d)
		return len(d.Deliveries.Nodes) == 1 && d.Deliveries.Nodes[0].Status == "SUCCEEDED"
	})
	if d.Deliveries.Nodes[0].RequestBody != string(got.Body) {
		t.Errorf("requestBody %+v\nsent %s", d.Deliveries.Nodes, got.Body)
	}

	// Back to JSON: the delivery already sent still shows the form body it
	// was sent with.
	if p, _ := setPolicy(t, client, hookID, map[string]any{"bodyFormat": "JSON"}); p.BodyFormat != "JSON" {
		t.Fatalf("set JSON: %+v", p)
	}
	client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { status requestBody } } }`, map[string]any{"w": hookID}, &d)
	if d.Deliveries.Nodes[0].RequestBody != string(got.Body) {
		t.Errorf("after switching to JSON, requestBody %s", d.Deliveries.Nodes[0].RequestBody)
	}
	_ = srv
}

// TestRetryPolicySettings: the schedule as the API shows it, and every
// out-of-bounds choice refused as a userError on its field.
func TestRetryPolicySettings(t *testing.T) {
	_, client, _, _, hookID := deliverySetup(t)
	var w struct{ Webhook policyJSON }
	client.MustData(t, `query($id: ID!) { webhook(id: $id) { `+policyFields+` } }`, map[string]any{"id": hookID}, &w)
	if p := w.Webhook; p.BodyFormat != "JSON" || p.RetryPolicy.Schedule != "DEFAULT" || p.RetryPolicy.MaxAttempts != 10 ||
		p.RetryPolicy.AttemptTimeoutSeconds != 15 || p.RetryPolicy.TotalSeconds != 272105 {
		t.Errorf("defaults: %+v", p)
	}
	p, ue := setPolicy(t, client, hookID, map[string]any{"retryPolicy": map[string]any{"schedule": "SHORT", "attemptTimeoutSeconds": 5}})
	if len(ue) > 0 || !reflect.DeepEqual(p.RetryPolicy.DelaysSeconds, []int{5, 30, 60, 120, 300, 600}) ||
		p.RetryPolicy.MaxAttempts != 7 || p.RetryPolicy.TotalSeconds != 1115 || p.RetryPolicy.AttemptTimeoutSeconds != 5 {
		t.Errorf("short: %+v %v", p, ue)
	}
	for name, tt := range map[string]struct {
		in    map[string]any
		field []string
	}{
		"CustomWithoutDelays": {map[string]any{"schedule": "CUSTOM"}, []string{"input", "retryPolicy", "delaysSeconds"}},
		"CustomTooLong":       {map[string]any{"schedule": "CUSTOM", "delaysSeconds": []int{86400, 86400, 86400, 86400, 86400, 60}}, []string{"input", "retryPolicy", "delaysSeconds"}},
		"DelaysWithDefault":   {map[string]any{"schedule": "DEFAULT", "delaysSeconds": []int{5}}, []string{"input", "retryPolicy", "delaysSeconds"}},
		"Timeout":             {map[string]any{"schedule": "DEFAULT", "attemptTimeoutSeconds": 120}, []string{"input", "retryPolicy", "attemptTimeoutSeconds"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, ue := setPolicy(t, client, hookID, map[string]any{"retryPolicy": tt.in})
			if len(ue) != 1 || !reflect.DeepEqual(ue[0].Field, tt.field) || ue[0].Code != "INVALID" {
				t.Errorf("userErrors %+v, want one INVALID on %v", ue, tt.field)
			}
		})
	}
	client.MustData(t, `query($id: ID!) { webhook(id: $id) { `+policyFields+` } }`, map[string]any{"id": hookID}, &w)
	if w.Webhook.RetryPolicy.Schedule != "SHORT" {
		t.Errorf("a refused update changed the policy: %+v", w.Webhook)
	}
}

// TestRetryPolicyDispatch: the dispatcher follows the webhook's policy: a
// custom schedule of one 1 s retry fails the delivery after two attempts
// (the default would still be waiting to retry), and a 1 s attempt timeout
// cuts off a receiver that answers after 3 s.
func TestRetryPolicyDispatch(t *testing.T) {
	_, client, publisher, recv, hookID := deliverySetup(t)
	if _, ue := setPolicy(t, client, hookID, map[string]any{"retryPolicy": map[string]any{"schedule": "CUSTOM", "delaysSeconds": []int{1}, "attemptTimeoutSeconds": 1}}); len(ue) > 0 {
		t.Fatal(ue)
	}
	recv.Respond(http.StatusOK, 3*time.Second)
	publishBounce(t, publisher, "evt-policy")
	recv.WaitFor(t, 2, 20*time.Second) // the first attempt and the one retry, 1 s later
	type node struct {
		Status       string
		AttemptCount int
		Attempts     []struct{ ErrorClass *string }
	}
	var n []node
	waitFor(t, func() bool {
		var out struct{ Deliveries struct{ Nodes []node } }
		client.MustData(t, `query($w: ID!) { deliveries(webhook: $w) { nodes { status attemptCount attempts { errorClass } } } }`, map[string]any{"w": hookID}, &out)
		n = out.Deliveries.Nodes
		return len(n) == 1 && n[0].Status == "FAILED"
	})
	if n[0].AttemptCount != 2 || len(recv.Received()) != 2 {
		t.Errorf("failed after %d attempts (%d requests), want 2", n[0].AttemptCount, len(recv.Received()))
	}
	for _, a := range n[0].Attempts {
		if a.ErrorClass == nil || *a.ErrorClass != "timeout" {
			t.Errorf("attempt not cut off by the 1 s timeout: %+v", n[0])
		}
	}
}
