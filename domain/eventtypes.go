package domain

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"
)

// EventType describes one kind of event a publisher may send and a webhook
// may subscribe to. The catalogue of them drives validation of webhook
// subscriptions, the eventTypes query and the testing tool (which sends
// Sample when no custom payload is given).
type EventType struct {
	// Name is the lowercase dotted name, such as "email.bounce".
	Name string `json:"name"`
	// Description is a short human-readable explanation.
	Description string `json:"description"`
	// Sample is a realistic example of the event's data, as JSON.
	Sample json.RawMessage `json:"sample"`
	// Operational marks types webhookd itself emits about webhooks (such
	// as webhook.disabled), rather than types a publisher sends.
	Operational bool `json:"operational,omitempty"`
}

// Limits on operator-defined event types.
const (
	MaxEventTypeNameLength        = 100
	MaxEventTypeDescriptionLength = 500
)

// eventTypeName is the grammar of event type names: at least two lowercase
// dot-separated segments, so every name has a namespace.
var eventTypeName = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// ValidEventTypeName reports whether name follows the event type grammar
// ([a-z0-9_]+(\.[a-z0-9_]+)+, at most 100 characters).
func ValidEventTypeName(name string) bool {
	return len(name) <= MaxEventTypeNameLength && eventTypeName.MatchString(name)
}

// Catalogue is an immutable set of known event types: the built-in ones plus
// any an operator adds. Its zero value is empty; use BuiltinCatalogue.
type Catalogue struct {
	types map[string]EventType
}

// BuiltinCatalogue returns the catalogue of the event types webhookd knows
// without configuration: SMTPeter's email and profile events, webhook.test
// and the operational types (webhook.disabled, webhook.verification_failed,
// webhook.recovered, webhook.rate_limited, delivery.failed).
func BuiltinCatalogue() Catalogue {
	c := Catalogue{types: make(map[string]EventType, len(builtinEventTypes))}
	for _, t := range builtinEventTypes {
		c.types[t.Name] = t
	}
	return c
}

// Lookup returns the event type called name, and false if there is none.
func (c Catalogue) Lookup(name string) (EventType, bool) {
	t, ok := c.types[name]
	if ok {
		t.Sample = bytes.Clone(t.Sample) // callers must not alter the catalogue
	}
	return t, ok
}

// Known reports whether name is in the catalogue. Its method value
// (catalogue.Known) is what webhook validation takes.
func (c Catalogue) Known(name string) bool {
	_, ok := c.types[name]
	return ok
}

// All returns every event type, sorted by name.
func (c Catalogue) All() []EventType {
	all := make([]EventType, 0, len(c.types))
	for _, t := range c.types {
		t.Sample = bytes.Clone(t.Sample)
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b EventType) int { return cmp.Compare(a.Name, b.Name) })
	return all
}

// Operational reports whether name is an operational type: one webhookd
// publishes itself.
func (c Catalogue) Operational(name string) bool { return c.types[name].Operational }

// Len returns the number of event types.
func (c Catalogue) Len() int { return len(c.types) }

// WithExtra returns a new catalogue holding c's types plus extra. Each extra
// type must have a valid name, a description of at most 500 characters and a
// sample that is valid JSON (an empty sample becomes {}); it may neither
// redefine a type already in c nor appear twice. c itself is unchanged.
func (c Catalogue) WithExtra(extra []EventType) (Catalogue, error) {
	merged := Catalogue{types: make(map[string]EventType, len(c.types)+len(extra))}
	for name, t := range c.types {
		merged.types[name] = t
	}
	for i, t := range extra {
		t, err := normalizeEventType(t)
		if err != nil {
			return Catalogue{}, fmt.Errorf("event type %d: %w", i+1, err)
		}
		if _, dup := merged.types[t.Name]; dup {
			if c.Known(t.Name) {
				return Catalogue{}, fmt.Errorf("event type %d: %q is already defined and cannot be redefined", i+1, t.Name)
			}
			return Catalogue{}, fmt.Errorf("event type %d: %q is listed twice", i+1, t.Name)
		}
		merged.types[t.Name] = t
	}
	return merged, nil
}

// normalizeEventType validates an operator-defined type and returns it with
// its sample compacted, so stored samples have one canonical form.
func normalizeEventType(t EventType) (EventType, error) {
	switch {
	case !ValidEventTypeName(t.Name):
		return t, fmt.Errorf("name %q must be lowercase dotted words ([a-z0-9_]+(.[a-z0-9_]+)+), at most %d characters", t.Name, MaxEventTypeNameLength)
	case utf8.RuneCountInString(t.Description) > MaxEventTypeDescriptionLength:
		return t, fmt.Errorf("%s: description must be at most %d characters", t.Name, MaxEventTypeDescriptionLength)
	}
	if len(bytes.TrimSpace(t.Sample)) == 0 {
		t.Sample = json.RawMessage(`{}`)
		return t, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, t.Sample); err != nil {
		return t, fmt.Errorf("%s: sample is not valid JSON: %w", t.Name, err)
	}
	t.Sample = buf.Bytes()
	return t, nil
}
