package due

import (
	"testing"
	"time"
)

// Health is kept in 16 bytes; values stored as JSON before still read.
func TestHealthEncoding(t *testing.T) {
	at := time.Date(2026, 4, 2, 8, 0, 0, 123, time.UTC)
	for _, h := range []Health{{}, {LastSuccessAt: at}, {FailingSince: at}, {LastSuccessAt: at, FailingSince: at.Add(time.Hour)}} {
		got, err := decodeHealth(encodeHealth(h))
		if err != nil || !got.LastSuccessAt.Equal(h.LastSuccessAt) || !got.FailingSince.Equal(h.FailingSince) {
			t.Fatalf("round trip of %+v: %+v, %v", h, got, err)
		}
	}
	legacy, err := decodeHealth([]byte(`{"failingSince":"2026-04-02T08:00:00.000000123Z"}`))
	if err != nil || !legacy.FailingSince.Equal(at) || !legacy.LastSuccessAt.IsZero() {
		t.Fatalf("legacy JSON: %+v, %v", legacy, err)
	}
	if _, err := decodeHealth([]byte{1, 2, 3}); err == nil {
		t.Fatal("a damaged value decoded")
	}
}
