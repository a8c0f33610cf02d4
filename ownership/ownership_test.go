package ownership

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/internal/faultstore"
)

const (
	testPartitions = 12
	testTTL        = 3 * time.Second
)

// clock is a fake clock shared by the store and every manager of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type cluster struct {
	t     *testing.T
	store *bolt.Store
	clock *clock
	codec *eventstore.Codec
}

func newCluster(t *testing.T) *cluster {
	clk := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true, Now: clk.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	codec := eventstore.NewCodec()
	domain.RegisterEvents(codec)
	return &cluster{t: t, store: s, clock: clk, codec: codec}
}

func (c *cluster) manager(id string, store eventstore.Store) *Manager {
	if store == nil {
		store = c.store
	}
	m := &Manager{Store: store, Codec: c.codec, Instance: id, Partitions: testPartitions, TTL: testTTL,
		Now: c.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	m.init()
	return m
}

// tickAll runs one round of every manager, checking after each tick that
// no partition has two owners.
func (c *cluster) tickAll(ms ...*Manager) {
	c.t.Helper()
	for _, m := range ms {
		m.Tick(context.Background())
		c.checkExclusive(ms...)
	}
}

func (c *cluster) checkExclusive(ms ...*Manager) {
	c.t.Helper()
	for p := range testPartitions {
		var owners []string
		for _, m := range ms {
			if m.OwnsPartition(p) {
				owners = append(owners, m.Instance)
			}
		}
		if len(owners) > 1 {
			c.t.Fatalf("partition %d owned by %v at once", p, owners)
		}
	}
}

// owners returns how many partitions each manager owns, and how many have
// no owner at all.
func owners(ms ...*Manager) (counts []int, unowned int) {
	counts = make([]int, len(ms))
	for p := range testPartitions {
		found := false
		for i, m := range ms {
			if m.OwnsPartition(p) {
				counts[i]++
				found = true
			}
		}
		if !found {
			unowned++
		}
	}
	return counts, unowned
}

func TestFairShareAcrossInstances(t *testing.T) {
	c := newCluster(t)
	a, b, x := c.manager("a", nil), c.manager("b", nil), c.manager("c", nil)
	c.tickAll(a)
	if got, _ := owners(a); got[0] != testPartitions {
		t.Fatalf("alone, a owns %d partitions, want all %d", got[0], testPartitions)
	}
	for range 4 { // a hands back in two rounds: drain, then release
		c.tickAll(b, a, x)
		c.clock.Advance(time.Second)
	}
	counts, unowned := owners(a, b, x)
	if unowned != 0 || counts[0] != 4 || counts[1] != 4 || counts[2] != 4 {
		t.Fatalf("three instances own %v with %d unowned; want 4 each", counts, unowned)
	}
	// Renewals keep the shares: a whole TTL later nothing moved.
	for range 6 {
		c.clock.Advance(time.Second)
		c.tickAll(a, b, x)
	}
	if counts, unowned := owners(a, b, x); unowned != 0 || counts[0] != 4 || counts[1] != 4 || counts[2] != 4 {
		t.Fatalf("after renewals: %v with %d unowned; want 4 each", counts, unowned)
	}
	if !a.Owns(webhookIn(t, a)) {
		t.Fatal("Owns disagrees with OwnsPartition")
	}
}

// webhookIn returns a webhook ID whose partition m owns.
func webhookIn(t *testing.T, m *Manager) string {
	for i := range 10000 {
		id := "wh_" + time.Duration(i).String()
		if m.OwnsPartition(domain.PartitionOf(id, testPartitions)) {
			return id
		}
	}
	t.Fatal("the manager owns no partition")
	return ""
}

// A stopped owner (SIGSTOP, a long GC pause, a partition from the store)
// stops sending on its own clock before anyone may take over, and finds
// its leases gone when it wakes.
func TestTakeOverAfterExpiry(t *testing.T) {
	c := newCluster(t)
	a, b := c.manager("a", nil), c.manager("b", nil)
	for range 3 {
		c.tickAll(a, b)
	}
	if counts, _ := owners(a, b); counts[0] != 6 || counts[1] != 6 {
		t.Fatalf("shares %v, want 6 each", counts)
	}
	// a stops; b goes on ticking every TTL/3.
	var aStoppedSending, bOwnsAll time.Duration
	for elapsed := time.Duration(0); elapsed < 3*testTTL; elapsed += testTTL / 6 {
		c.clock.Advance(testTTL / 6)
		c.tickAll(b)
		c.checkExclusive(a, b)
		if aStoppedSending == 0 && a.Owned() == 0 {
			aStoppedSending = elapsed + testTTL/6
		}
		if counts, _ := owners(b); bOwnsAll == 0 && counts[0] == testPartitions {
			bOwnsAll = elapsed + testTTL/6
		}
	}
	t.Logf("a stopped sending after %s; b owned everything after %s", aStoppedSending, bOwnsAll)
	if aStoppedSending == 0 || bOwnsAll == 0 || bOwnsAll <= aStoppedSending {
		t.Fatalf("a stopped sending at %s, b took everything at %s: want both, a first", aStoppedSending, bOwnsAll)
	}
	c.tickAll(a) // a wakes
	if a.Owned() != 0 {
		t.Fatalf("woken a owns %d partitions that b took over", a.Owned())
	}
	for range 3 {
		c.clock.Advance(time.Second)
		c.tickAll(a, b)
	}
	if counts, unowned := owners(a, b); counts[0] != 6 || counts[1] != 6 || unowned != 0 {
		t.Fatalf("after a rejoined: %v with %d unowned, want 6 each", counts, unowned)
	}
}

// A graceful stop releases the leases, so the others take them over at
// their next tick without waiting for the TTL.
func TestLeaveReleasesAtOnce(t *testing.T) {
	c := newCluster(t)
	a, b := c.manager("a", nil), c.manager("b", nil)
	for range 3 {
		c.tickAll(a, b)
	}
	a.leave()
	if a.Owned() != 0 {
		t.Fatalf("a owns %d after leaving", a.Owned())
	}
	c.tickAll(b) // no clock advance at all
	if counts, _ := owners(b); counts[0] != testPartitions {
		t.Fatalf("b owns %d right after a left, want all %d", counts[0], testPartitions)
	}
}

// An instance whose projections stop following the log gives its leases
// up and dispatches nothing until it is healthy again.
func TestUnhealthyGivesUp(t *testing.T) {
	c := newCluster(t)
	a, b := c.manager("a", nil), c.manager("b", nil)
	var mu sync.Mutex
	var down error
	a.Healthy = func() error { mu.Lock(); defer mu.Unlock(); return down }
	for range 3 {
		c.tickAll(a, b)
	}
	id := webhookIn(t, a)
	mu.Lock()
	down = errors.New("store subscription dropped")
	mu.Unlock()
	if a.Owns(id) {
		t.Fatal("an unhealthy instance still owns its partitions")
	}
	c.tickAll(a, b)
	if counts, _ := owners(b); counts[0] != testPartitions {
		t.Fatalf("b owns %d after a went unhealthy, want all %d", counts[0], testPartitions)
	}
	mu.Lock()
	down = nil
	mu.Unlock()
	for range 3 {
		c.clock.Advance(time.Second)
		c.tickAll(a, b)
	}
	if counts, _ := owners(a, b); counts[0] != 6 || counts[1] != 6 {
		t.Fatalf("after recovery: %v, want 6 each", counts)
	}
}

// An instance cut off from the store stops sending when its local
// deadline passes, even without a tick, and reports not ready at its next
// tick; once the store is back it renews the leases nobody took.
func TestStoreUnreachable(t *testing.T) {
	c := newCluster(t)
	fs := faultstore.Wrap(c.store)
	a := c.manager("a", fs)
	c.tickAll(a)
	fs.FailAppends(errors.New("connection refused"))
	fs.FailReads(errors.New("connection refused"))
	c.clock.Advance(testTTL - a.Margin)
	if a.Owned() != 0 {
		t.Fatalf("owns %d after the local deadline without a renewal, want none", a.Owned())
	}
	a.Tick(context.Background())
	if err := a.Ready(context.Background()); err == nil {
		t.Fatal("ready while the store is unreachable")
	}
	fs.Heal()
	a.Tick(context.Background())
	if err := a.Ready(context.Background()); err != nil || a.Owned() != testPartitions {
		t.Fatalf("after healing: ready %v, owns %d; want ready and all", err, a.Owned())
	}
}

// A lease stream whose every event retention removed still works: its
// revision lives on, and the lease reads as free.
func TestLeaseStreamSweptByRetention(t *testing.T) {
	c := newCluster(t)
	a := c.manager("a", nil)
	c.tickAll(a)
	a.leave()
	if err := c.store.SetMaxAge(context.Background(), domain.LeaseStreamCategory, time.Minute); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(2 * time.Minute)
	if _, err := c.store.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := c.manager("b", nil)
	for range 2 {
		c.tickAll(b)
	}
	if b.Owned() != testPartitions {
		t.Fatalf("b owns %d of the swept leases, want all %d", b.Owned(), testPartitions)
	}
}
