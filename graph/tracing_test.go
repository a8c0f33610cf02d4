package graph_test

import (
	"testing"
)

// TestSendTraceparentSetting: a webhook's traceparent header setting is
// off by default, turned on and off by updateWebhook, and kept by an
// update that changes another delivery setting.
func TestSendTraceparentSetting(t *testing.T) {
	_, client, _, _, hookID := deliverySetup(t)
	query := func() bool {
		var w struct {
			Webhook struct{ SendTraceparent bool }
		}
		client.MustData(t, `query($id: ID!) { webhook(id: $id) { sendTraceparent } }`, map[string]any{"id": hookID}, &w)
		return w.Webhook.SendTraceparent
	}
	update := func(in map[string]any) bool {
		in["id"] = hookID
		var out struct {
			UpdateWebhook struct {
				Webhook struct{ SendTraceparent bool }
			}
		}
		client.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { webhook { sendTraceparent } } }`,
			map[string]any{"in": in}, &out)
		return out.UpdateWebhook.Webhook.SendTraceparent
	}
	if query() {
		t.Fatal("sendTraceparent is on by default")
	}
	if !update(map[string]any{"sendTraceparent": true}) || !query() {
		t.Fatal("sendTraceparent: true did not turn it on")
	}
	if !update(map[string]any{"bodyFormat": "FORM"}) {
		t.Fatal("changing the body format turned sendTraceparent off")
	}
	if update(map[string]any{"sendTraceparent": false}) || query() {
		t.Fatal("sendTraceparent: false did not turn it off")
	}
}
