package graph_test

import (
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// TestRequestBodyIsWhatWasSent: Delivery.requestBody is byte for byte the
// body the receiver got (and the signature covers), for a published event
// and for a test send; another account cannot read it.
func TestRequestBodyIsWhatWasSent(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	const q = `query($w: ID!) { deliveries(webhook: $w, first: 10) { nodes { id messageId test requestBody } } }`
	type node struct {
		ID, MessageID, RequestBody string
		Test                       bool
	}
	bodies := func() map[string]node {
		var out struct{ Deliveries struct{ Nodes []node } }
		client.MustData(t, q, map[string]any{"w": hookID}, &out)
		m := map[string]node{}
		for _, n := range out.Deliveries.Nodes {
			m[n.MessageID] = n
		}
		return m
	}

	t.Run("Published", func(t *testing.T) {
		msgID := publishBounce(t, publisher, "evt-body")
		got := recv.WaitFor(t, 1, 10*time.Second)
		n, ok := bodies()[msgID]
		if !ok {
			t.Fatalf("no delivery of %s", msgID)
		}
		if n.RequestBody != string(got[0].Body) {
			t.Errorf("requestBody\n%s\nreceiver got\n%s", n.RequestBody, got[0].Body)
		}
	})
	t.Run("TestSend", func(t *testing.T) {
		var out struct {
			TestWebhook struct{ Result struct{ Succeeded bool } }
		}
		client.MustData(t, `mutation($id: ID!, $p: JSON) { testWebhook(input: {id: $id, type: "email.bounce", payload: $p}) { result { succeeded } } }`,
			map[string]any{"id": hookID, "p": map[string]any{"custom": []int{1, 2}}}, &out)
		got := recv.WaitFor(t, 2, 10*time.Second)
		msgID := got[1].Header.Get("webhook-id")
		n := bodies()[msgID]
		if !n.Test || n.RequestBody != string(got[1].Body) {
			t.Errorf("test delivery %+v; receiver got %s", n, got[1].Body)
		}
	})
	t.Run("OtherAccount", func(t *testing.T) {
		other := srv.AccountClient(t, "other", domain.ScopeAccount)
		var id string
		for _, n := range bodies() {
			id = n.ID
		}
		resp := other.Do(t, `query($id: ID!) { delivery(id: $id) { requestBody } }`, map[string]any{"id": id})
		if resp.Status != 200 || len(resp.Errors) > 0 || string(resp.Data) != `{"delivery":null}` {
			t.Errorf("another account read the body: %s", resp.Body)
		}
	})
}
