package domain

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestWebhookFilterDecide: given these events, when this command, then
// these events (or this error), for the payload filter.
func TestWebhookFilterDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	hard := `{"data.severity":"hard"}`
	set := func(f string, at time.Time) WebhookFilterSet {
		e := WebhookFilterSet{WebhookID: "wh1", At: at}
		if f != "" {
			e.Filter = json.RawMessage(f)
		}
		return e
	}
	withFilter := func(f string) CreateWebhook { x := validCreate(t); x.Filter = []byte(f); return x }
	createdAt1 := c
	createdAt1.At = t1
	for _, tc := range []struct {
		name     string
		given    []eventstore.Event
		when     WebhookCommand
		then     []eventstore.Event
		wantCode string
	}{
		{"CreateWithFilter", nil, withFilter("{ \"data.severity\": \"hard\" }"), []eventstore.Event{createdAt1, set(hard, t1)}, ""},
		{"CreateWithEmptyFilter", nil, withFilter("{}"), []eventstore.Event{createdAt1}, ""},
		{"ErrCreateWithBadFilter", nil, withFilter(`{"severity": "hard"}`), nil, EINVALID},
		{"SetFilter", []eventstore.Event{c}, UpdateWebhook{Filter: []byte(hard)}, []eventstore.Event{set(hard, t1)}, ""},
		{"SameFilterIsNoOp", []eventstore.Event{c, set(hard, t0)}, UpdateWebhook{Filter: []byte(`{"data.severity": "hard"}`)}, nil, ""},
		{"UpdateWithoutFilterKeepsIt", []eventstore.Event{c, set(hard, t0)}, UpdateWebhook{Name: ptr("N")},
			[]eventstore.Event{WebhookUpdated{WebhookID: "wh1", Name: "N", EventTypes: c.EventTypes, Description: c.Description,
				Headers: c.Headers, RateLimit: c.RateLimit, MaxConcurrency: c.MaxConcurrency, At: t1}}, ""},
		{"RemoveFilter", []eventstore.Event{c, set(hard, t0)}, UpdateWebhook{Filter: []byte(`{}`)}, []eventstore.Event{set("", t1)}, ""},
		{"RemoveMissingFilterIsNoOp", []eventstore.Event{c}, UpdateWebhook{Filter: []byte(`null`)}, nil, ""},
		{"ErrSetBadFilter", []eventstore.Event{c}, UpdateWebhook{Filter: []byte(`{"data.x": {"$regex": "a"}}`)}, nil, EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecideWebhook(FoldWebhook(tc.given), tc.when, t1, nil)
			if code := ErrorCode(err); code != tc.wantCode {
				t.Fatalf("error = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events:\n got %#v\nwant %#v", got, tc.then)
			}
		})
	}
	t.Run("ErrNamesFilterField", func(t *testing.T) {
		_, err := DecideWebhook(WebhookState{}, withFilter(`{"data.x": {"$regex": "a"}}`), t1, nil)
		ues := UserErrors(err)
		if len(ues) != 1 || ues[0].Field != "filter" || ues[0].Message != `unknown operator "$regex" at data.x` {
			t.Fatalf("userErrors = %+v", ues)
		}
	})
}

// TestWebhookFilterEvolve: the state carries the canonical filter, which
// the fan-out rule compiles.
func TestWebhookFilterEvolve(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{created(t), WebhookFilterSet{WebhookID: "wh1", Filter: json.RawMessage(`{"data.severity":"hard"}`), At: t0}})
	if s.Filter != `{"data.severity":"hard"}` || s.Version != 2 {
		t.Fatalf("state = %q (version %d)", s.Filter, s.Version)
	}
	if !s.PassesFilter([]byte(`{"severity":"hard"}`)) || s.PassesFilter([]byte(`{"severity":"soft"}`)) {
		t.Error("PassesFilter disagrees with the filter")
	}
	f, err := s.CompiledFilter()
	if err != nil || !FilterAdmits(f, MessagePublished{Data: json.RawMessage(`{"severity":"hard"}`)}) ||
		FilterAdmits(f, MessagePublished{Data: json.RawMessage(`{}`)}) {
		t.Errorf("FilterAdmits disagrees with the filter (%v)", err)
	}
	s = EvolveWebhook(s, WebhookFilterSet{WebhookID: "wh1", At: t0})
	if s.Filter != "" || !s.PassesFilter([]byte(`{}`)) || !FilterAdmits(nil, MessagePublished{}) {
		t.Errorf("a removed filter still filters: %q", s.Filter)
	}
}
