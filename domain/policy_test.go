package domain

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestRetrySettingsPolicy: each choice gives its schedule; the custom one
// starts with the immediate first attempt.
func TestRetrySettingsPolicy(t *testing.T) {
	tests := []struct {
		name          string
		in            RetrySettings
		schedule      []time.Duration
		maxRetryAfter time.Duration
		timeout       time.Duration
	}{
		{"Zero", RetrySettings{}, DefaultRetrySchedule, time.Hour, 15 * time.Second},
		{"Default", RetrySettings{Schedule: RetryScheduleDefault, AttemptTimeoutSeconds: 5}, DefaultRetrySchedule, time.Hour, 5 * time.Second},
		{"Short", RetrySettings{Schedule: RetryScheduleShort}, ShortRetrySchedule, 10 * time.Minute, 15 * time.Second},
		{"Custom", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{10, 60}, AttemptTimeoutSeconds: 30},
			[]time.Duration{0, 10 * time.Second, time.Minute}, time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in.Policy(RetryPolicy{})
			if !reflect.DeepEqual(p.Schedule, tt.schedule) || p.MaxRetryAfter != tt.maxRetryAfter || p.Jitter != 0.2 || p.MinRetryAfter != time.Second {
				t.Errorf("policy %+v", p)
			}
			if got := tt.in.AttemptTimeout(); got != tt.timeout {
				t.Errorf("timeout %s, want %s", got, tt.timeout)
			}
		})
	}
	operator := RetryPolicy{Schedule: []time.Duration{0, time.Second}}
	if got := (RetrySettings{AttemptTimeoutSeconds: 3}).Policy(operator); !reflect.DeepEqual(got, operator) {
		t.Errorf("the default schedule is not the operator's: %+v", got)
	}
	if got := (RetrySettings{Schedule: RetryScheduleShort}).Policy(operator); !reflect.DeepEqual(got.Schedule, ShortRetrySchedule) {
		t.Errorf("short follows the operator's: %+v", got)
	}
	var total time.Duration
	for _, d := range ShortRetrySchedule {
		total += d
	}
	if total > 20*time.Minute {
		t.Errorf("the short schedule takes %s", total)
	}
}

// TestRetryPolicyDecideWithSettings: the chosen schedule is what Decide
// follows: a short schedule gives up after its seventh attempt, a custom
// one after its last delay, and the short one caps Retry-After.
func TestRetryPolicyDecideWithSettings(t *testing.T) {
	now := t0
	fail := AttemptOutcome{StatusCode: 500}
	short := RetrySettings{Schedule: RetryScheduleShort}.Policy(RetryPolicy{})
	custom := RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{7, 90}}.Policy(RetryPolicy{})
	tests := []struct {
		name    string
		p       RetryPolicy
		attempt int
		o       AttemptOutcome
		result  RetryResult
		next    time.Duration
	}{
		{"ShortFirstRetry", short, 1, fail, ResultRetry, 5 * time.Second},
		{"ShortLast", short, 6, fail, ResultRetry, 10 * time.Minute},
		{"ShortExhausted", short, 7, fail, ResultFailed, 0},
		{"ShortRetryAfterCapped", short, 1, AttemptOutcome{StatusCode: 503, RetryAfter: time.Hour}, ResultRetry, 10 * time.Minute},
		{"CustomFirst", custom, 1, fail, ResultRetry, 7 * time.Second},
		{"CustomSecond", custom, 2, fail, ResultRetry, 90 * time.Second},
		{"CustomExhausted", custom, 3, fail, ResultFailed, 0},
		{"CustomSucceeds", custom, 3, AttemptOutcome{StatusCode: 204}, ResultSucceeded, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.Decide(tt.attempt, tt.o, now, 0.5) // 0.5: no jitter
			if d.Result != tt.result {
				t.Fatalf("result %s, want %s", d.Result, tt.result)
			}
			if tt.result == ResultRetry && d.NextAt.Sub(now) != tt.next {
				t.Errorf("next in %s, want %s", d.NextAt.Sub(now), tt.next)
			}
		})
	}
}

func TestRetrySettingsValidate(t *testing.T) {
	many := make([]int, MaxCustomRetries+1)
	for i := range many {
		many[i] = 1
	}
	tests := []struct {
		name  string
		in    RetrySettings
		field string // "" means valid
	}{
		{"Zero", RetrySettings{}, ""},
		{"Short", RetrySettings{Schedule: RetryScheduleShort, AttemptTimeoutSeconds: 1}, ""},
		{"CustomMax", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{86400, 86400, 86400, 86400, 86400}, AttemptTimeoutSeconds: 30}, ""},
		{"CustomTwenty", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: many[:MaxCustomRetries]}, ""},
		{"ErrUnknown", RetrySettings{Schedule: "weekly"}, "retryPolicy.schedule"},
		{"ErrDelaysWithoutCustom", RetrySettings{Schedule: RetryScheduleShort, DelaysSeconds: []int{5}}, "retryPolicy.delaysSeconds"},
		{"ErrCustomEmpty", RetrySettings{Schedule: RetryScheduleCustom}, "retryPolicy.delaysSeconds"},
		{"ErrCustomTooMany", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: many}, "retryPolicy.delaysSeconds"},
		{"ErrCustomZeroDelay", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{0}}, "retryPolicy.delaysSeconds"},
		{"ErrCustomNegative", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{-5}}, "retryPolicy.delaysSeconds"},
		{"ErrCustomDelayTooLong", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{86401}}, "retryPolicy.delaysSeconds"},
		{"ErrCustomTotal", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{86400, 86400, 86400, 86400, 86400, 1}}, "retryPolicy.delaysSeconds"},
		{"ErrTimeoutLow", RetrySettings{AttemptTimeoutSeconds: -1}, "retryPolicy.attemptTimeoutSeconds"},
		{"ErrTimeoutHigh", RetrySettings{AttemptTimeoutSeconds: 31}, "retryPolicy.attemptTimeoutSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := UserErrors(tt.in.Validate())
			switch {
			case tt.field == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.field != "" && (len(errs) != 1 || errs[0].Field != tt.field || errs[0].Code != EINVALID):
				t.Errorf("errors %v, want one on %s", errs, tt.field)
			}
		})
	}
	if errs := UserErrors(ValidateBodyFormat("xml")); len(errs) != 1 || errs[0].Field != "bodyFormat" {
		t.Errorf("body format: %v", errs)
	}
}

// TestWebhookDeliverySettingsDecide: given/when/then for the delivery
// settings on create and update.
func TestWebhookDeliverySettingsDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	form := BodyFormatForm
	jsonFormat := BodyFormatJSON
	short := RetrySettings{Schedule: RetryScheduleShort}
	set := func(f BodyFormat, r RetrySettings, at time.Time) WebhookDeliverySettingsChanged {
		return WebhookDeliverySettingsChanged{WebhookID: "wh1", BodyFormat: f, Retry: r, At: at}
	}
	createWith := func(f BodyFormat, r *RetrySettings) CreateWebhook {
		x := validCreate(t)
		x.BodyFormat, x.Retry = f, r
		return x
	}
	createdAt := func(at time.Time) WebhookCreated { e := c; e.At = at; return e }
	tests := []struct {
		name     string
		given    []eventstore.Event
		when     WebhookCommand
		then     []eventstore.Event
		wantCode string
	}{
		{"CreateDefaultsAddNothing", nil, createWith(BodyFormatJSON, &RetrySettings{Schedule: RetryScheduleDefault, AttemptTimeoutSeconds: 15}),
			[]eventstore.Event{createdAt(t1)}, ""},
		{"CreateForm", nil, createWith(BodyFormatForm, nil),
			[]eventstore.Event{createdAt(t1), set(BodyFormatForm, RetrySettings{}, t1)}, ""},
		{"CreateCustom", nil, createWith("", &RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{30, 60}, AttemptTimeoutSeconds: 5}),
			[]eventstore.Event{createdAt(t1), set("", RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{30, 60}, AttemptTimeoutSeconds: 5}, t1)}, ""},
		{"ErrCreateInvalidRetry", nil, createWith("", &RetrySettings{Schedule: RetryScheduleCustom}), nil, EINVALID},
		{"ErrCreateInvalidFormat", nil, createWith("xml", nil), nil, EINVALID},
		{"UpdateRetryKeepsFormat", []eventstore.Event{c, set(BodyFormatForm, RetrySettings{}, t0)}, UpdateWebhook{Retry: &short},
			[]eventstore.Event{set(BodyFormatForm, short, t1)}, ""},
		{"UpdateFormatKeepsRetry", []eventstore.Event{c, set("", short, t0)}, UpdateWebhook{BodyFormat: &jsonFormat, Name: ptr("N")},
			[]eventstore.Event{WebhookUpdated{WebhookID: "wh1", Name: "N", EventTypes: c.EventTypes, Description: c.Description,
				Headers: c.Headers, RateLimit: c.RateLimit, MaxConcurrency: c.MaxConcurrency, At: t1}}, ""},
		{"UpdateBackToDefaults", []eventstore.Event{c, set(BodyFormatForm, short, t0)}, UpdateWebhook{BodyFormat: &jsonFormat, Retry: &RetrySettings{}},
			[]eventstore.Event{set("", RetrySettings{}, t1)}, ""},
		{"UpdateSameIsNoOp", []eventstore.Event{c, set(BodyFormatForm, short, t0)}, UpdateWebhook{BodyFormat: &form, Retry: &RetrySettings{Schedule: RetryScheduleShort, AttemptTimeoutSeconds: 15}}, nil, ""},
		{"ErrUpdateInvalid", []eventstore.Event{c}, UpdateWebhook{Retry: &RetrySettings{AttemptTimeoutSeconds: 99}}, nil, EINVALID},
		{"ErrUpdateDeleted", []eventstore.Event{c, WebhookDeleted{WebhookID: "wh1", At: t0}}, UpdateWebhook{Retry: &short}, nil, ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideWebhook(FoldWebhook(tt.given), tt.when, t1, nil)
			if code := ErrorCode(err); code != tt.wantCode {
				t.Fatalf("error %v, want code %q", err, tt.wantCode)
			}
			if !reflect.DeepEqual(got, tt.then) {
				t.Errorf("got  %+v\nwant %+v", got, tt.then)
			}
		})
	}
}

// TestWebhookDeliverySettingsEvolve: the settings fold into the state and
// survive later updates; a webhook without the event has the defaults.
func TestWebhookDeliverySettingsEvolve(t *testing.T) {
	c := created(t)
	custom := RetrySettings{Schedule: RetryScheduleCustom, DelaysSeconds: []int{5}}
	s := FoldWebhook([]eventstore.Event{c})
	if s.BodyFormat != "" || len(s.RetryPolicy(RetryPolicy{}).Schedule) != len(DefaultRetrySchedule) {
		t.Fatalf("defaults: %+v", s)
	}
	t1 := t0.Add(time.Minute)
	s = FoldWebhook([]eventstore.Event{c,
		WebhookDeliverySettingsChanged{WebhookID: "wh1", BodyFormat: BodyFormatForm, Retry: custom, At: t1},
		WebhookUpdated{WebhookID: "wh1", Name: "N", EventTypes: c.EventTypes, At: t1},
	})
	if s.BodyFormat != BodyFormatForm || !reflect.DeepEqual(s.Retry, custom) || s.Version != 3 || s.UpdatedAt != t1 {
		t.Errorf("state %+v", s)
	}
	if got := s.RetryPolicy(RetryPolicy{}).Schedule; !reflect.DeepEqual(got, []time.Duration{0, 5 * time.Second}) {
		t.Errorf("schedule %v", got)
	}
}
