package domain

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// OrderingMode says whether a webhook's deliveries go out one after the
// other. The zero value means OrderingNone.
type OrderingMode string

// Ordering modes. NONE sends deliveries as they fall due, several at once.
// PER_WEBHOOK sends the webhook's next delivery only once the previous one
// succeeded or finally failed; PER_KEY does the same for each value of a
// key in the message's data, so lines of different keys do not wait for
// each other. Retries hold their line: head-of-line blocking is the price.
const (
	OrderingNone       OrderingMode = "none"
	OrderingPerWebhook OrderingMode = "per_webhook"
	OrderingPerKey     OrderingMode = "per_key"
)

// Ordering is a webhook's choice of ordered delivery, as its events store
// it. Key is a dotted path into the message, "data.recipient", and is set
// only with OrderingPerKey.
type Ordering struct {
	Mode OrderingMode `json:"mode,omitempty"`
	Key  string       `json:"key,omitempty"`
}

// MaxOrderingKeyLength bounds the key path, so it stays a readable setting.
const MaxOrderingKeyLength = 200

var orderingKeyPath = regexp.MustCompile(`^data(\.[A-Za-z0-9_-]+)+$`)

// Ordered reports whether deliveries wait for their predecessor.
func (o Ordering) Ordered() bool {
	return o.Mode == OrderingPerWebhook || o.Mode == OrderingPerKey
}

// Validate checks the choice; field names are the GraphQL input's.
func (o Ordering) Validate() error {
	switch o.Mode {
	case "", OrderingNone, OrderingPerWebhook:
		if o.Key != "" {
			return FieldErrorf(EINVALID, "ordering.key", "a key is given only with PER_KEY ordering")
		}
	case OrderingPerKey:
		if len(o.Key) > MaxOrderingKeyLength || !orderingKeyPath.MatchString(o.Key) {
			return FieldErrorf(EINVALID, "ordering.key", "the key must be a dotted path into the data, such as data.recipient")
		}
	default:
		return FieldErrorf(EINVALID, "ordering.mode", "unknown ordering %q", o.Mode)
	}
	return nil
}

// normalized is the canonical form stored in events: NONE as the zero
// value, so equal choices compare equal.
func (o Ordering) normalized() Ordering {
	if o.Mode == OrderingNone {
		o.Mode = ""
	}
	return o
}

// KeyOf is the ordering key of a message with data, its line: the value at
// the key path (a string as it is, any other JSON value as written), or ""
// when the data lacks it. Every message has the one line "" unless the
// ordering is PER_KEY.
func (o Ordering) KeyOf(data json.RawMessage) string {
	if o.Mode != OrderingPerKey {
		return ""
	}
	v := data
	for _, name := range strings.Split(strings.TrimPrefix(o.Key, "data."), ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return ""
		}
		if v = obj[name]; v == nil {
			return ""
		}
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var compact bytes.Buffer
	if json.Compact(&compact, v) != nil || compact.String() == "null" {
		return ""
	}
	return compact.String()
}
