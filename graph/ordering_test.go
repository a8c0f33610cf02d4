package graph_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/gqltest"
)

// TestWebhookOrdering: updateWebhook sets the ordering and the payload
// shows it; mistakes come back as userErrors.
func TestWebhookOrdering(t *testing.T) {
	_, client, _, _, hookID := deliverySetup(t)
	set := func(t *testing.T, ordering map[string]any) (struct {
		Mode string
		Key  *string
	}, []gqltest.UserError) {
		t.Helper()
		var out struct {
			UpdateWebhook struct {
				Webhook *struct {
					Ordering struct {
						Mode string
						Key  *string
					}
				}
				UserErrors []gqltest.UserError
			}
		}
		client.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { webhook { ordering { mode key } } userErrors { field message code } } }`,
			map[string]any{"in": map[string]any{"id": hookID, "ordering": ordering}}, &out)
		if out.UpdateWebhook.Webhook == nil {
			return struct {
				Mode string
				Key  *string
			}{}, out.UpdateWebhook.UserErrors
		}
		o := out.UpdateWebhook.Webhook.Ordering
		return struct {
			Mode string
			Key  *string
		}{o.Mode, o.Key}, out.UpdateWebhook.UserErrors
	}
	keyField := []string{"input", "ordering", "key"}
	t.Run("OK", func(t *testing.T) {
		o, ue := set(t, map[string]any{"mode": "PER_KEY", "key": "data.recipient"})
		if len(ue) > 0 || o.Mode != "PER_KEY" || o.Key == nil || *o.Key != "data.recipient" {
			t.Fatalf("PER_KEY: %+v %v", o, ue)
		}
		if o, ue = set(t, map[string]any{"mode": "NONE"}); len(ue) > 0 || o.Mode != "NONE" || o.Key != nil {
			t.Fatalf("NONE: %+v %v", o, ue)
		}
	})
	t.Run("ErrKeyRequired", func(t *testing.T) {
		_, ue := set(t, map[string]any{"mode": "PER_KEY"})
		if len(ue) != 1 || !reflect.DeepEqual(ue[0].Field, keyField) || ue[0].Code != "INVALID" {
			t.Fatalf("userErrors %+v", ue)
		}
	})
	t.Run("ErrKeyOutsideData", func(t *testing.T) {
		_, ue := set(t, map[string]any{"mode": "PER_KEY", "key": "headers.x"})
		if len(ue) != 1 || !reflect.DeepEqual(ue[0].Field, keyField) {
			t.Fatalf("userErrors %+v", ue)
		}
	})
}

// TestBlockedLine: on a PER_KEY webhook whose endpoint fails, the first
// message's retries hold up its line; the second message of the same key
// waits, and blockedLines shows the line, its head and why.
func TestBlockedLine(t *testing.T) {
	_, client, publisher, recv, hookID := deliverySetup(t)
	client.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { userErrors { field } } }`,
		map[string]any{"in": map[string]any{"id": hookID, "ordering": map[string]any{"mode": "PER_KEY", "key": "data.to"}}}, nil)
	recv.Respond(http.StatusInternalServerError, 0)
	first := publishBounce(t, publisher, "evt-line-1")
	publishBounce(t, publisher, "evt-line-2")
	recv.WaitFor(t, 1, 10*time.Second)

	type line struct {
		Key           string
		Waiting       int
		Reason        string
		NextAttemptAt time.Time
		Delivery      struct{ MessageID string }
	}
	var got []line
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 || got[0].Waiting != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no blocked line with both messages: %+v", got)
		}
		var out struct{ Node struct{ BlockedLines []line } }
		client.MustData(t, `query($id: ID!) { node(id: $id) { ... on Webhook { blockedLines { key waiting reason nextAttemptAt delivery { messageId } } } } }`,
			map[string]any{"id": hookID}, &out)
		got = out.Node.BlockedLines
		time.Sleep(20 * time.Millisecond) // polling a condition, not timing
	}
	l := got[0]
	if l.Key != "x@example.com" || !strings.HasPrefix(l.Reason, "HTTP 500") || l.Delivery.MessageID != first || l.NextAttemptAt.IsZero() {
		t.Errorf("blocked line %+v", l)
	}
	if n := len(recv.Received()); n != 1 {
		t.Errorf("the receiver got %d requests while the line was blocked; want only the head's", n)
	}
}
