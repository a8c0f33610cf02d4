package domain

import (
	"encoding/json"
	"time"
)

// DeliveryBody is the exact body the dispatcher POSTs and signs for m. It
// is here, not in the sender, so that everything that shows "what was
// sent" (the delivery detail, the export) shows the same bytes: those of
// json.Marshal of the DeliveryPayload. Most messages take appendDeliveryBody,
// which writes the same bytes without reflection or re-validating the
// data; the rest are marshalled.
func (m MessagePublished) DeliveryBody() ([]byte, error) {
	if body, ok := m.appendDeliveryBody(make([]byte, 0, m.deliveryBodySize())); ok {
		return body, nil
	}
	return json.Marshal(DeliveryPayload{ID: m.MessageID, Type: m.Type, Timestamp: m.PublishedAt, Account: m.AccountID, Data: m.Data,
		Test: m.TestWebhookID != ""})
}

// appendDeliveryBody appends m's body and reports true when every part is
// one json.Marshal writes unchanged: strings of printable ASCII that need
// no escaping (encoding/json escapes quotes, backslashes, control
// characters and, for HTML, <, > and &), a UTC timestamp in years
// 0–9999, and data that compaction leaves as it is (compactAsIs). The data
// was decoded from the log as a JSON value, so it needs no validating.
// Anything else reports false and is marshalled, so the bytes never
// differ.
func (m MessagePublished) appendDeliveryBody(b []byte) ([]byte, bool) {
	if !plainJSONString(m.MessageID) || !plainJSONString(m.Type) || !plainJSONString(m.AccountID) ||
		!compactAsIs(m.Data) || !strictRFC3339UTC(m.PublishedAt) {
		return nil, false
	}
	b = append(b, `{"id":"`...)
	b = append(b, m.MessageID...)
	b = append(b, `","type":"`...)
	b = append(b, m.Type...)
	b = append(b, `","timestamp":"`...)
	b = m.PublishedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","account":"`...)
	b = append(b, m.AccountID...)
	b = append(b, `","data":`...)
	b = append(b, m.Data...)
	if m.TestWebhookID != "" {
		b = append(b, `,"test":true`...)
	}
	return append(b, '}'), true
}

// deliveryBodySize is at least the length of the fast path's body: the
// field names and punctuation, the fields, and the longest RFC 3339 time.
func (m MessagePublished) deliveryBodySize() int {
	return len(`{"id":"","type":"","timestamp":"","account":"","data":,"test":true}`) +
		len(m.MessageID) + len(m.Type) + len(m.AccountID) + len(m.Data) + len(time.RFC3339Nano)
}

func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// compactAsIs tells whether compacting data (valid JSON) for a body, as
// json.Marshal does with a RawMessage, leaves it as it is: no whitespace
// between tokens, and no character it escapes anywhere. Any byte 0xE2 is
// refused, since it may start U+2028 or U+2029; the other characters it
// starts (U+2000–U+2FFF) merely take the slower path.
func compactAsIs(data []byte) bool {
	if len(data) == 0 {
		return false // marshalled as null
	}
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case c == '<', c == '>', c == '&', c == 0xe2:
			return false
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

// strictRFC3339UTC tells a UTC time in the years time.Time.MarshalJSON
// accepts (outside them, marshalling gives the error); other zones are
// left to it, for their offsets' edge cases.
func strictRFC3339UTC(t time.Time) bool {
	_, offset := t.Zone()
	y := t.Year()
	return offset == 0 && y >= 0 && y <= 9999
}
