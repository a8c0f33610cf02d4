package domain_test

import (
	"slices"
	"testing"

	"github.com/webhookd/webhookd/domain"
)

func TestFanOutRule(t *testing.T) {
	verified := domain.Verification{Status: domain.VerificationVerified}
	types := []string{"email.bounce", "invoice.paid"}
	hook := func(status domain.WebhookStatus, v domain.Verification) domain.WebhookState {
		return domain.WebhookState{ID: "wh_1", AccountID: "acc_1", Status: status, Verification: v, EventTypes: types}
	}
	for _, tc := range []struct {
		name  string
		state domain.WebhookState
		want  []string
	}{
		{"ActiveVerified", hook(domain.WebhookStatusActive, verified), types},
		{"PausedKeepsBacklog", hook(domain.WebhookStatusPaused, verified), types},
		{"DisabledKeepsBacklog", hook(domain.WebhookStatusDisabled, verified), types},
		{"Unverified", hook(domain.WebhookStatusActive, domain.Verification{}), nil},
		{"VerificationFailed", hook(domain.WebhookStatusActive, domain.Verification{Status: domain.VerificationFailed}), nil},
		{"Deleted", hook(domain.WebhookStatusDeleted, verified), nil},
		{"NeverCreated", domain.WebhookState{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.state.FanOutTypes(); !slices.Equal(got, tc.want) {
				t.Errorf("FanOutTypes = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("TestMessageNeverFansOut", func(t *testing.T) {
		if !(domain.MessagePublished{Type: "email.bounce"}).FansOut() {
			t.Error("a published message does not fan out")
		}
		if (domain.MessagePublished{Type: "email.bounce", TestWebhookID: "wh_1"}).FansOut() {
			t.Error("a test message fans out")
		}
	})
}
