package domain

// The fan-out rule: which webhooks a published message queues a delivery
// for. It is the only statement of the rule; the read-model projection
// that fans messages out (projections/fanout) indexes webhooks by it.
//
// A message published for an account queues one delivery for every
// webhook of that account that is verified, subscribed to the message's
// type, not deleted, and whose payload filter, if it has one, passes the
// message's data (FilterAdmits). Paused and disabled webhooks are included: they
// keep their backlog and get it when resumed. Only verified URLs ever have
// anything queued. An operational event about a webhook is never
// delivered to that webhook itself (ReachesWebhook), so a failing
// endpoint cannot feed a loop of reports about itself. Test messages (the testing tool, Check now) are never
// fanned out: they go to their one webhook at once.

// QueuesDeliveries reports whether messages are fanned out to the webhook,
// to be sent now or held: a verified webhook that is active, paused or
// disabled.
func (s WebhookState) QueuesDeliveries() bool {
	return s.Exists() && s.Verification.Status == VerificationVerified
}

// FanOutTypes returns the event types whose messages queue a delivery to
// the webhook: every type it subscribes to while it queues deliveries,
// none otherwise. Fan-out indexes webhooks by (account, type) with it, so
// a message finds its webhooks without reading any that do not match.
func (s WebhookState) FanOutTypes() []string {
	if !s.QueuesDeliveries() {
		return nil
	}
	return s.EventTypes
}

// FansOut reports whether m is delivered by fan-out: every published
// message except a test send.
func (m MessagePublished) FansOut() bool { return m.TestWebhookID == "" }

// ReachesWebhook reports whether fan-out may deliver m to webhook id at
// all: every webhook but the one an operational event is about.
func (m MessagePublished) ReachesWebhook(id string) bool { return m.AboutWebhookID != id }

// FilterAdmits reports whether a webhook whose compiled payload filter is f
// (nil for none) takes message m, among those FanOutTypes lets through.
// Fan-out compiles f once per webhook change, never per message, and a
// message f turns away costs no allocation.
func FilterAdmits(f *Filter, m MessagePublished) bool { return f.Matches(m.Data) }
