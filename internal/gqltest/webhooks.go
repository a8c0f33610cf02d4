package gqltest

import (
	"fmt"
	"testing"
)

// WebhookFields is a selection of every scalar field of Webhook, for tests
// that compare whole objects.
const WebhookFields = `id name description url eventTypes status disabledReason revision
	headers { name value } rateLimit { perSecond burst } maxConcurrency
	verification { status fileName fileContent downloadPath checkedUrls failureReason verifiedAt lastCheckedAt }
	createdAt updatedAt account { id name }`

// Webhook is the part of a GraphQL Webhook the tests read.
type Webhook struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	URL          string   `json:"url"`
	EventTypes   []string `json:"eventTypes"`
	Status       string   `json:"status"`
	Revision     int      `json:"revision"`
	Verification struct {
		Status        string   `json:"status"`
		FileName      string   `json:"fileName"`
		FileContent   string   `json:"fileContent"`
		DownloadPath  string   `json:"downloadPath"`
		CheckedURLs   []string `json:"checkedUrls"`
		FailureReason *string  `json:"failureReason"`
	} `json:"verification"`
}

// UserError is one entry of a payload's userErrors.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// String formats a user error for test failure messages.
func (e UserError) String() string { return fmt.Sprintf("%v %s: %s", e.Field, e.Code, e.Message) }

const createWebhook = `mutation($input: CreateWebhookInput!) {
	createWebhook(input: $input) { webhook { ` + WebhookFields + ` } userErrors { field message code } }
}`

// CreateWebhook runs createWebhook with input and returns the payload's
// webhook and userErrors, failing the test on a top-level error.
func (c *Client) CreateWebhook(t testing.TB, input map[string]any) (*Webhook, []UserError) {
	t.Helper()
	var out struct {
		CreateWebhook struct {
			Webhook    *Webhook    `json:"webhook"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"createWebhook"`
	}
	c.MustData(t, createWebhook, map[string]any{"input": input}, &out)
	return out.CreateWebhook.Webhook, out.CreateWebhook.UserErrors
}

// MustCreateWebhook creates a webhook named name with callback url,
// subscribed to "email.delivery", and fails the test on any error.
func (c *Client) MustCreateWebhook(t testing.TB, name, url string) Webhook {
	t.Helper()
	w, ue := c.CreateWebhook(t, map[string]any{"name": name, "url": url, "eventTypes": []string{"email.delivery"}})
	if len(ue) > 0 || w == nil {
		t.Fatalf("createWebhook %q: %v", name, ue)
	}
	return *w
}

// HistoryEvent is one entry of a history connection.
type HistoryEvent struct {
	Type     string         `json:"type"`
	Stream   string         `json:"stream"`
	Revision int            `json:"revision"`
	Data     map[string]any `json:"data"`
}

// History returns the first 100 events of subject's history.
func (c *Client) History(t testing.TB, subject string) []HistoryEvent {
	t.Helper()
	var out struct {
		History struct {
			Nodes []HistoryEvent `json:"nodes"`
		} `json:"history"`
	}
	c.MustData(t, `query($s: ID!) { history(subject: $s, first: 100) { nodes { type stream revision data } } }`, map[string]any{"s": subject}, &out)
	return out.History.Nodes
}

// WebhookByID returns webhook id, or nil when it is not found.
func (c *Client) WebhookByID(t testing.TB, id string) *Webhook {
	t.Helper()
	var out struct {
		Webhook *Webhook `json:"webhook"`
	}
	c.MustData(t, `query($id: ID!) { webhook(id: $id) { `+WebhookFields+` } }`, map[string]any{"id": id}, &out)
	return out.Webhook
}
