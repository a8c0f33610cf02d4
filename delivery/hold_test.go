package delivery

import (
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

func TestHoldReleased(t *testing.T) {
	now := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		h       hold
		applied uint64
		want    bool
	}{
		{"Running", hold{running: true}, 100, false},
		{"RecordedNotYetApplied", hold{pos: 7}, 6, false},
		{"RecordedApplied", hold{pos: 7}, 7, true},
		{"NotDueYet", hold{pos: 7, until: now.Add(time.Second)}, 7, false},
		{"NotDueYetIndexLags", hold{pos: 7, until: now}, 6, false},
		{"FallenDue", hold{pos: 7, until: now}, 7, true},
		{"BackingOff", hold{until: now.Add(time.Millisecond)}, 0, false},
		{"BackedOff", hold{until: now}, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.h.released(eventstore.Position(c.applied), now); got != c.want {
				t.Fatalf("released = %v, want %v", got, c.want)
			}
		})
	}
}
