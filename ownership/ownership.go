// Package ownership shares dispatch among instances on one event store.
// Webhooks fall into a fixed number of partitions (domain.PartitionOf); an
// instance dispatches a webhook only while it holds the lease of the
// webhook's partition. Leases are aggregates in the store itself
// (domain/lease.go), acquired, renewed and released through
// aggregate.Handle at the expected revision, so the store is the only
// arbiter and the scheme works on every backend that passes the
// conformance suite. Live instances announce themselves with heartbeats
// in one stream; each tries to own its fair share, ⌈P/N⌉.
//
// Owns is the one ownership check: the dispatcher asks it before looking
// at a lane and again right before sending.
package ownership

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// Defaults for a manager whose fields are left zero.
const (
	DefaultPartitions = 64
	DefaultTTL        = 10 * time.Second
)

// retention is how long lease and heartbeat events are kept: only the
// last one of each stream matters, and a start-up reads what is left.
const retention = 10 * time.Minute

// Manager acquires, renews and releases this instance's leases.
type Manager struct {
	Store  eventstore.Store
	Codec  *eventstore.Codec
	Logger *slog.Logger
	// Instance identifies this process in leases and heartbeats; a new
	// random one per start (NewInstanceID), so a restarted process never
	// mistakes its predecessor's leases for its own.
	Instance string
	// Partitions is the fixed partition count; every instance of a
	// cluster must use the same.
	Partitions int
	// TTL is a lease's life without renewal. Leases are renewed every
	// TTL/3; another instance takes a lease over only after it has seen it
	// unchanged for a whole TTL on its own clock.
	TTL time.Duration
	// Margin is subtracted from the TTL for the local deadline after which
	// this instance stops sending for a lease it could not renew; it
	// absorbs the time between reading the clock and the append landing.
	Margin time.Duration
	// Now is the clock. It must carry a monotonic reading (time.Now does),
	// so that a process stopped and resumed sees its deadlines passed.
	Now func() time.Time
	// Healthy, when set, says whether this instance may dispatch at all
	// (its read models follow the log). While it fails, Owns is false and
	// the leases are given up so others take over.
	Healthy func() error
	// OnGain hears of partitions this instance just acquired, so the
	// dispatcher loads their lanes from the due index.
	OnGain func(partitions []int)
	// Busy, when set, reports whether attempts of partition p are still in
	// flight here. A partition handed back to rebalance is first drained:
	// Owns turns false at once, the lease is kept (renewed) until Busy
	// says its attempts are recorded, and only then released, so the next
	// owner never sends what this one still has in flight.
	Busy func(partition int) bool

	mu      sync.Mutex
	views   []view
	members domain.Members
	// membersNext is the next revision of the members stream to read;
	// membersRead is false until the first read.
	membersNext uint64
	membersRead bool
	storeErr    error
	storeSince  time.Time
	blocked     string // why dispatch is stopped; "" while it runs
	metrics     *metrics
}

// view is what this instance knows of one partition's lease.
type view struct {
	lease leaseAt
	// observed is the lease as first seen at observedAt (local clock): a
	// lease unchanged for a TTL has an owner that stopped renewing.
	observed   domain.LeaseState
	observedAt time.Time
	// deadline is the local time until which this instance may send for
	// the partition; zero when it does not hold the lease.
	deadline time.Time
	// draining: the lease is held but being handed back; nothing new is
	// sent for the partition.
	draining bool
}

// NewInstanceID returns a random instance ID.
func NewInstanceID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "i-" + hex.EncodeToString(b[:])
}

func (m *Manager) init() {
	if m.Partitions <= 0 {
		m.Partitions = DefaultPartitions
	}
	if m.TTL <= 0 {
		m.TTL = DefaultTTL
	}
	if m.Margin <= 0 || m.Margin >= m.TTL/2 {
		m.Margin = m.TTL / 5
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Instance == "" {
		m.Instance = NewInstanceID()
	}
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	if m.views == nil {
		m.views = make([]view, m.Partitions)
		m.members = domain.Members{}
	}
}

// Owns reports whether this instance may dispatch for the webhook now: it
// holds the lease of the webhook's partition, its local deadline has not
// passed, and it is healthy. This is the one ownership check; every path
// that starts an attempt asks it.
func (m *Manager) Owns(webhookID string) bool {
	return m.OwnsPartition(domain.PartitionOf(webhookID, m.Partitions))
}

// OwnsPartition is Owns for a partition.
func (m *Manager) OwnsPartition(p int) bool {
	m.mu.Lock()
	ok := p >= 0 && p < len(m.views) && m.Now().Before(m.views[p].deadline) && !m.views[p].draining
	m.mu.Unlock()
	return ok && (m.Healthy == nil || m.Healthy() == nil)
}

// Owned returns how many partitions this instance holds now.
func (m *Manager) Owned() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, n := m.Now(), 0
	for _, v := range m.views {
		if now.Before(v.deadline) {
			n++
		}
	}
	return n
}

// Members returns how many dispatching instances this one counts, itself
// included.
func (m *Manager) Members() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.members.Live(m.Instance, m.Now())
}

// Ready reports an error while the lease store is unreachable: the
// instance then renews nothing and soon sends nothing.
func (m *Manager) Ready(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.storeErr != nil {
		return fmt.Errorf("lease store unreachable since %s: %w", m.storeSince.UTC().Format(time.RFC3339), m.storeErr)
	}
	return nil
}

// Run keeps the leases until ctx ends, then releases them and leaves the
// membership, so other instances take over at once. The caller cancels
// ctx only after the dispatcher has finished its attempts in flight.
func (m *Manager) Run(ctx context.Context) error {
	m.init()
	m.Logger.Info("ownership started", "instance", m.Instance, "partitions", m.Partitions, "lease_ttl", m.TTL)
	for _, cat := range []string{domain.LeaseStreamCategory, domain.MembersStream} {
		if err := m.Store.SetMaxAge(ctx, cat, retention); err != nil && ctx.Err() == nil {
			m.Logger.Warn("ownership: set retention", "category", cat, "err", err)
		}
	}
	interval := m.TTL / 3
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			m.leave()
			return nil
		case <-timer.C:
		}
		// A tick must not outlast the leases it renews (a store that
		// stopped answering without closing the connection).
		tickCtx, cancel := context.WithTimeout(ctx, m.TTL/2)
		m.Tick(tickCtx)
		cancel()
		timer.Reset(interval)
	}
}

// Stop releases every held lease and leaves the membership, as Run does
// when its context ends; for callers that tick by hand.
func (m *Manager) Stop() {
	m.init()
	m.leave()
}

// leave releases every held lease and announces the departure, with a
// context of its own: the run's has ended.
func (m *Manager) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	released := 0
	for p := range m.views {
		if m.release(ctx, p) {
			released++
		}
	}
	if _, err := m.appendMember(ctx, domain.MemberLeft{Instance: m.Instance, At: m.Now().UTC()}); err != nil {
		m.Logger.Warn("ownership: announce leaving", "err", err)
	}
	m.Logger.Info("ownership stopped; leases released", "instance", m.Instance, "released", released)
}

// setStoreErr records whether the last store call of a tick failed.
func (m *Manager) setStoreErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err != nil && m.storeErr == nil:
		m.storeErr, m.storeSince = err, m.Now()
		m.Logger.Error("ownership: lease store unreachable; dispatch stops when the leases lapse", "err", err)
	case err == nil && m.storeErr != nil:
		m.storeErr = nil
		m.Logger.Info("ownership: lease store reachable again", "down_for", m.Now().Sub(m.storeSince).Round(time.Millisecond))
	}
}

// setBlocked logs and reports changes of the reason dispatch is stopped.
func (m *Manager) setBlocked(reason string) {
	m.mu.Lock()
	prev := m.blocked
	m.blocked = reason
	m.mu.Unlock()
	if prev == reason {
		return
	}
	m.metrics.blocked(prev, reason)
	if reason != "" {
		m.Logger.Warn("dispatch stopped", "instance", m.Instance, "reason", reason)
	} else {
		m.Logger.Info("dispatch resumed", "instance", m.Instance)
	}
}
