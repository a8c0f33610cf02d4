package ownership

import (
	"testing"
	"time"
)

// TestHandBackWaitsForAttemptsInFlight: a partition an instance holds in
// excess stops being dispatched at once, but its lease is only released
// once the partition has no attempt in flight, so the next owner cannot
// send what the previous one still has under way.
func TestHandBackWaitsForAttemptsInFlight(t *testing.T) {
	c := newCluster(t)
	a, b := c.manager("a", nil), c.manager("b", nil)
	c.tickAll(a)
	busy := true
	a.Busy = func(int) bool { return busy }
	for range 4 {
		c.tickAll(b, a)
		c.clock.Advance(time.Second)
	}
	counts, unowned := owners(a, b)
	if counts[1] != 0 {
		t.Fatalf("b owns %d partitions while a's attempts are in flight; want 0", counts[1])
	}
	if counts[0] != testPartitions/2 || unowned != testPartitions/2 {
		t.Fatalf("a dispatches %d partitions, %d drain; want %d each", counts[0], unowned, testPartitions/2)
	}
	busy = false
	for range 3 {
		c.tickAll(a, b)
		c.clock.Advance(time.Second)
	}
	if counts, unowned := owners(a, b); unowned != 0 || counts[0] != testPartitions/2 || counts[1] != testPartitions/2 {
		t.Fatalf("after the drain: %v with %d unowned; want an even split", counts, unowned)
	}
}
