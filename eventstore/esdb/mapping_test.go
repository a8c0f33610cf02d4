package esdb

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

func pos(off uint64) esdb.Position { return esdb.Position{Commit: off, Prepare: off} }

func TestPosition(t *testing.T) {
	t.Run("FirstOffsetIsNotStart", func(t *testing.T) {
		if got := toPosition(pos(0)); got == eventstore.Start {
			t.Fatal("the event at offset 0 maps to Start")
		}
	})
	t.Run("EventPositionsAreEven", func(t *testing.T) {
		for _, c := range []uint64{0, 1, 167, 1788, 1 << 40} {
			if p := toPosition(pos(c)); p%2 != 0 {
				t.Errorf("toPosition(%d) = %d, want even", c, p)
			}
		}
	})
	t.Run("StreamReadUsesPrepare", func(t *testing.T) {
		got := toPosition(esdb.Position{Commit: math.MaxUint64, Prepare: 305})
		if got != toPosition(pos(305)) {
			t.Fatalf("got %d, want the position of offset 305 (%d)", got, toPosition(pos(305)))
		}
	})
	t.Run("UnknownIsStart", func(t *testing.T) {
		if got := toPosition(esdb.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}); got != eventstore.Start {
			t.Fatalf("got %d, want Start", got)
		}
	})
	t.Run("OrderPreserved", func(t *testing.T) {
		if !(toPosition(pos(167)) < toPosition(pos(305))) {
			t.Fatal("positions lost their order")
		}
	})
	t.Run("OffsetOf", func(t *testing.T) {
		for _, c := range []uint64{0, 1, 167, 1 << 40} {
			p := toPosition(pos(c))
			if got := offsetOf(p); got != c {
				t.Errorf("offsetOf(event at %d) = %d", c, got)
			}
			if got := offsetOf(p - 1); got != c {
				t.Errorf("offsetOf(just before %d) = %d", c, got)
			}
		}
	})
	t.Run("JustBeforeKeepsTheEvent", func(t *testing.T) {
		rec := &esdb.RecordedEvent{EventType: "a.v1", Position: pos(305)}
		p := toPosition(rec.Position)
		if !keep(rec, p-1, eventstore.Filter{}) {
			t.Error("after p-1 dropped the event at p")
		}
		if keep(rec, p, eventstore.Filter{}) {
			t.Error("after p kept the event at p")
		}
	})
	t.Run("StartBefore", func(t *testing.T) {
		s := &Store{} // the paths tested here never call the server
		from, err := s.startBefore(context.Background(), eventstore.Start)
		if _, ok := from.(esdb.Start); err != nil || !ok {
			t.Fatalf("startBefore(Start) = %#v, %v; want esdb.Start{}", from, err)
		}
		from, err = s.startBefore(context.Background(), toPosition(pos(1788)))
		if err != nil || from != pos(1788) {
			t.Fatalf("startBefore(event at 1788) = %#v, %v; want {1788 1788}", from, err)
		}
	})
}

func TestKeep(t *testing.T) {
	after := toPosition(pos(100))
	f := eventstore.Filter{TypePrefixes: []string{"webhook."}}
	tests := []struct {
		name string
		rec  esdb.RecordedEvent
		want bool
	}{
		{"OK", esdb.RecordedEvent{EventType: "webhook.created.v1", Position: pos(200)}, true},
		{"AtAfter", esdb.RecordedEvent{EventType: "webhook.created.v1", Position: pos(100)}, false},
		{"BeforeAfter", esdb.RecordedEvent{EventType: "webhook.created.v1", Position: pos(50)}, false},
		{"System", esdb.RecordedEvent{EventType: "$metadata", Position: pos(200)}, false},
		{"Filtered", esdb.RecordedEvent{EventType: "delivery.scheduled.v1", Position: pos(200)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keep(&tt.rec, after, f); got != tt.want {
				t.Fatalf("keep = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestToExpectedRevision(t *testing.T) {
	tests := []struct {
		in   eventstore.ExpectedRevision
		want esdb.ExpectedRevision
	}{
		{eventstore.Any, esdb.Any{}},
		{eventstore.NoStream, esdb.NoStream{}},
		{eventstore.StreamExists, esdb.StreamExists{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(42), esdb.Revision(42)},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if got := toExpectedRevision(tt.in); got != tt.want {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseActual(t *testing.T) {
	const prefix = "[ErrorCodeWrongExpectedVersion] an append request failed the optimistic concurrency on the server: "
	tests := []struct {
		name       string
		msg        string
		wantExists bool
		wantActual uint64
		wantOK     bool
	}{
		{"Revision", prefix + "wrong expected version: expecting '1' but got '3'", true, 3, true},
		{"RevisionZero", prefix + "wrong expected version: expecting 'no_stream' but got '0'", true, 0, true},
		{"NoStream", prefix + "wrong expected version: expecting '4' but got 'no_stream'", false, 0, true},
		{"Unrecognised", prefix + "something else", false, 0, false},
		{"Garbage", "expecting '1' but got 'x'", false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exists, actual, ok := parseActual(tt.msg)
			if exists != tt.wantExists || actual != tt.wantActual || ok != tt.wantOK {
				t.Fatalf("parseActual = (%v, %d, %v), want (%v, %d, %v)", exists, actual, ok, tt.wantExists, tt.wantActual, tt.wantOK)
			}
		})
	}
}

func TestToEventData(t *testing.T) {
	id := uuid.NewString()
	t.Run("OK", func(t *testing.T) {
		got, err := toEventData([]eventstore.EventData{{ID: id, Type: "webhook.created.v1", Data: []byte(`{}`), Metadata: []byte(`{"a":1}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].EventID.String() != id || got[0].EventType != "webhook.created.v1" || got[0].ContentType != esdb.ContentTypeJson ||
			string(got[0].Data) != `{}` || string(got[0].Metadata) != `{"a":1}` {
			t.Fatalf("got %+v", got[0])
		}
	})
	tests := []struct {
		name   string
		events []eventstore.EventData
		want   error
	}{
		{"ErrNoEvents", nil, eventstore.ErrInvalidEvent},
		{"ErrIDNotUUID", []eventstore.EventData{{ID: "abc", Type: "t"}}, eventstore.ErrInvalidEvent},
		{"ErrIDEmpty", []eventstore.EventData{{Type: "t"}}, eventstore.ErrInvalidEvent},
		{"ErrTypeEmpty", []eventstore.EventData{{ID: id}}, eventstore.ErrInvalidEvent},
		{"ErrTooLarge", []eventstore.EventData{{ID: id, Type: "t", Data: make([]byte, eventstore.MaxEventSize), Metadata: []byte("x")}}, eventstore.ErrEventTooLarge},
		{"ErrSecondEventBad", []eventstore.EventData{{ID: id, Type: "t"}, {ID: id}}, eventstore.ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := toEventData(tt.events); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("ExactlyMaxSize", func(t *testing.T) {
		if _, err := toEventData([]eventstore.EventData{{ID: id, Type: "t", Data: make([]byte, eventstore.MaxEventSize)}}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestToRecorded(t *testing.T) {
	id := uuid.New()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	got := toRecorded(&esdb.RecordedEvent{
		EventID: id, EventType: "t.v1", StreamID: "webhook-1", EventNumber: 7,
		Position: pos(99), CreatedDate: created,
		Data: []byte(`{}`), UserMetadata: []byte{},
	})
	if got.ID != id.String() || got.Type != "t.v1" || got.Stream != "webhook-1" || got.Revision != 7 || got.Position != toPosition(pos(99)) {
		t.Fatalf("got %+v", got)
	}
	if got.Metadata != nil {
		t.Errorf("empty metadata = %#v, want nil", got.Metadata)
	}
	if got.Time.Location() != time.UTC || !got.Time.Equal(created) {
		t.Errorf("time = %v, want %v in UTC", got.Time, created)
	}
}

func TestToFilter(t *testing.T) {
	t.Run("EmptyExcludesSystemEvents", func(t *testing.T) {
		f := toFilter(eventstore.Filter{})
		if f.Type != esdb.EventFilterType || f.Regex == "" || len(f.Prefixes) != 0 {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("Prefixes", func(t *testing.T) {
		f := toFilter(eventstore.Filter{TypePrefixes: []string{"webhook.", "delivery."}})
		if f.Type != esdb.EventFilterType || strings.Join(f.Prefixes, ",") != "webhook.,delivery." {
			t.Fatalf("got %+v", f)
		}
	})
}

func TestMaxAgeMetadata(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want time.Duration // 0: no $maxAge
	}{
		{0, 0},
		{time.Millisecond, time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{3 * time.Second, 3 * time.Second},
		{72 * time.Hour, 72 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			m := maxAgeMetadata(tt.in)
			switch got := m.MaxAge(); {
			case tt.want == 0 && got != nil:
				t.Fatalf("MaxAge = %v, want unset", *got)
			case tt.want != 0 && (got == nil || *got != tt.want):
				t.Fatalf("MaxAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsSystem(t *testing.T) {
	for typ, want := range map[string]bool{"$metadata": true, "$>": true, "webhook.created.v1": false, "": false} {
		if got := isSystem(typ); got != want {
			t.Errorf("isSystem(%q) = %v, want %v", typ, got, want)
		}
	}
}
