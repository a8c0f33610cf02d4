package domain

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

func TestWebhookDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	url := c.URL
	file := c.VerificationFile
	deleted := WebhookDeleted{WebhookID: "wh1", At: t0}
	paused := WebhookPaused{WebhookID: "wh1", At: t0}
	disabled := WebhookDisabled{WebhookID: "wh1", AccountID: "acc1", Reason: "410 Gone", At: t0}
	verified := WebhookVerified{WebhookID: "wh1", URL: url, At: t0}
	snapshot := func(edit func(*WebhookUpdated)) WebhookUpdated {
		u := WebhookUpdated{WebhookID: "wh1", Name: c.Name, EventTypes: c.EventTypes, Description: c.Description,
			Headers: c.Headers, RateLimit: c.RateLimit, MaxConcurrency: c.MaxConcurrency, At: t1}
		edit(&u)
		return u
	}
	createTwice := validCreate(t)

	tests := []struct {
		name     string
		given    []eventstore.Event
		when     WebhookCommand
		then     []eventstore.Event
		wantCode string
	}{
		// Create
		{"Create", nil, validCreate(t), []eventstore.Event{func() WebhookCreated { e := c; e.At = t1; return e }()}, ""},
		{"CreateTwice", []eventstore.Event{c}, createTwice, nil, ECONFLICT},
		{"CreateAfterDelete", []eventstore.Event{c, deleted}, createTwice, nil, ECONFLICT},
		{"CreateInvalid", nil, func() CreateWebhook { x := validCreate(t); x.EventTypes = []string{"nope.nope"}; return x }(), nil, EINVALID},

		// Update
		{"UpdateName", []eventstore.Event{c}, UpdateWebhook{Name: ptr("Renamed")},
			[]eventstore.Event{snapshot(func(u *WebhookUpdated) { u.Name = "Renamed" })}, ""},
		{"UpdateSeveral", []eventstore.Event{c}, UpdateWebhook{EventTypes: []string{"profile.created", "email.click"}, RateLimit: &RateLimit{}, MaxConcurrency: ptr(8), Headers: map[string]string{}},
			[]eventstore.Event{snapshot(func(u *WebhookUpdated) {
				u.EventTypes, u.RateLimit, u.MaxConcurrency, u.Headers = []string{"email.click", "profile.created"}, RateLimit{}, 8, map[string]string{}
			})}, ""},
		{"UpdateURL", []eventstore.Event{c, verified}, UpdateWebhook{URL: ptr("https://new.example.com/h"), VerificationFile: testFile(t, 2)},
			[]eventstore.Event{WebhookURLChanged{WebhookID: "wh1", URL: "https://new.example.com/h", VerificationFile: testFile(t, 2), At: t1}}, ""},
		{"UpdateURLAndName", []eventstore.Event{c}, UpdateWebhook{URL: ptr("https://new.example.com/h"), Name: ptr("N"), VerificationFile: testFile(t, 2)},
			[]eventstore.Event{
				WebhookURLChanged{WebhookID: "wh1", URL: "https://new.example.com/h", VerificationFile: testFile(t, 2), At: t1},
				snapshot(func(u *WebhookUpdated) { u.Name = "N" }),
			}, ""},
		{"UpdateSameValuesIsNoOp", []eventstore.Event{c}, UpdateWebhook{URL: &url, Name: ptr(c.Name), EventTypes: []string{"email.open", "email.bounce"}, RateLimit: &RateLimit{PerSecond: 50}}, nil, ""},
		{"UpdateNothing", []eventstore.Event{c}, UpdateWebhook{}, nil, ""},
		{"ErrUpdateURLWithoutFile", []eventstore.Event{c}, UpdateWebhook{URL: ptr("https://new.example.com/h")}, nil, EINVALID},
		{"ErrUpdateInvalid", []eventstore.Event{c}, UpdateWebhook{Name: ptr("")}, nil, EINVALID},
		{"ErrUpdateDeleted", []eventstore.Event{c, deleted}, UpdateWebhook{Name: ptr("x")}, nil, ENOTFOUND},
		{"ErrUpdateNeverCreated", nil, UpdateWebhook{Name: ptr("x")}, nil, ENOTFOUND},

		// Delete
		{"Delete", []eventstore.Event{c}, DeleteWebhook{}, []eventstore.Event{WebhookDeleted{WebhookID: "wh1", At: t1}}, ""},
		{"DeletePaused", []eventstore.Event{c, paused}, DeleteWebhook{}, []eventstore.Event{WebhookDeleted{WebhookID: "wh1", At: t1}}, ""},
		{"ErrDeleteDeleted", []eventstore.Event{c, deleted}, DeleteWebhook{}, nil, ENOTFOUND},
		{"ErrDeleteNeverCreated", nil, DeleteWebhook{}, nil, ENOTFOUND},

		// Pause and resume
		{"Pause", []eventstore.Event{c}, PauseWebhook{}, []eventstore.Event{WebhookPaused{WebhookID: "wh1", At: t1}}, ""},
		{"ErrPausePaused", []eventstore.Event{c, paused}, PauseWebhook{}, nil, EINVALID},
		{"ErrPauseDisabled", []eventstore.Event{c, disabled}, PauseWebhook{}, nil, EINVALID},
		{"ErrPauseDeleted", []eventstore.Event{c, deleted}, PauseWebhook{}, nil, ENOTFOUND},
		{"Resume", []eventstore.Event{c, paused}, ResumeWebhook{}, []eventstore.Event{WebhookResumed{WebhookID: "wh1", At: t1}}, ""},
		{"ErrResumeActive", []eventstore.Event{c}, ResumeWebhook{}, nil, EINVALID},
		{"ErrResumeDisabled", []eventstore.Event{c, disabled}, ResumeWebhook{}, nil, EINVALID},
		{"ErrResumeDeleted", []eventstore.Event{c, paused, deleted}, ResumeWebhook{}, nil, ENOTFOUND},

		// Disable and enable
		{"Disable", []eventstore.Event{c}, DisableWebhook{Reason: " failing for 5 days "},
			[]eventstore.Event{WebhookDisabled{WebhookID: "wh1", AccountID: "acc1", Reason: "failing for 5 days", At: t1}}, ""},
		{"DisablePaused", []eventstore.Event{c, paused}, DisableWebhook{Reason: "410 Gone"},
			[]eventstore.Event{WebhookDisabled{WebhookID: "wh1", AccountID: "acc1", Reason: "410 Gone", At: t1}}, ""},
		{"ErrDisableDisabled", []eventstore.Event{c, disabled}, DisableWebhook{Reason: "again"}, nil, EINVALID},
		{"ErrDisableWithoutReason", []eventstore.Event{c}, DisableWebhook{Reason: "  "}, nil, EINVALID},
		{"ErrDisableDeleted", []eventstore.Event{c, deleted}, DisableWebhook{Reason: "x"}, nil, ENOTFOUND},
		{"Enable", []eventstore.Event{c, disabled}, EnableWebhook{}, []eventstore.Event{WebhookEnabled{WebhookID: "wh1", At: t1}}, ""},
		{"ErrEnableEnabled", []eventstore.Event{c}, EnableWebhook{}, nil, EINVALID},
		{"ErrEnablePaused", []eventstore.Event{c, paused}, EnableWebhook{}, nil, EINVALID},
		{"ErrEnableDeleted", []eventstore.Event{c, disabled, deleted}, EnableWebhook{}, nil, ENOTFOUND},

		// Verification
		{"IssueFile", []eventstore.Event{c, verified}, IssueVerificationFile{File: testFile(t, 3)},
			[]eventstore.Event{WebhookVerificationFileIssued{WebhookID: "wh1", VerificationFile: testFile(t, 3), At: t1}}, ""},
		{"ErrIssueMalformedFile", []eventstore.Event{c}, IssueVerificationFile{File: VerificationFile{Name: "x.txt", Token: "t"}}, nil, EINVALID},
		{"ErrIssueDeleted", []eventstore.Event{c, deleted}, IssueVerificationFile{File: testFile(t, 3)}, nil, ENOTFOUND},
		{"Verify", []eventstore.Event{c}, RecordVerificationSucceeded{URL: url, FileName: file.Name},
			[]eventstore.Event{WebhookVerified{WebhookID: "wh1", URL: url, At: t1}}, ""},
		{"VerifyPausedAfterFailure", []eventstore.Event{c, paused, WebhookVerificationFailed{WebhookID: "wh1", URL: url, Reason: "404", At: t0}},
			RecordVerificationSucceeded{URL: url, FileName: file.Name}, []eventstore.Event{WebhookVerified{WebhookID: "wh1", URL: url, At: t1}}, ""},
		{"VerifyVerifiedIsNoOp", []eventstore.Event{c, verified}, RecordVerificationSucceeded{URL: url, FileName: file.Name}, nil, ""},
		{"ErrVerifyStaleURL", []eventstore.Event{c}, RecordVerificationSucceeded{URL: "https://old.example.com/", FileName: file.Name}, nil, ECONFLICT},
		{"ErrVerifyStaleFile", []eventstore.Event{c}, RecordVerificationSucceeded{URL: url, FileName: testFile(t, 9).Name}, nil, ECONFLICT},
		{"ErrVerifyDeleted", []eventstore.Event{c, deleted}, RecordVerificationSucceeded{URL: url, FileName: file.Name}, nil, ENOTFOUND},
		{"ErrVerifyNeverCreated", nil, RecordVerificationSucceeded{URL: url, FileName: file.Name}, nil, ENOTFOUND},
		{"VerificationFailed", []eventstore.Event{c}, RecordVerificationFailed{URL: url, FileName: file.Name, Reason: "got 404 at https://hooks.example.com/in/x.txt"},
			[]eventstore.Event{WebhookVerificationFailed{WebhookID: "wh1", URL: url, Reason: "got 404 at https://hooks.example.com/in/x.txt", At: t1}}, ""},
		{"ErrVerificationFailedOnVerified", []eventstore.Event{c, verified}, RecordVerificationFailed{URL: url, FileName: file.Name, Reason: "404"}, nil, EINVALID},
		{"ErrVerificationFailedWithoutReason", []eventstore.Event{c}, RecordVerificationFailed{URL: url, FileName: file.Name}, nil, EINVALID},
		{"ErrVerificationFailedStale", []eventstore.Event{c}, RecordVerificationFailed{URL: "https://x.example/", FileName: file.Name, Reason: "404"}, nil, ECONFLICT},
		{"ErrVerificationFailedDeleted", []eventstore.Event{c, deleted}, RecordVerificationFailed{URL: url, FileName: file.Name, Reason: "404"}, nil, ENOTFOUND},

		// Secret rotation
		{"Rotate", []eventstore.Event{c}, RotateWebhookSecret{Secret: testSecret(2)},
			[]eventstore.Event{WebhookSecretRotated{WebhookID: "wh1", Secret: testSecret(2), PreviousExpiresAt: t1.Add(24 * time.Hour), At: t1}}, ""},
		{"RotateOverlap", []eventstore.Event{c, disabled}, RotateWebhookSecret{Secret: testSecret(2), Overlap: time.Hour},
			[]eventstore.Event{WebhookSecretRotated{WebhookID: "wh1", Secret: testSecret(2), PreviousExpiresAt: t1.Add(time.Hour), At: t1}}, ""},
		{"RotateRevokingPrevious", []eventstore.Event{c}, RotateWebhookSecret{Secret: testSecret(2), Overlap: time.Hour, RevokePrevious: true},
			[]eventstore.Event{WebhookSecretRotated{WebhookID: "wh1", Secret: testSecret(2), PreviousExpiresAt: t1, At: t1}}, ""},
		{"ErrRotateNegativeOverlap", []eventstore.Event{c}, RotateWebhookSecret{Secret: testSecret(2), Overlap: -time.Second}, nil, EINVALID},
		{"ErrRotateOverlapTooLong", []eventstore.Event{c}, RotateWebhookSecret{Secret: testSecret(2), Overlap: 8 * 24 * time.Hour}, nil, EINVALID},
		{"ErrRotateSameSecret", []eventstore.Event{c}, RotateWebhookSecret{Secret: testSecret(1)}, nil, EINVALID},
		{"ErrRotateMalformedSecret", []eventstore.Event{c}, RotateWebhookSecret{Secret: "whsec_short"}, nil, EINVALID},
		{"ErrRotateDeleted", []eventstore.Event{c, deleted}, RotateWebhookSecret{Secret: testSecret(2)}, nil, ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := FoldWebhook(tc.given)
			got, err := DecideWebhook(state, tc.when, t1, BuiltinCatalogue().Known)
			if code := ErrorCode(err); code != tc.wantCode {
				t.Fatalf("error = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events:\n got %#v\nwant %#v", got, tc.then)
			}
			// Every decided event must fold without disturbing the state's
			// identity.
			next := state
			for _, e := range got {
				next = EvolveWebhook(next, e)
			}
			if len(got) > 0 && next.ID != "wh1" {
				t.Fatalf("after the events, ID = %q", next.ID)
			}
		})
	}
}

func TestWebhookDecideNilCatalogueUsesBuiltins(t *testing.T) {
	if _, err := DecideWebhook(WebhookState{}, validCreate(t), t0, nil); err != nil {
		t.Fatalf("built-in types refused: %v", err)
	}
	cmd := validCreate(t)
	cmd.EventTypes = []string{"order.shipped"}
	if _, err := DecideWebhook(WebhookState{}, cmd, t0, nil); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown type accepted: %v", err)
	}
	extra, err := BuiltinCatalogue().WithExtra([]EventType{{Name: "order.shipped"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecideWebhook(WebhookState{}, cmd, t0, extra.Known); err != nil {
		t.Fatalf("operator-defined type refused: %v", err)
	}
}
