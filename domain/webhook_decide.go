package domain

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// DecideWebhook decides what a command does to a webhook: the events to
// append (none when the command changes nothing), or why it is refused.
//
// Refusals are *Error values. A command on a webhook that was never created,
// or was deleted, is ENOTFOUND (deleted webhooks vanish from the API).
// CreateWebhook on an existing stream is ECONFLICT. A command the current
// status does not allow (pausing a paused webhook, resuming an active one)
// is EINVALID; so is invalid input, with the field named. A verification
// result about a URL or file that changed meanwhile is ECONFLICT.
//
// known reports which event types exist (Catalogue.Known); nil means the
// built-in catalogue. now stamps the events.
func DecideWebhook(s WebhookState, cmd WebhookCommand, now time.Time, known func(string) bool) ([]eventstore.Event, error) {
	if known == nil {
		known = BuiltinCatalogue().Known
	}
	if c, ok := cmd.(CreateWebhook); ok {
		return decideCreateWebhook(s, c, now, known)
	}
	if !s.Exists() {
		return nil, Errorf(ENOTFOUND, "webhook not found")
	}
	switch c := cmd.(type) {
	case UpdateWebhook:
		return decideUpdateWebhook(s, c, now, known)
	case DeleteWebhook:
		return one(WebhookDeleted{WebhookID: s.ID, At: now})
	case PauseWebhook:
		if s.Status != WebhookStatusActive {
			return nil, Errorf(EINVALID, "only an active webhook can be paused; this one is %s", s.Status)
		}
		return one(WebhookPaused{WebhookID: s.ID, At: now})
	case ResumeWebhook:
		if s.Status != WebhookStatusPaused {
			return nil, Errorf(EINVALID, "only a paused webhook can be resumed; this one is %s", s.Status)
		}
		return one(WebhookResumed{WebhookID: s.ID, At: now})
	case DisableWebhook:
		reason, err := normalizeReason(c.Reason)
		if err != nil {
			return nil, err
		}
		if s.Status == WebhookStatusDisabled {
			return nil, Errorf(EINVALID, "webhook is already disabled")
		}
		return one(WebhookDisabled{WebhookID: s.ID, AccountID: s.AccountID, Reason: reason, At: now})
	case EnableWebhook:
		if s.Status != WebhookStatusDisabled {
			return nil, Errorf(EINVALID, "only a disabled webhook can be enabled; this one is %s", s.Status)
		}
		return one(WebhookEnabled{WebhookID: s.ID, At: now})
	case IssueVerificationFile:
		if err := c.File.Validate(); err != nil {
			return nil, err
		}
		return one(WebhookVerificationFileIssued{WebhookID: s.ID, VerificationFile: c.File, At: now})
	case RecordVerificationSucceeded:
		return decideVerificationSucceeded(s, c, now)
	case RecordVerificationFailed:
		return decideVerificationFailed(s, c, now)
	case RotateWebhookSecret:
		return decideRotateSecret(s, c, now)
	default:
		return nil, fmt.Errorf("decide webhook: unknown command %T", cmd)
	}
}

func one(e eventstore.Event) ([]eventstore.Event, error) { return []eventstore.Event{e}, nil }

func decideCreateWebhook(s WebhookState, c CreateWebhook, now time.Time, known func(string) bool) ([]eventstore.Event, error) {
	if s.Status != "" {
		return nil, Errorf(ECONFLICT, "webhook %s already exists", s.ID)
	}
	if err := c.Validate(known); err != nil {
		return nil, err
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	events, _ := one(WebhookCreated{
		WebhookID:        c.WebhookID,
		AccountID:        c.AccountID,
		Name:             c.Name,
		URL:              c.URL,
		EventTypes:       sortedTypes(c.EventTypes),
		Description:      c.Description,
		Headers:          maps.Clone(c.Headers),
		RateLimit:        normalizeRateLimit(c.RateLimit),
		MaxConcurrency:   c.MaxConcurrency,
		Secret:           c.Secret,
		VerificationFile: c.VerificationFile,
		At:               now,
	})
	settings, err := deliverySettingsEvents(WebhookState{}, c.WebhookID, deliverySettings{
		format: &c.BodyFormat, retry: c.Retry, traceparent: &c.SendTraceparent, ordering: c.Ordering, batching: c.Batching}, now)
	if err != nil {
		return nil, err
	}
	return appendFilterSet(append(events, settings...), c.WebhookID, "", c.Filter, now)
}

// appendFilterSet adds the WebhookFilterSet a command's filter calls for.
func appendFilterSet(events []eventstore.Event, id, current string, raw []byte, now time.Time) ([]eventstore.Event, error) {
	e, err := filterSetEvent(id, current, raw, now)
	if err != nil || e == nil {
		return events, err
	}
	return append(events, e), nil
}

// decideUpdateWebhook emits WebhookURLChanged when the URL really changes and
// WebhookUpdated when any other setting does, so that an update that sets
// fields to their current values appends nothing.
func decideUpdateWebhook(s WebhookState, c UpdateWebhook, now time.Time, known func(string) bool) ([]eventstore.Event, error) {
	if err := c.Validate(known); err != nil {
		return nil, err
	}
	var events []eventstore.Event
	if c.URL != nil && *c.URL != s.URL {
		if err := c.VerificationFile.Validate(); err != nil {
			return nil, err
		}
		events = append(events, WebhookURLChanged{WebhookID: s.ID, URL: *c.URL, VerificationFile: c.VerificationFile, At: now})
	}
	next := WebhookUpdated{
		WebhookID:      s.ID,
		Name:           deref(c.Name, s.Name),
		EventTypes:     s.EventTypes,
		Description:    deref(c.Description, s.Description),
		Headers:        s.Headers,
		RateLimit:      s.RateLimit,
		MaxConcurrency: deref(c.MaxConcurrency, s.MaxConcurrency),
		At:             now,
	}
	if c.EventTypes != nil {
		next.EventTypes = sortedTypes(c.EventTypes)
	}
	if c.Headers != nil {
		next.Headers = maps.Clone(c.Headers)
	}
	if c.RateLimit != nil {
		next.RateLimit = normalizeRateLimit(*c.RateLimit)
	}
	changed := next.Name != s.Name || next.Description != s.Description ||
		next.MaxConcurrency != s.MaxConcurrency || next.RateLimit != s.RateLimit ||
		!slices.Equal(next.EventTypes, s.EventTypes) || !maps.Equal(next.Headers, s.Headers)
	if changed {
		next.EventTypes = slices.Clone(next.EventTypes)
		next.Headers = maps.Clone(next.Headers)
		events = append(events, next)
	}
	settings, err := deliverySettingsEvents(s, s.ID, deliverySettings{
		format: c.BodyFormat, retry: c.Retry, traceparent: c.SendTraceparent, ordering: c.Ordering, batching: c.Batching}, now)
	if err != nil {
		return nil, err
	}
	return appendFilterSet(append(events, settings...), s.ID, s.Filter, c.Filter, now)
}

func deref[T any](p *T, current T) T {
	if p == nil {
		return current
	}
	return *p
}

// checkVerificationTarget refuses a verification result about a URL or file
// other than the current ones: the check raced with a change.
func checkVerificationTarget(s WebhookState, url, fileName string) error {
	if url != s.URL || fileName != s.Verification.File.Name {
		return Errorf(ECONFLICT, "the URL or verification file changed while it was being checked; verify again")
	}
	return nil
}

// decideVerificationSucceeded is idempotent: recording success again for a
// verified webhook appends nothing.
func decideVerificationSucceeded(s WebhookState, c RecordVerificationSucceeded, now time.Time) ([]eventstore.Event, error) {
	if err := checkVerificationTarget(s, c.URL, c.FileName); err != nil {
		return nil, err
	}
	if s.Verification.Status == VerificationVerified {
		return nil, nil
	}
	return one(WebhookVerified{WebhookID: s.ID, URL: s.URL, At: now})
}

// decideVerificationFailed refuses to record a failure on a verified
// webhook: ownership, once proven for a URL, is not withdrawn because a
// later check could not find the file.
func decideVerificationFailed(s WebhookState, c RecordVerificationFailed, now time.Time) ([]eventstore.Event, error) {
	reason, err := normalizeReason(c.Reason)
	if err != nil {
		return nil, err
	}
	if err := checkVerificationTarget(s, c.URL, c.FileName); err != nil {
		return nil, err
	}
	if s.Verification.Status == VerificationVerified {
		return nil, Errorf(EINVALID, "webhook is already verified")
	}
	return one(WebhookVerificationFailed{WebhookID: s.ID, URL: s.URL, Reason: reason, At: now})
}

func decideRotateSecret(s WebhookState, c RotateWebhookSecret, now time.Time) ([]eventstore.Event, error) {
	if err := validateSecret(c.Secret); err != nil {
		return nil, err
	}
	if c.Secret == s.Secret || c.Secret == s.PreviousSecret {
		return nil, FieldErrorf(EINVALID, "secret", "the new secret must differ from the current and previous ones")
	}
	overlap := c.Overlap
	switch {
	case c.RevokePrevious:
		overlap = 0
	case overlap == 0:
		overlap = DefaultSecretOverlap
	case overlap < 0 || overlap > MaxSecretOverlap:
		return nil, FieldErrorf(EINVALID, "overlap", "the overlap must be between 0 and %s", MaxSecretOverlap)
	}
	return one(WebhookSecretRotated{WebhookID: s.ID, Secret: c.Secret, PreviousExpiresAt: now.Add(overlap), At: now})
}
