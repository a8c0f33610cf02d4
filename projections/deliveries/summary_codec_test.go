package deliveries

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// filledView sets every field of a DeliveryView but its inline attempt
// log to a value of its own, so a field the binary form leaves out (one
// added to DeliveryState later, say) fails the round trip.
func filledView(t *testing.T) DeliveryView {
	t.Helper()
	var v DeliveryView
	n := 0
	var fill func(rv reflect.Value)
	fill = func(rv reflect.Value) {
		for i := range rv.NumField() {
			f, name := rv.Field(i), rv.Type().Field(i).Name
			n++
			switch {
			case name == "Attempts" && f.Kind() == reflect.Slice:
				// the inline log of earlier versions: stored as JSON (below)
			case f.Type() == reflect.TypeFor[time.Time]():
				f.Set(reflect.ValueOf(time.Date(2026, 12, 2, 1, n, 3, 456789000+n, time.UTC)))
			case f.Kind() == reflect.Struct:
				fill(f)
			case f.Kind() == reflect.String:
				f.SetString(name + "-value")
			case f.Kind() == reflect.Bool:
				f.SetBool(true)
			case f.CanInt():
				f.SetInt(int64(1000 + n))
			case f.CanUint():
				f.SetUint(uint64(1 << (20 + n)))
			default:
				t.Fatalf("field %s of kind %s: teach filledView and the summary codec about it", name, f.Kind())
			}
		}
	}
	fill(reflect.ValueOf(&v).Elem())
	return v
}

func roundTrip(t *testing.T, v DeliveryView) ([]byte, DeliveryView) {
	t.Helper()
	raw, err := EncodeSummary(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSummary(raw)
	if err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return raw, got
}

func TestSummaryRoundTripsEveryField(t *testing.T) {
	for name, v := range map[string]DeliveryView{
		"every field set": filledView(t),
		"zero":            {},
		"pending": {DeliveryState: domain.DeliveryState{ID: "dlv_1", WebhookID: "wh", Status: domain.DeliveryStatusPending,
			NextAttemptAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Attempts: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			raw, got := roundTrip(t, v)
			if raw[0] != summaryBinary {
				t.Fatalf("stored as %q, not binary", raw)
			}
			if !reflect.DeepEqual(got, v) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
			}
		})
	}
}

// TestSummaryIsSmallerThanItsJSON is why the summary is binary: every
// attempt rewrites it, and a page holds more of them.
func TestSummaryIsSmallerThanItsJSON(t *testing.T) {
	v := filledView(t)
	raw, _ := EncodeSummary(v)
	js, err := jsoncodec.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if 2*len(raw) > len(js) {
		t.Fatalf("binary summary %d bytes, JSON %d: not half", len(raw), len(js))
	}
}

func TestSummariesBinaryCannotHoldStayJSON(t *testing.T) {
	withLog := filledView(t)
	withLog.Attempts = []AttemptView{{Number: 1, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), StatusCode: 500}}
	zoned := filledView(t)
	zoned.CreatedAt = zoned.CreatedAt.In(time.FixedZone("x", 3600))
	for name, v := range map[string]DeliveryView{"an inline attempt log": withLog, "a time not in UTC": zoned} {
		t.Run(name, func(t *testing.T) {
			raw, got := roundTrip(t, v)
			if raw[0] != '{' {
				t.Fatalf("stored as %q, not JSON", raw)
			}
			if !reflect.DeepEqual(got, v) && !(got.CreatedAt.Equal(v.CreatedAt) && got.CreatedAt.Format(time.RFC3339Nano) == v.CreatedAt.Format(time.RFC3339Nano)) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
			}
		})
	}
}

// TestSummaryStoredAsJSONStillReads: a read model written before the
// binary form holds JSON summaries, read as they are.
func TestSummaryStoredAsJSONStillReads(t *testing.T) {
	v := filledView(t)
	js, err := jsoncodec.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSummary(js)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("JSON summary read as %+v (%v), want %+v", got, err, v)
	}
}

func TestTruncatedSummaryIsAnError(t *testing.T) {
	raw, _ := EncodeSummary(filledView(t))
	for n := 1; n < len(raw); n++ {
		if _, err := DecodeSummary(raw[:n]); err == nil {
			t.Fatalf("a summary cut to %d of %d bytes decoded without an error", n, len(raw))
		}
	}
}
