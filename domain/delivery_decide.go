package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webhookd/webhookd/eventstore"
)

// DeliveryCommand is a request to change a delivery, decided by
// DecideDelivery. Commands carry everything random (IDs, the jitter draw)
// so that deciding stays a pure function.
type DeliveryCommand interface{ isDeliveryCommand() }

// ScheduleDelivery creates a delivery of a message to one webhook, due at
// DueAt (zero means now).
type ScheduleDelivery struct {
	DeliveryID string
	MessageID  string
	WebhookID  string
	AccountID  string
	EventType  string
	Test       bool
	DueAt      time.Time
}

// RecordAttempt records the outcome of an HTTP attempt made at the time
// passed to DecideDelivery, and decides what follows it.
type RecordAttempt struct {
	Outcome         AttemptOutcome
	Latency         time.Duration
	ErrorMessage    string
	ResponseExcerpt []byte
	RequestHeaders  map[string]string
	// Policy is the webhook's retry policy; the zero value is the default.
	Policy RetryPolicy
	// Rand is a random draw in [0,1) for the retry jitter. The members of
	// a batch share one draw, so those in the same round fall due together
	// again.
	Rand float64
	// BatchID and BatchSize describe the batch the attempt sent the
	// delivery in; zero for a single attempt.
	BatchID   string
	BatchSize int
	// Schedule, when set, is the scheduling of a delivery whose stream
	// does not exist yet (a first attempt the fan-out owes): the attempt's
	// event then opens the stream with it. It is ignored when the
	// delivery exists.
	Schedule *ScheduleDelivery
}

// RequestRedelivery sends a finished (succeeded or failed) delivery again,
// now, with a fresh retry schedule.
type RequestRedelivery struct{}

// AbandonDelivery fails an unfinished delivery without another attempt,
// for example because its webhook was deleted or disabled meanwhile.
type AbandonDelivery struct{ Reason string }

func (ScheduleDelivery) isDeliveryCommand()  {}
func (RecordAttempt) isDeliveryCommand()     {}
func (RequestRedelivery) isDeliveryCommand() {}
func (AbandonDelivery) isDeliveryCommand()   {}

// DecideDelivery decides what a command does to a delivery: the events to
// append, or why it is refused. Refusals are *Error values: ENOTFOUND for a
// delivery never scheduled, ECONFLICT for scheduling one twice, EINVALID
// for a command its status does not allow (attempting a finished delivery,
// redelivering an unfinished one). now stamps the events and is the time of
// a recorded attempt.
//
// Test deliveries (the testing tool, "check now") get one attempt: their
// failure is reported at once instead of retried for days, and a 410 from
// them does not disable the webhook.
func DecideDelivery(s DeliveryState, cmd DeliveryCommand, now time.Time) ([]eventstore.Event, error) {
	if c, ok := cmd.(ScheduleDelivery); ok {
		return decideScheduleDelivery(s, c, now)
	}
	if c, ok := cmd.(RecordAttempt); ok && c.Schedule != nil && !s.Exists() {
		return decideFirstAttempt(s, c, now)
	}
	if !s.Exists() {
		return nil, Errorf(ENOTFOUND, "delivery not found")
	}
	switch c := cmd.(type) {
	case RecordAttempt:
		return decideRecordAttempt(s, c, now)
	case RequestRedelivery:
		if !s.Final() {
			return nil, Errorf(EINVALID, "only a succeeded or failed delivery can be redelivered; this one is %s", s.Status)
		}
		return []eventstore.Event{DeliveryRedeliveryRequested{
			DeliveryID: s.ID, WebhookID: s.WebhookID, MessageID: s.MessageID, AccountID: s.AccountID,
			MessageType: s.EventType, Test: s.Test, DueAt: now, At: now,
		}}, nil
	case AbandonDelivery:
		if s.Final() {
			return nil, Errorf(EINVALID, "delivery already %s", s.Status)
		}
		reason := clipUTF8(strings.TrimSpace(c.Reason), MaxErrorMessage)
		if reason == "" {
			return nil, FieldErrorf(EINVALID, "reason", "a reason is required")
		}
		return []eventstore.Event{DeliveryFailed{DeliveryID: s.ID, WebhookID: s.WebhookID, Reason: reason, Attempts: s.Attempts, At: now}}, nil
	default:
		return nil, fmt.Errorf("decide delivery: unknown command %T", cmd)
	}
}

func decideScheduleDelivery(s DeliveryState, c ScheduleDelivery, now time.Time) ([]eventstore.Event, error) {
	if s.Exists() {
		return nil, Errorf(ECONFLICT, "delivery %s already exists", s.ID)
	}
	for _, f := range []struct{ name, v string }{
		{"deliveryId", c.DeliveryID}, {"messageId", c.MessageID}, {"webhookId", c.WebhookID},
		{"accountId", c.AccountID}, {"eventType", c.EventType},
	} {
		if f.v == "" {
			return nil, FieldErrorf(EINVALID, f.name, "is required")
		}
	}
	due := c.DueAt
	if due.IsZero() {
		due = now
	}
	return []eventstore.Event{DeliveryScheduled{
		DeliveryID: c.DeliveryID, MessageID: c.MessageID, WebhookID: c.WebhookID, AccountID: c.AccountID,
		MessageType: c.EventType, Test: c.Test, ScheduledAt: due, At: now,
	}}, nil
}

// decideFirstAttempt schedules a delivery and records its first attempt
// in one event, which opens the stream.
func decideFirstAttempt(s DeliveryState, c RecordAttempt, now time.Time) ([]eventstore.Event, error) {
	scheduled, err := decideScheduleDelivery(s, *c.Schedule, now)
	if err != nil {
		return nil, err
	}
	sched := scheduled[0].(DeliveryScheduled)
	events, err := decideRecordAttempt(EvolveDelivery(s, sched), c, now)
	if err != nil {
		return nil, err
	}
	r := events[0].(DeliveryAttemptRecorded)
	r.MessageID, r.AccountID, r.MessageType, r.ScheduledAt = sched.MessageID, sched.AccountID, sched.MessageType, sched.ScheduledAt
	return []eventstore.Event{r}, nil
}

func decideRecordAttempt(s DeliveryState, c RecordAttempt, now time.Time) ([]eventstore.Event, error) {
	if s.Final() {
		return nil, Errorf(EINVALID, "delivery already %s; request a redelivery to send it again", s.Status)
	}
	r := DeliveryAttemptRecorded{
		DeliveryID: s.ID, WebhookID: s.WebhookID, Test: s.Test, Attempt: s.Attempts + 1, At: now,
		StatusCode: c.Outcome.StatusCode, LatencyMs: c.Latency.Milliseconds(), ErrorClass: c.Outcome.ErrClass,
		ErrorMessage:    clipUTF8(c.ErrorMessage, MaxErrorMessage),
		ResponseExcerpt: clipUTF8(string(c.ResponseExcerpt), MaxResponseExcerpt),
		BatchID:         c.BatchID, BatchSize: c.BatchSize,
	}
	r.RequestHeaders = storedRequestHeaders(c.RequestHeaders, s.MessageID, r.Attempted(), s.Test)
	policy := c.Policy
	if s.Test {
		policy = RetryPolicy{Schedule: []time.Duration{0}}
	}
	d := policy.Decide(s.RoundAttempts+1, c.Outcome, now, c.Rand)
	switch d.Result {
	case ResultSucceeded:
		r.Result = ResultSucceeded
	case ResultRetry:
		r.Result, r.NextAttemptAt, r.SlowDown = ResultRetry, d.NextAt, d.SlowDown
	case ResultDisableWebhook:
		r.Result, r.Reason, r.DisablesWebhook = ResultFailed, d.Reason, !s.Test
	default:
		r.Result, r.Reason = ResultFailed, d.Reason
	}
	return []eventstore.Event{r}, nil
}

// clipUTF8 cuts s to at most n bytes without splitting a character and
// replaces invalid bytes, since excerpts of arbitrary bodies end up in JSON.
func clipUTF8(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		if len(s) > n {
			return clipUTF8(s, n)
		}
	}
	return s
}

// credentialHeaderWords mark header names whose values are credentials.
// Custom webhook headers often carry the receiver's own API token.
var credentialHeaderWords = []string{"authorization", "cookie", "token", "secret", "password", "api-key", "apikey", "session", "auth"}

// credentialHeader tells whether a header's name marks its value as a
// credential: it holds one of credentialHeaderWords, in any case. Names
// are ASCII tokens; they are lowered on the stack, since this runs for
// every header of every attempt.
func credentialHeader(name string) bool {
	var buf [64]byte
	if len(name) > len(buf) {
		return hasCredentialWord(strings.ToLower(name))
	}
	lower := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return hasCredentialWord(strings.ToLower(name))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return hasCredentialWord(string(lower)) // the conversion does not escape: no allocation
}

func hasCredentialWord(lower string) bool {
	for _, w := range credentialHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// EvolveDelivery folds one event into the delivery state. A
// DeliveryAttemptRecorded folds as its parts would, as one event.
func EvolveDelivery(s DeliveryState, e eventstore.Event) DeliveryState {
	version := s.Version + 1
	if r, ok := e.(DeliveryAttemptRecorded); ok {
		for _, p := range r.Parts() {
			s = evolveDeliveryPart(s, p)
		}
	} else {
		s = evolveDeliveryPart(s, e)
	}
	s.Version = version
	if at := deliveryEventTime(e); !at.IsZero() {
		s.UpdatedAt = at
	}
	return s
}

func evolveDeliveryPart(s DeliveryState, e eventstore.Event) DeliveryState {
	switch e := e.(type) {
	case DeliveryScheduled:
		s = DeliveryState{
			ID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID, AccountID: e.AccountID,
			EventType: e.MessageType, Test: e.Test, Status: DeliveryStatusPending, NextAttemptAt: e.ScheduledAt,
			CreatedAt: e.At,
		}
	case DeliveryAttempted:
		s.Attempts, s.RoundAttempts = e.Attempt, s.RoundAttempts+1
		s.LastStatusCode, s.LastErrClass, s.LastAttemptAt = e.StatusCode, e.ErrorClass, e.At
		s.NextAttemptAt = time.Time{}
	case DeliveryRetryScheduled:
		s.Status, s.NextAttemptAt = DeliveryStatusRetrying, e.DueAt
	case DeliverySucceeded:
		s.Status, s.NextAttemptAt, s.FailureReason = DeliveryStatusSucceeded, time.Time{}, ""
	case DeliveryFailed:
		s.Status, s.NextAttemptAt, s.FailureReason = DeliveryStatusFailed, time.Time{}, e.Reason
	case DeliveryRedeliveryRequested:
		s.Status, s.NextAttemptAt, s.FailureReason, s.RoundAttempts = DeliveryStatusPending, e.DueAt, "", 0
	}
	return s
}

// FoldDelivery folds a whole delivery stream's events, in order, into a
// state, as the dispatcher and the redelivery command see it.
func FoldDelivery(events []eventstore.Event) DeliveryState { return fold(EvolveDelivery, events) }

// deliveryEventTime is the At of a delivery event.
func deliveryEventTime(e eventstore.Event) time.Time {
	switch e := e.(type) {
	case DeliveryScheduled:
		return e.At
	case DeliveryAttempted:
		return e.At
	case DeliveryRetryScheduled:
		return e.At
	case DeliverySucceeded:
		return e.At
	case DeliveryFailed:
		return e.At
	case DeliveryRedeliveryRequested:
		return e.At
	case DeliveryAttemptRecorded:
		return e.At
	}
	return time.Time{}
}
