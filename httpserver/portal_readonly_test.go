package httpserver_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestPortalReadOnlySession checks that a read-only session may read and
// test a webhook but every mutation that changes or deletes is refused
// with a top-level FORBIDDEN and changes nothing, while a full session may.
func TestPortalReadOnlySession(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{})
	receiver := testenv.NewReceiver(t)
	p, _ := f.srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := f.srv.Env.VerifiedWebhook(t, p, receiver, "/hooks", "email.bounce")
	id := domain.EncodeGlobalID("Webhook", hook.ID)
	ro := f.signIn(t, map[string]any{"account": "acme", "scope": "READ_ONLY"})

	var v struct{ Viewer struct{ ReadOnly bool } }
	if err := ro.gql(t, true, viewerQuery, nil).Decode(&v); err != nil || !v.Viewer.ReadOnly {
		t.Fatalf("viewer.readOnly = %v (%v)", v.Viewer.ReadOnly, err)
	}
	read := ro.gql(t, true, `query($id: ID!) { webhook(id: $id) { name revision } deliveries(webhook: $id) { nodes { id } } }`, map[string]any{"id": id})
	if read.Status != http.StatusOK || len(read.Errors) > 0 {
		t.Fatalf("read-only read: %s", read.Body)
	}
	test := ro.gql(t, true, `mutation($id: ID!) { testWebhook(input: {id: $id, type: "email.bounce"}) { result { succeeded statusCode } userErrors { code message } } }`, map[string]any{"id": id})
	var tested struct {
		TestWebhook struct {
			Result *struct {
				Succeeded  bool
				StatusCode int
			}
			UserErrors []gqltest.UserError
		}
	}
	if err := test.Decode(&tested); err != nil || tested.TestWebhook.Result == nil || !tested.TestWebhook.Result.Succeeded {
		t.Fatalf("read-only test delivery: %s (%v)", test.Body, err)
	}
	receiver.WaitFor(t, 1, 10*time.Second)

	vars := map[string]any{"id": id}
	refused := map[string]string{
		"deleteWebhook":       `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId } }`,
		"updateWebhook":       `mutation($id: ID!) { updateWebhook(input: {id: $id, name: "renamed"}) { webhook { name } } }`,
		"pauseWebhook":        `mutation($id: ID!) { pauseWebhook(input: {id: $id}) { webhook { status } } }`,
		"rotateWebhookSecret": `mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { webhook { id } } }`,
		"verifyWebhook":       `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified } }`,
		"createWebhook":       `mutation { createWebhook(input: {name: "x", url: "https://example.com/x", eventTypes: ["email.bounce"]}) { webhook { id } } }`,
		"revokeApiKey":        `mutation { revokeApiKey(input: {id: "` + p.KeyID + `"}) { apiKey { id } } }`,
	}
	for name, q := range refused {
		t.Run(name, func(t *testing.T) {
			resp := ro.gql(t, true, q, vars)
			if !resp.HasCode("FORBIDDEN") {
				t.Fatalf("read-only %s: %s", name, resp.Body)
			}
		})
	}
	var after struct {
		Webhook *struct{ Name, Status string }
	}
	f.account.MustData(t, `query($id: ID!) { webhook(id: $id) { name status } }`, vars, &after)
	if after.Webhook == nil || after.Webhook.Name != hook.Name || after.Webhook.Status != "ACTIVE" {
		t.Fatalf("a refused mutation changed the webhook: %+v", after.Webhook)
	}

	full := f.signIn(t, map[string]any{"account": "acme", "scope": "FULL"})
	if resp := full.gql(t, true, refused["pauseWebhook"], vars); resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("full session pause: %s", resp.Body)
	}
}
