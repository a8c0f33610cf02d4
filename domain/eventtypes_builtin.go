package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// builtinEventTypes is SMTPeter's set of events plus webhookd's own. The
// samples mirror what SMTPeter sends, so receivers can be written against
// the testing tool before real traffic flows.
var builtinEventTypes = mustEventTypes([]EventType{
	{
		Name:        "email.delivery",
		Description: "A message was accepted by the recipient's mail server.",
		Sample: json.RawMessage(`{
			"id": "f3b1c2d4-6a57-4c1e-9b0e-2d8a1f5e7c90", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "jane.doe@example.com", "from": "news@shop.example", "subject": "Your May newsletter",
			"tags": ["newsletter", "2024-05"], "time": "2024-05-14T09:31:07Z",
			"mx": "mx1.example.com", "ip": "203.0.113.25", "response": "250 2.0.0 OK 1715679067 q5si123456"}`),
	},
	{
		Name:        "email.bounce",
		Description: "A message bounced: the recipient's server refused it, during delivery or afterwards.",
		Sample: json.RawMessage(`{
			"id": "0c8d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "old.address@example.org", "from": "news@shop.example", "tags": ["newsletter"],
			"time": "2024-05-14T09:31:09Z", "severity": "hard", "code": 550, "extendedCode": "5.1.1",
			"description": "550 5.1.1 <old.address@example.org>: Recipient address rejected: User unknown"}`),
	},
	{
		Name:        "email.failure",
		Description: "A message could not be delivered after all retries, without a bounce (DNS, timeout, TLS).",
		Sample: json.RawMessage(`{
			"id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "someone@unreachable.example", "from": "news@shop.example", "tags": [],
			"time": "2024-05-16T09:31:07Z", "type": "timeout", "attempts": 12,
			"description": "connection to mx.unreachable.example:25 timed out after 5 minutes"}`),
	},
	{
		Name:        "email.open",
		Description: "A recipient opened a message (its tracking pixel was loaded).",
		Sample: json.RawMessage(`{
			"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "jane.doe@example.com", "tags": ["newsletter"], "time": "2024-05-14T10:02:44Z",
			"ip": "198.51.100.7", "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"}`),
	},
	{
		Name:        "email.click",
		Description: "A recipient clicked a tracked link in a message.",
		Sample: json.RawMessage(`{
			"id": "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "jane.doe@example.com", "tags": ["newsletter"], "time": "2024-05-14T10:03:12Z",
			"url": "https://shop.example/sale?utm_source=newsletter", "ip": "198.51.100.7",
			"userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"}`),
	},
	{
		Name:        "email.abuse",
		Description: "A recipient reported a message as spam (a feedback-loop complaint).",
		Sample: json.RawMessage(`{
			"id": "c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f", "messageId": "<20240514093105.4f2a@mail.shop.example>",
			"recipient": "jane.doe@example.com", "tags": ["newsletter"], "time": "2024-05-15T07:45:00Z",
			"feedbackType": "abuse", "reporter": "fbl.example-isp.net", "userAgent": "ExampleISP-FBL/1.0"}`),
	},
	{
		Name:        "profile.created",
		Description: "A profile (a subscriber record) was added to a database.",
		Sample: json.RawMessage(`{
			"profile": {"id": "8472", "database": "customers", "email": "jane.doe@example.com",
			"fields": {"firstname": "Jane", "lastname": "Doe", "country": "NL"}, "interests": ["shoes", "sale"]},
			"source": "signup-form", "time": "2024-05-13T16:20:00Z"}`),
	},
	{
		Name:        "profile.updated",
		Description: "Fields or interests of a profile changed.",
		Sample: json.RawMessage(`{
			"profile": {"id": "8472", "database": "customers", "email": "jane.doe@example.com",
			"fields": {"firstname": "Jane", "lastname": "Doe-Smith", "country": "NL"}, "interests": ["shoes"]},
			"changed": {"lastname": {"old": "Doe", "new": "Doe-Smith"}, "interests": {"old": ["shoes", "sale"], "new": ["shoes"]}},
			"time": "2024-05-20T11:05:30Z"}`),
	},
	{
		Name:        "profile.deleted",
		Description: "A profile was removed from a database.",
		Sample: json.RawMessage(`{
			"profile": {"id": "8472", "database": "customers", "email": "jane.doe@example.com"},
			"reason": "unsubscribed", "time": "2024-06-01T08:00:00Z"}`),
	},
	{
		Name:        "webhook.test",
		Description: "A test event sent by the testing tool or \"Check now\"; it carries no real data.",
		Sample: json.RawMessage(`{
			"message": "This is a test event from webhookd. If you can read this, your endpoint works.",
			"time": "2024-05-14T09:00:00Z"}`),
	},
	// The operational types (domain/operational.go): webhookd publishes
	// them itself. Each sample has the data's exact shape, the webhook it is
	// about under "webhook" (TestOperationalSamplesMatchData).
	{
		Name:        OpWebhookDisabled,
		Description: "webhookd disabled one of the account's webhooks: its endpoint answered 410 Gone, or every delivery failed for 5 days.",
		Operational: true,
		Sample: json.RawMessage(`{
			"webhook": {"id": "V2ViaG9vazp3aF8wMUhYWjNONFE4", "name": "Order updates", "url": "https://hooks.shop.example/smtpeter"},
			"reason": "every delivery has failed for 5 days",
			"disabledAt": "2024-05-19T09:31:07Z"}`),
	},
	{
		Name:        OpWebhookVerificationFailed,
		Description: "Checking the ownership of one of the account's webhook URLs failed; the reason says what was found.",
		Operational: true,
		Sample: json.RawMessage(`{
			"webhook": {"id": "V2ViaG9vazp3aF8wMUhYWjNONFE4", "name": "Order updates", "url": "https://hooks.shop.example/smtpeter"},
			"reason": "got 404 at https://hooks.shop.example/webhookd-3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6.txt",
			"checkedAt": "2024-05-14T09:05:12Z"}`),
	},
	{
		Name:        OpWebhookRecovered,
		Description: "A webhook whose deliveries were failing took one again: the first success after one or more failed attempts.",
		Operational: true,
		Sample: json.RawMessage(`{
			"webhook": {"id": "V2ViaG9vazp3aF8wMUhYWjNONFE4", "name": "Order updates", "url": "https://hooks.shop.example/smtpeter"},
			"failingSince": "2024-05-14T09:31:07Z",
			"recoveredAt": "2024-05-14T11:02:40Z"}`),
	},
	{
		Name:        OpWebhookRateLimited,
		Description: "A webhook has been held back by its rate limit for a minute or more; sent at most once an hour per webhook.",
		Operational: true,
		Sample: json.RawMessage(`{
			"webhook": {"id": "V2ViaG9vazp3aF8wMUhYWjNONFE4", "name": "Order updates", "url": "https://hooks.shop.example/smtpeter"},
			"rateLimit": {"perSecond": 10, "burst": 20},
			"limitedSince": "2024-05-14T09:30:00Z",
			"at": "2024-05-14T09:31:00Z"}`),
	},
	{
		Name:        OpDeliveryFailed,
		Description: "webhookd gave up on a delivery: its retry schedule is exhausted (or the endpoint answered 410 Gone). Not sent for test sends or for deliveries of operational events.",
		Operational: true,
		Sample: json.RawMessage(`{
			"webhook": {"id": "V2ViaG9vazp3aF8wMUhYWjNONFE4", "name": "Order updates", "url": "https://hooks.shop.example/smtpeter"},
			"delivery": {"id": "RGVsaXZlcnk6ZGx2XzAxOGY3YTJiM2M0ZA", "messageId": "018f7a2b-3c4d-7e5f-8a9b-0c1d2e3f4a5b", "eventType": "email.bounce", "attempts": 10},
			"reason": "HTTP 503; gave up after 10 attempts",
			"failedAt": "2024-05-17T08:12:45Z"}`),
	},
})

// mustEventTypes compacts the samples of built-in types, panicking on a bad
// one: that is a programming error, caught by any test run.
func mustEventTypes(types []EventType) []EventType {
	for i, t := range types {
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Sample); err != nil || !ValidEventTypeName(t.Name) {
			panic(fmt.Sprintf("domain: built-in event type %q is malformed: %v", t.Name, err))
		}
		types[i].Sample = buf.Bytes()
	}
	return types
}
