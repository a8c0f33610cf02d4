package domain

import (
	"encoding/json"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// A webhook's payload filter is its own event rather than a field of
// webhook.created and webhook.updated: streams written before filters
// existed need no upcasting, and a filter change is visible as such in the
// audit history.

// WebhookFilterSet replaces the webhook's payload filter. Filter is the
// canonical document (NormalizeFilter); empty removes the filter.
type WebhookFilterSet struct {
	WebhookID string          `json:"webhookId"`
	Filter    json.RawMessage `json:"filter,omitempty"`
	At        time.Time       `json:"at"`
}

// EventType is the stable stored name of WebhookFilterSet.
func (WebhookFilterSet) EventType() string { return "webhook.filter_set.v1" }

// ValidateWebhookFilter checks a filter document given to a create or
// update; the userError (field "filter") names the bad path or operator.
func ValidateWebhookFilter(raw []byte) error {
	_, err := NormalizeFilter(raw)
	return err
}

// filterSetEvent returns the event that moves the webhook's filter from
// current to raw, or nil when raw is nil (not given) or the same filter.
func filterSetEvent(id, current string, raw []byte, now time.Time) (eventstore.Event, error) {
	if raw == nil {
		return nil, nil
	}
	next, err := NormalizeFilter(raw)
	if err != nil || next == current {
		return nil, err
	}
	e := WebhookFilterSet{WebhookID: id, At: now}
	if next != "" {
		e.Filter = json.RawMessage(next)
	}
	return e, nil
}

// CompiledFilter compiles the webhook's filter; nil means none. A stored
// filter was checked when it was set, so an error here is a fault.
func (s WebhookState) CompiledFilter() (*Filter, error) {
	return CompileFilter(s.Filter)
}

// PassesFilter reports whether data (an event's raw data) passes the
// webhook's filter, as the testing tool shows it. Fan-out uses a filter
// compiled once per webhook change instead (see FilterAdmits).
func (s WebhookState) PassesFilter(data []byte) bool {
	f, err := s.CompiledFilter()
	return err == nil && f.Matches(data)
}
