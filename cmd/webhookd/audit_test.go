package main

import (
	"testing"

	"github.com/webhookd/webhookd/domain"
)

// TestDeletedWebhookHistory deletes a webhook over GraphQL on the real
// service and reads its audit trail afterwards: the owning account sees
// every event, ending with the deletion, and another account sees nothing,
// exactly as for a webhook that never existed.
func TestDeletedWebhookHistory(t *testing.T) {
	m := MustRunMain(t, t.TempDir())
	owner := client(m, m.DemoKey())
	hook := owner.MustCreateWebhook(t, "audited", "http://127.0.0.1:1/hooks/in")
	var del struct {
		DeleteWebhook struct {
			DeletedWebhookID *string `json:"deletedWebhookId"`
			UserErrors       []any   `json:"userErrors"`
		} `json:"deleteWebhook"`
	}
	owner.MustData(t, `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId userErrors { code } } }`, map[string]any{"id": hook.ID}, &del)
	if del.DeleteWebhook.DeletedWebhookID == nil || len(del.DeleteWebhook.UserErrors) > 0 {
		t.Fatalf("deleteWebhook: %+v", del)
	}
	if w := owner.WebhookByID(t, hook.ID); w != nil {
		t.Fatalf("deleted webhook still listed: %+v", w)
	}

	t.Run("OK", func(t *testing.T) {
		events := owner.History(t, hook.ID)
		if len(events) != 2 || events[0].Type != "webhook.created.v1" || events[1].Type != "webhook.deleted.v1" {
			t.Fatalf("history of the deleted webhook: %+v", events)
		}
		if events[0].Data["secret"] != "[redacted]" {
			t.Errorf("secret in the history: %v", events[0].Data["secret"])
		}
	})
	t.Run("OtherAccount", func(t *testing.T) {
		k, err := m.Core.App.CreateAPIKey(t.Context(), "intruder", domain.ScopeAccount, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		if events := client(m, k.Secret).History(t, hook.ID); len(events) != 0 {
			t.Fatalf("another account read the history: %+v", events)
		}
	})
	t.Run("NeverCreated", func(t *testing.T) {
		if events := owner.History(t, domain.EncodeGlobalID("Webhook", "00000000-0000-0000-0000-000000000000")); len(events) != 0 {
			t.Fatalf("history of a webhook never created: %+v", events)
		}
	})
}
