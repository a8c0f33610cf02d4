package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// Batching is a webhook's choice of sending several events in one POST,
// as its events store it: up to MaxEvents deliveries in one JSON array,
// waiting at most MaxWaitMs after the oldest of them fell due for the
// batch to fill. The zero value (MaxEvents 0) is off: one event per POST.
type Batching struct {
	MaxEvents int `json:"maxEvents,omitempty"`
	MaxWaitMs int `json:"maxWaitMs,omitempty"`
}

// Bounds on batching: a batch of a hundred envelopes stays one ordinary
// request body, and ten seconds is as long as an event may wait for
// company before it goes out anyway.
const (
	MaxBatchEvents = 100
	MaxBatchWaitMs = 10_000
)

// On reports whether deliveries are batched.
func (b Batching) On() bool { return b.MaxEvents > 0 }

// Validate checks the choice on its own; field names are the GraphQL
// input's. Whether it goes with the webhook's other settings is
// validateBatchingWith's question.
func (b Batching) Validate() error {
	if b.MaxEvents < 0 || b.MaxEvents > MaxBatchEvents {
		return FieldErrorf(EINVALID, "batching.maxEvents", "a batch holds 1 to %d events (0 turns batching off)", MaxBatchEvents)
	}
	if b.MaxWaitMs < 0 || b.MaxWaitMs > MaxBatchWaitMs {
		return FieldErrorf(EINVALID, "batching.maxWaitMs", "a batch waits 0 to %d ms", MaxBatchWaitMs)
	}
	if b.MaxWaitMs > 0 && b.MaxEvents == 0 {
		return FieldErrorf(EINVALID, "batching.maxWaitMs", "a wait is given only with maxEvents")
	}
	return nil
}

// normalized is the canonical form stored in events: off as the zero
// value, so equal choices compare equal.
func (b Batching) normalized() Batching {
	if !b.On() {
		return Batching{}
	}
	return b
}

// validateBatchingWith refuses batching beside settings it cannot keep:
// a FORM body is one event's fields, so it has no array form; and ordered
// delivery sends a line's next event only once the previous one finished,
// which a batch of many would break. The error names the setting the
// command changed (batching when batchChanged), so a form that sends
// every setting sees the one its user changed refused.
func validateBatchingWith(b Batching, f BodyFormat, o Ordering, batchChanged bool) error {
	if !b.On() {
		return nil
	}
	switch {
	case f == BodyFormatForm:
		field := "bodyFormat"
		if batchChanged {
			field = "batching"
		}
		return FieldErrorf(EINVALID, field, "batching is not offered with the FORM body format: a batch is a JSON array")
	case o.Ordered():
		field := "ordering"
		if batchChanged {
			field = "batching"
		}
		return FieldErrorf(EINVALID, field, "batching is not offered with ordered delivery: turn ordering off to batch")
	}
	return nil
}

// BatchID is the webhook-id of a batch of the given deliveries: the same
// set gives the same ID, whatever their order and however often it is
// sent (a retry, a resend after a crash, a redelivery), and a different
// set a different one. A receiver that deduplicates by webhook-id
// therefore never drops an event it has not seen under that ID, as it
// could if an ID stayed with a batch that gained or lost a member.
func BatchID(deliveryIDs []string) string {
	h := sha256.New()
	for _, id := range slices.Sorted(slices.Values(deliveryIDs)) {
		fmt.Fprintf(h, "%d:%s", len(id), id) // length-prefixed: no two sets write the same bytes
	}
	return "batch_" + hex.EncodeToString(h.Sum(nil)[:16])
}
