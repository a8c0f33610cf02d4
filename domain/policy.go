package domain

import (
	"errors"
	"slices"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// BodyFormat is how a webhook's deliveries encode their body. The zero
// value means BodyFormatJSON.
type BodyFormat string

// Body formats. JSON is the Standard Webhooks envelope; FORM is an
// application/x-www-form-urlencoded body with SMTPeter's field names, so
// receivers written for SMTPeter (typically PHP reading $_POST) work
// unchanged.
const (
	BodyFormatJSON BodyFormat = "json"
	BodyFormatForm BodyFormat = "form"
)

// ContentType is the Content-Type header of a body in format f.
func (f BodyFormat) ContentType() string {
	if f == BodyFormatForm {
		return "application/x-www-form-urlencoded"
	}
	return "application/json"
}

// BodyFormatOfContentType is the format whose ContentType is ct (as an
// attempt recorded it), and false for anything else.
func BodyFormatOfContentType(ct string) (BodyFormat, bool) {
	switch ct {
	case BodyFormatForm.ContentType():
		return BodyFormatForm, true
	case BodyFormatJSON.ContentType():
		return BodyFormatJSON, true
	}
	return "", false
}

// RetrySchedule names the retry schedule a webhook chose. The zero value
// means RetryScheduleDefault.
type RetrySchedule string

// Retry schedules: the default (about three days), a short one (about
// twenty minutes, for receivers that prefer to fail fast and reconcile
// themselves), or the webhook's own list of delays.
const (
	RetryScheduleDefault RetrySchedule = "default"
	RetryScheduleShort   RetrySchedule = "short"
	RetryScheduleCustom  RetrySchedule = "custom"
)

// ShortRetrySchedule is the short schedule: the first attempt at once,
// then 5 s, 30 s, 1 min, 2 min, 5 min and 10 min, seven attempts over
// about nineteen minutes.
var ShortRetrySchedule = []time.Duration{
	0, 5 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
}

// Bounds on a webhook's retry settings. A custom schedule's total stays at
// 5 days so that, with +20% jitter (6 days), its last retry comes before the
// 7-day retention floor can expire the message it carries.
const (
	MaxCustomRetries      = 20
	MinCustomRetryDelay   = time.Second
	MaxCustomRetryDelay   = 24 * time.Hour
	MaxCustomRetryTotal   = 5 * 24 * time.Hour
	MinAttemptTimeout     = time.Second
	MaxAttemptTimeout     = 30 * time.Second
	DefaultAttemptTimeout = 15 * time.Second
	// shortMaxRetryAfter keeps the short schedule short when a receiver
	// asks, with Retry-After, to wait longer.
	shortMaxRetryAfter = 10 * time.Minute
)

// RetrySettings is a webhook's choice of retry schedule and attempt
// timeout, as its events store it. Durations are whole seconds so the
// audit history reads plainly. The zero value is the default schedule and
// the default 15 s timeout.
type RetrySettings struct {
	Schedule RetrySchedule `json:"schedule,omitempty"`
	// DelaysSeconds are the custom schedule's delays before each retry,
	// counted from the previous failure (the first attempt is immediate).
	// Only a custom schedule has them.
	DelaysSeconds []int `json:"delaysSeconds,omitempty"`
	// AttemptTimeoutSeconds bounds one attempt; 0 means 15 s.
	AttemptTimeoutSeconds int `json:"attemptTimeoutSeconds,omitempty"`
}

// Policy is the retry policy the settings stand for, as
// RetryPolicy.Decide applies it. def is what the default schedule means
// here (the operator may configure it; the zero value is
// DefaultRetryPolicy); the short and custom schedules are the webhook's
// own whatever def is.
func (r RetrySettings) Policy(def RetryPolicy) RetryPolicy {
	p := DefaultRetryPolicy()
	switch r.Schedule {
	case "", RetryScheduleDefault:
		return def.orDefault()
	case RetryScheduleShort:
		p.Schedule, p.MaxRetryAfter = ShortRetrySchedule, shortMaxRetryAfter
	case RetryScheduleCustom:
		p.Schedule = make([]time.Duration, 0, len(r.DelaysSeconds)+1)
		p.Schedule = append(p.Schedule, 0)
		for _, s := range r.DelaysSeconds {
			p.Schedule = append(p.Schedule, time.Duration(s)*time.Second)
		}
	}
	return p
}

// AttemptTimeout is how long one attempt may take, from dialling to the
// end of the response excerpt.
func (r RetrySettings) AttemptTimeout() time.Duration {
	if r.AttemptTimeoutSeconds == 0 {
		return DefaultAttemptTimeout
	}
	return time.Duration(r.AttemptTimeoutSeconds) * time.Second
}

// Validate checks the settings against the bounds; field names are the
// GraphQL input's (retryPolicy.schedule, ...).
func (r RetrySettings) Validate() error {
	var errs []error
	switch r.Schedule {
	case "", RetryScheduleDefault, RetryScheduleShort:
		if len(r.DelaysSeconds) > 0 {
			errs = append(errs, FieldErrorf(EINVALID, "retryPolicy.delaysSeconds", "delays are given only with the CUSTOM schedule"))
		}
	case RetryScheduleCustom:
		errs = append(errs, validateCustomDelays(r.DelaysSeconds))
	default:
		errs = append(errs, FieldErrorf(EINVALID, "retryPolicy.schedule", "unknown retry schedule %q", r.Schedule))
	}
	if t := r.AttemptTimeoutSeconds; t != 0 && (secs(t) < MinAttemptTimeout || secs(t) > MaxAttemptTimeout) {
		errs = append(errs, FieldErrorf(EINVALID, "retryPolicy.attemptTimeoutSeconds",
			"the attempt timeout must be between %d and %d seconds", int(MinAttemptTimeout.Seconds()), int(MaxAttemptTimeout.Seconds())))
	}
	return errors.Join(errs...)
}

func validateCustomDelays(delays []int) error {
	const field = "retryPolicy.delaysSeconds"
	if len(delays) == 0 || len(delays) > MaxCustomRetries {
		return FieldErrorf(EINVALID, field, "a custom schedule has 1 to %d delays", MaxCustomRetries)
	}
	var total time.Duration
	for _, d := range delays {
		if secs(d) < MinCustomRetryDelay || secs(d) > MaxCustomRetryDelay {
			return FieldErrorf(EINVALID, field, "each delay must be between %d and %d seconds", int(MinCustomRetryDelay.Seconds()), int(MaxCustomRetryDelay.Seconds()))
		}
		total += secs(d)
	}
	if total > MaxCustomRetryTotal {
		return FieldErrorf(EINVALID, field, "the delays add up to %s; at most %s (5 days) is allowed, so no retry outlives the message's retention", total, MaxCustomRetryTotal)
	}
	return nil
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// normalized is the canonical form stored in events: the default schedule
// and timeout written as zero values, so equal choices compare equal.
func (r RetrySettings) normalized() RetrySettings {
	if r.Schedule == RetryScheduleDefault {
		r.Schedule = ""
	}
	if secs(r.AttemptTimeoutSeconds) == DefaultAttemptTimeout {
		r.AttemptTimeoutSeconds = 0
	}
	r.DelaysSeconds = slices.Clone(r.DelaysSeconds)
	return r
}

func (r RetrySettings) equal(o RetrySettings) bool {
	return r.Schedule == o.Schedule && r.AttemptTimeoutSeconds == o.AttemptTimeoutSeconds && slices.Equal(r.DelaysSeconds, o.DelaysSeconds)
}

// ValidateBodyFormat checks a body format; "" means JSON.
func ValidateBodyFormat(f BodyFormat) error {
	switch f {
	case "", BodyFormatJSON, BodyFormatForm:
		return nil
	}
	return FieldErrorf(EINVALID, "bodyFormat", "unknown body format %q", f)
}

func normalizeBodyFormat(f BodyFormat) BodyFormat {
	if f == BodyFormatJSON {
		return ""
	}
	return f
}

// WebhookDeliverySettingsChanged sets how the webhook's deliveries are
// encoded and retried: a full snapshot of those settings. Webhooks whose
// stream has none use JSON and the default schedule.
type WebhookDeliverySettingsChanged struct {
	WebhookID  string        `json:"webhookId"`
	BodyFormat BodyFormat    `json:"bodyFormat,omitempty"`
	Retry      RetrySettings `json:"retry"`
	// Traceparent sends the W3C traceparent header with every attempt;
	// events from before it have none and mean off.
	Traceparent bool `json:"traceparent,omitempty"`
	// Ordering is whether deliveries wait for their predecessor
	// (ordering.go); events stored before it existed have none.
	Ordering Ordering `json:"ordering,omitzero"`
	// Batching sends several events in one POST (batching.go); events
	// stored before it existed have none and mean off.
	Batching Batching  `json:"batching,omitzero"`
	At       time.Time `json:"at"`
}

// EventType is the stable stored name of WebhookDeliverySettingsChanged.
func (WebhookDeliverySettingsChanged) EventType() string {
	return "webhook.delivery_settings_changed.v1"
}

// RetryPolicy is the webhook's retry policy, which the dispatcher passes
// to DecideDelivery with every attempt it records; def as in
// RetrySettings.Policy.
func (s WebhookState) RetryPolicy(def RetryPolicy) RetryPolicy { return s.Retry.Policy(def) }

// evolveDeliverySettings folds WebhookDeliverySettingsChanged.
func evolveDeliverySettings(s WebhookState, e WebhookDeliverySettingsChanged) WebhookState {
	s.BodyFormat, s.Retry, s.SendTraceparent, s.Ordering, s.Batching, s.UpdatedAt = e.BodyFormat, e.Retry, e.Traceparent, e.Ordering, e.Batching, e.At
	return s
}

func validateDeliverySettings(f BodyFormat, r *RetrySettings, o *Ordering, b *Batching) error {
	errs := []error{ValidateBodyFormat(f)}
	if r != nil {
		errs = append(errs, r.Validate())
	}
	if o != nil {
		errs = append(errs, o.Validate())
	}
	if b != nil {
		errs = append(errs, b.Validate())
	}
	return errors.Join(errs...)
}

// deliverySettings is what a create or an update asks of the delivery
// settings; a nil field leaves that setting as it is.
type deliverySettings struct {
	format      *BodyFormat
	retry       *RetrySettings
	traceparent *bool
	ordering    *Ordering
	batching    *Batching
}

// deliverySettingsEvents decides the settings event of a create or an
// update: none when the settings stay as they are (for a create: when they
// are the defaults), so webhooks that never choose keep their streams as
// before. A nil field of c leaves that setting unchanged. The settings
// must go together (validateBatchingWith): the combination is refused
// whichever of them the command changed, under the field it changed
// (batching, when it changed batching).
func deliverySettingsEvents(s WebhookState, id string, c deliverySettings, now time.Time) ([]eventstore.Event, error) {
	next := WebhookDeliverySettingsChanged{WebhookID: id, BodyFormat: s.BodyFormat, Retry: s.Retry.normalized(), Traceparent: s.SendTraceparent, Ordering: s.Ordering, Batching: s.Batching, At: now}
	if c.traceparent != nil {
		next.Traceparent = *c.traceparent
	}
	if c.format != nil {
		next.BodyFormat = normalizeBodyFormat(*c.format)
	}
	if c.retry != nil {
		next.Retry = c.retry.normalized()
	}
	if c.ordering != nil {
		next.Ordering = c.ordering.normalized()
	}
	if c.batching != nil {
		next.Batching = c.batching.normalized()
	}
	if err := validateBatchingWith(next.Batching, next.BodyFormat, next.Ordering, next.Batching != s.Batching); err != nil {
		return nil, err
	}
	if next.BodyFormat == s.BodyFormat && next.Retry.equal(s.Retry) && next.Traceparent == s.SendTraceparent && next.Ordering == s.Ordering && next.Batching == s.Batching {
		return nil, nil
	}
	return []eventstore.Event{next}, nil
}
