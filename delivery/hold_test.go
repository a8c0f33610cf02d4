package delivery

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
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

func TestStorePauseDoublesPerStep(t *testing.T) {
	d := NewDispatcher()
	d.StoreBackoff, d.StoreBackoffMax = time.Second, 4*time.Second
	now := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	refused := &aggregate.AppendError{Stream: "delivery-1", Err: syscall.ENOSPC}
	for i, c := range []struct {
		at        time.Duration // since now
		err       error
		want      time.Duration // hold, since now
		newPause  bool
		pausedFor time.Duration
	}{
		{0, refused, time.Second, true, time.Second},
		{500 * time.Millisecond, refused, time.Second, false, time.Second}, // an attempt of the same step
		{time.Second, refused, 3 * time.Second, true, 2 * time.Second},
		{3 * time.Second, refused, 7 * time.Second, true, 4 * time.Second},
		{7 * time.Second, refused, 11 * time.Second, true, 4 * time.Second}, // capped
		{11 * time.Second, errors.New("read message: EIO"), 12 * time.Second, false, 4 * time.Second},
	} {
		var paused bool
		until := d.notRecorded(now.Add(c.at), c.err, &paused)
		if !until.Equal(now.Add(c.want)) || paused != c.newPause || d.storeBackoff != c.pausedFor {
			t.Fatalf("case %d: hold until +%v, new pause %v, pause %v; want +%v, %v, %v",
				i, until.Sub(now), paused, d.storeBackoff, c.want, c.newPause, c.pausedFor)
		}
	}
}
