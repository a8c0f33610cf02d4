package domain_test

import (
	"testing"

	"github.com/webhookd/webhookd/domain"
)

func TestWebhookQueuesAndReceives(t *testing.T) {
	verified := domain.Verification{Status: domain.VerificationVerified}
	for _, tc := range []struct {
		name             string
		state            domain.WebhookState
		queues, receives bool
	}{
		{"ActiveVerified", domain.WebhookState{Status: domain.WebhookStatusActive, Verification: verified}, true, true},
		{"PausedKeepsBacklog", domain.WebhookState{Status: domain.WebhookStatusPaused, Verification: verified}, true, false},
		{"DisabledKeepsBacklog", domain.WebhookState{Status: domain.WebhookStatusDisabled, Verification: verified}, true, false},
		{"Unverified", domain.WebhookState{Status: domain.WebhookStatusActive}, false, false},
		{"Deleted", domain.WebhookState{Status: domain.WebhookStatusDeleted, Verification: verified}, false, false},
		{"NeverCreated", domain.WebhookState{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.state.QueuesDeliveries(); got != tc.queues {
				t.Errorf("QueuesDeliveries = %v, want %v", got, tc.queues)
			}
			if got := tc.state.ReceivesDeliveries(); got != tc.receives {
				t.Errorf("ReceivesDeliveries = %v, want %v", got, tc.receives)
			}
		})
	}
}
