package domain

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// given folds lease events into a state, as the stream would hold them.
func givenLease(events ...eventstore.Event) LeaseState {
	var s LeaseState
	for _, e := range events {
		s = EvolveLease(s, e)
	}
	return s
}

func TestDecideLease(t *testing.T) {
	ttl := 10 * time.Second
	acquiredA := LeaseAcquired{Partition: 3, Owner: "a", Term: 1, ExpiresAt: t0.Add(ttl), At: t0}
	t.Run("AcquireFree", func(t *testing.T) {
		got, err := DecideLease(LeaseState{}, AcquireLease{Partition: 3, Owner: "a", TTL: ttl}, t0)
		want := []eventstore.Event{acquiredA}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
	})
	t.Run("ErrHeldByAnother", func(t *testing.T) {
		_, err := DecideLease(givenLease(acquiredA), AcquireLease{Partition: 3, Owner: "b", TTL: ttl}, t0.Add(ttl-time.Nanosecond))
		if ErrorCode(err) != ECONFLICT {
			t.Fatalf("got %v, want CONFLICT", err)
		}
	})
	t.Run("TakeOverAfterExpiry", func(t *testing.T) {
		at := t0.Add(ttl)
		got, err := DecideLease(givenLease(acquiredA), AcquireLease{Partition: 3, Owner: "b", TTL: ttl}, at)
		want := []eventstore.Event{LeaseAcquired{Partition: 3, Owner: "b", Term: 2, ExpiresAt: at.Add(ttl), TakenFrom: "a", At: at}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
	})
	t.Run("AcquireAfterRelease", func(t *testing.T) {
		s := givenLease(acquiredA, LeaseReleased{Partition: 3, Owner: "a", Term: 1, At: t0})
		got, err := DecideLease(s, AcquireLease{Partition: 3, Owner: "b", TTL: ttl}, t0)
		if err != nil || len(got) != 1 || got[0].(LeaseAcquired).Term != 2 || got[0].(LeaseAcquired).TakenFrom != "" {
			t.Fatalf("got %#v, %v; want term 2 acquired by b, taken from nobody", got, err)
		}
	})
	t.Run("Renew", func(t *testing.T) {
		at := t0.Add(4 * time.Second)
		got, err := DecideLease(givenLease(acquiredA), RenewLease{Owner: "a", Term: 1, TTL: ttl}, at)
		want := []eventstore.Event{LeaseRenewed{Partition: 3, Owner: "a", Term: 1, ExpiresAt: at.Add(ttl), At: at}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
		if s := givenLease(acquiredA, got[0]); !s.HeldBy("a", at.Add(ttl-time.Nanosecond)) || s.HeldBy("a", at.Add(ttl)) {
			t.Fatalf("renewed state %+v does not hold until %s", s, at.Add(ttl))
		}
	})
	t.Run("RenewExpiredNobodyTook", func(t *testing.T) {
		if _, err := DecideLease(givenLease(acquiredA), RenewLease{Owner: "a", Term: 1, TTL: ttl}, t0.Add(time.Hour)); err != nil {
			t.Fatalf("renewing an expired lease nobody took: %v", err)
		}
	})
	t.Run("ErrRenewAfterTakeOver", func(t *testing.T) {
		s := givenLease(acquiredA, LeaseAcquired{Partition: 3, Owner: "b", Term: 2, ExpiresAt: t0.Add(2 * ttl), TakenFrom: "a", At: t0.Add(ttl)})
		if _, err := DecideLease(s, RenewLease{Owner: "a", Term: 1, TTL: ttl}, t0.Add(ttl)); ErrorCode(err) != ECONFLICT {
			t.Fatalf("got %v, want CONFLICT", err)
		}
	})
	t.Run("ReleaseOnlyOwnTerm", func(t *testing.T) {
		s := givenLease(acquiredA)
		if got, err := DecideLease(s, ReleaseLease{Owner: "b", Term: 1}, t0); err != nil || got != nil {
			t.Fatalf("release by another: %#v, %v; want nothing", got, err)
		}
		got, err := DecideLease(s, ReleaseLease{Owner: "a", Term: 1}, t0)
		if err != nil || len(got) != 1 || !givenLease(acquiredA, got[0]).Free(t0) {
			t.Fatalf("release by owner: %#v, %v; want a free lease", got, err)
		}
	})
	t.Run("ReacquireOwnRenews", func(t *testing.T) {
		got, err := DecideLease(givenLease(acquiredA), AcquireLease{Partition: 3, Owner: "a", TTL: ttl}, t0.Add(time.Second))
		if err != nil || len(got) != 1 || got[0].(LeaseRenewed).Term != 1 {
			t.Fatalf("got %#v, %v; want a renewal of term 1", got, err)
		}
	})
	t.Run("ErrNoOwner", func(t *testing.T) {
		if _, err := DecideLease(LeaseState{}, AcquireLease{TTL: ttl}, t0); ErrorCode(err) != EINVALID {
			t.Fatalf("got %v, want INVALID", err)
		}
	})
}

func TestPartitionOfIsStableAndSpread(t *testing.T) {
	if got := PartitionOf("wh_abc", 64); got != 49 { // FNV-1a; changing the hash moves every webhook
		t.Fatalf("PartitionOf(wh_abc, 64) = %d; the hash changed", got)
	}
	counts := make([]int, 8)
	for i := range 8000 {
		counts[PartitionOf("wh_"+time.Duration(i).String(), 8)]++
	}
	for p, n := range counts {
		if n < 800 || n > 1200 {
			t.Errorf("partition %d got %d of 8000 webhooks", p, n)
		}
	}
}

func TestFairShareAndMembers(t *testing.T) {
	for _, c := range []struct{ p, n, want int }{{64, 1, 64}, {64, 3, 22}, {64, 64, 1}, {64, 100, 1}, {64, 0, 64}} {
		if got := FairShare(c.p, c.n); got != c.want {
			t.Errorf("FairShare(%d, %d) = %d, want %d", c.p, c.n, got, c.want)
		}
	}
	m := Members{}
	m.Observe(MemberHeartbeat{Instance: "a", TTLMs: 1000}, t0)
	m.Observe(MemberHeartbeat{Instance: "b", TTLMs: 1000}, t0)
	if got := m.Live("self", t0.Add(999*time.Millisecond)); got != 3 {
		t.Errorf("live = %d, want 3", got)
	}
	m.Observe(MemberLeft{Instance: "a"}, t0)
	if got := m.Live("self", t0); got != 2 {
		t.Errorf("after a left: live = %d, want 2", got)
	}
	if got := m.Live("self", t0.Add(time.Second)); got != 1 {
		t.Errorf("after b's heartbeat lapsed: live = %d, want 1", got)
	}
}
