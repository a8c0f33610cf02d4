package graph_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/gqltest"
)

type batchingJSON struct {
	MaxEvents, MaxWaitMs int
}

// TestWebhookBatching: updateWebhook sets batching and the payload shows
// it; an attempt of a batched webhook names its batch; the combination
// with FORM and out-of-bounds values come back as userErrors naming the
// field.
func TestWebhookBatching(t *testing.T) {
	_, client, publisher, recv, hookID := deliverySetup(t)
	update := func(t *testing.T, in map[string]any) (*batchingJSON, []gqltest.UserError) {
		t.Helper()
		in["id"] = hookID
		var out struct {
			UpdateWebhook struct {
				Webhook *struct {
					Batching   *batchingJSON
					BodyFormat string
				}
				UserErrors []gqltest.UserError
			}
		}
		client.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { webhook { batching { maxEvents maxWaitMs } bodyFormat } userErrors { field message code } } }`,
			map[string]any{"in": in}, &out)
		if out.UpdateWebhook.Webhook == nil {
			return nil, out.UpdateWebhook.UserErrors
		}
		return out.UpdateWebhook.Webhook.Batching, out.UpdateWebhook.UserErrors
	}
	refused := func(t *testing.T, in map[string]any, field ...string) {
		t.Helper()
		_, ue := update(t, in)
		want := append([]string{"input"}, field...)
		if len(ue) != 1 || !reflect.DeepEqual(ue[0].Field, want) || ue[0].Code != "INVALID" {
			t.Fatalf("userErrors %+v, want one INVALID on %v", ue, want)
		}
	}
	t.Run("OK", func(t *testing.T) {
		b, ue := update(t, map[string]any{"batching": map[string]any{"maxEvents": 10, "maxWaitMs": 0}})
		if len(ue) > 0 || b == nil || *b != (batchingJSON{10, 0}) {
			t.Fatalf("batching %+v %v", b, ue)
		}
		msgID := publishBounce(t, publisher, "evt-batch-1")
		got := recv.WaitFor(t, 1, 10*time.Second)
		if body := strings.TrimSpace(string(got[0].Body)); !strings.HasPrefix(body, "[") || !strings.Contains(body, msgID) {
			t.Fatalf("batched body %s", body)
		}
		var out struct {
			Deliveries struct {
				Nodes []struct {
					Attempts []struct {
						Batch *struct {
							ID   string
							Size int
						}
					}
				}
			}
		}
		waitFor(t, func() bool {
			client.MustData(t, `query($w: ID!) { deliveries(webhook: $w, status: SUCCEEDED, first: 10) { nodes { attempts { batch { id size } } } } }`, map[string]any{"w": hookID}, &out)
			return len(out.Deliveries.Nodes) == 1
		})
		if n := out.Deliveries.Nodes; len(n) != 1 || len(n[0].Attempts) != 1 || n[0].Attempts[0].Batch == nil ||
			n[0].Attempts[0].Batch.ID != got[0].Header.Get("webhook-id") || n[0].Attempts[0].Batch.Size != 1 {
			t.Fatalf("deliveries %+v, want one attempt in the batch %s of 1", n, got[0].Header.Get("webhook-id"))
		}
	})
	t.Run("ErrFormOnBatchedWebhook", func(t *testing.T) {
		refused(t, map[string]any{"bodyFormat": "FORM"}, "bodyFormat")
	})
	t.Run("ErrTooManyEvents", func(t *testing.T) {
		refused(t, map[string]any{"batching": map[string]any{"maxEvents": 101}}, "batching", "maxEvents")
	})
	t.Run("ErrWaitTooLong", func(t *testing.T) {
		refused(t, map[string]any{"batching": map[string]any{"maxEvents": 10, "maxWaitMs": 10_001}}, "batching", "maxWaitMs")
	})
	t.Run("Off", func(t *testing.T) {
		if b, ue := update(t, map[string]any{"batching": map[string]any{"maxEvents": 0}}); len(ue) > 0 || b != nil {
			t.Fatalf("batching %+v %v, want off", b, ue)
		}
	})
	t.Run("ErrBatchingWithForm", func(t *testing.T) {
		if _, ue := update(t, map[string]any{"bodyFormat": "FORM"}); len(ue) > 0 {
			t.Fatal(ue)
		}
		refused(t, map[string]any{"batching": map[string]any{"maxEvents": 5}}, "batching")
	})
}
