package ownership

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// leaseAt is a lease's state with where the stream stood when it was read,
// for reading only the tail next time.
type leaseAt struct {
	domain.LeaseState
	version  uint64
	position eventstore.Position
}

// Tick does one round: a heartbeat, then for every partition a read of the
// lease's new events and one decision (renew, acquire, take over, release
// or nothing) towards this instance's fair share. Run calls it every TTL/3;
// tests call it directly with their own clock.
func (m *Manager) Tick(ctx context.Context) {
	m.init()
	if m.Healthy != nil {
		if err := m.Healthy(); err != nil {
			m.giveUp(ctx, err.Error())
			return
		}
	}
	if err := m.heartbeat(ctx); err != nil {
		m.setStoreErr(err)
		m.dropAll() // the store would refuse the attempts' records too
		m.setBlocked("lease store unreachable: " + err.Error())
		return
	}
	target := domain.FairShare(m.Partitions, m.Members())
	owned := m.Owned()
	var gained []int
	var storeErr error
	start := offset(m.Instance, m.Partitions)
	for i := range m.Partitions {
		p := (start + i) % m.Partitions
		got, err := m.step(ctx, p, &owned, target)
		if err != nil {
			storeErr = err
		}
		if got {
			gained = append(gained, p)
		}
	}
	m.setStoreErr(storeErr)
	m.setBlocked("")
	if len(gained) > 0 {
		m.Logger.Info("ownership: partitions acquired", "instance", m.Instance, "partitions", gained, "owned", m.Owned(), "target", target)
		if m.OnGain != nil {
			m.OnGain(gained)
		}
	}
}

// giveUp stops dispatch for reason: the first time, it also releases the
// leases and leaves the membership, so the others take over at once.
func (m *Manager) giveUp(ctx context.Context, reason string) {
	m.mu.Lock()
	first := m.blocked == ""
	m.mu.Unlock()
	m.dropAll()
	m.setBlocked(reason)
	if !first {
		return
	}
	for p := range m.views {
		m.release(ctx, p)
	}
	if _, err := m.appendMember(ctx, domain.MemberLeft{Instance: m.Instance, At: m.Now().UTC()}); err != nil {
		m.Logger.Warn("ownership: announce leaving", "err", err)
	}
}

// dropAll stops sending for every partition at once, keeping what is known
// of the leases: one still held in the store is renewed at the next tick.
func (m *Manager) dropAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.views {
		m.views[p].deadline = time.Time{}
	}
}

// offset spreads where instances start looking for free partitions, so
// newcomers do not all race for the same ones.
func offset(instance string, partitions int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(instance))
	return int(h.Sum32() % uint32(partitions))
}

// step reads partition p's lease and decides on it; owned counts the
// leases this instance holds and moves with each acquisition or release.
// It reports whether the lease was newly acquired.
func (m *Manager) step(ctx context.Context, p int, owned *int, target int) (bool, error) {
	m.mu.Lock()
	v := m.views[p]
	handingBack := 0 // other partitions already being drained away
	for i, o := range m.views {
		if i != p && o.draining {
			handingBack++
		}
	}
	m.mu.Unlock()
	sentAt := m.Now()
	wasMine := sentAt.Before(v.deadline)
	var decided string
	decide := func(s leaseAt) ([]eventstore.Event, error) {
		decided = ""
		now := m.Now()
		if s.LeaseState != v.observed || v.observedAt.IsZero() {
			v.observed, v.observedAt = s.LeaseState, now
		}
		var cmd any
		switch mine := s.Owner == m.Instance; {
		case mine && !v.draining && *owned-handingBack > target,
			mine && v.draining && m.Busy != nil && m.Busy(p):
			// Hand back in two steps: stop sending, keep the lease while the
			// partition's attempts in flight are recorded, then release.
			v.draining = true
			cmd, decided = domain.RenewLease{Owner: m.Instance, Term: s.Term, TTL: m.TTL}, "renewed"
		case mine && v.draining:
			cmd, decided = domain.ReleaseLease{Owner: m.Instance, Term: s.Term}, "released"
		case mine:
			cmd, decided = domain.RenewLease{Owner: m.Instance, Term: s.Term, TTL: m.TTL}, "renewed"
		case *owned >= target:
			return nil, nil
		case s.Owner == "":
			cmd, decided = domain.AcquireLease{Partition: p, Owner: m.Instance, TTL: m.TTL}, "acquired"
		case now.Sub(v.observedAt) >= m.TTL && s.Free(now):
			// Unchanged for a whole TTL on our own clock: its owner
			// stopped renewing, whatever the clocks of the two disagree on.
			cmd, decided = domain.AcquireLease{Partition: p, Owner: m.Instance, TTL: m.TTL}, "taken over"
		default:
			return nil, nil
		}
		events, err := domain.DecideLease(s.LeaseState, cmd, now)
		if domain.ErrorCode(err) == domain.ECONFLICT {
			decided = ""
			return nil, nil // taken by another meanwhile
		}
		return events, err
	}
	state, res, err := aggregate.Handle(ctx, m.Store, m.Codec, domain.LeaseStream(p), evolveAt, decide,
		aggregate.FromSnapshot(v.lease, v.lease.version, v.lease.position), aggregate.Retries(2))
	if err != nil {
		return false, m.recover(p, v, res, err)
	}
	state.version, state.position = res.Version, res.Position
	v.lease = state
	mine := res.Appended() && decided != "released"
	switch {
	case mine:
		v.deadline = sentAt.Add(m.TTL - m.Margin)
	case state.Owner != m.Instance:
		v.deadline = time.Time{} // lost or released: stop at once
		v.draining = false
	}
	if decided == "renewed" && v.draining && *owned-handingBack <= target && !(m.Busy != nil && m.Busy(p)) {
		v.draining = false // no longer in excess: keep it
	}
	if mine && !wasMine {
		*owned++
	}
	if wasMine && !sentAt.Before(v.deadline) {
		*owned--
	}
	if decided == "taken over" && res.Appended() {
		m.Logger.Info("ownership: lease taken over after expiry", "partition", p, "from", v.observed.Owner)
	}
	m.mu.Lock()
	m.views[p] = v
	m.mu.Unlock()
	return mine && !wasMine, nil
}

// recover keeps what a failed step learnt. A lease stream whose every
// event retention removed reads as empty while its revision lives on: the
// lost race names that revision, and the lease (older than the
// retention, so long expired) is read as free from there.
func (m *Manager) recover(p int, v view, res aggregate.Result, err error) error {
	var wrong *eventstore.WrongExpectedVersionError
	if errors.As(err, &wrong) && wrong.ActualExists && res.Version == 0 {
		v.lease = leaseAt{version: wrong.Actual + 1}
		m.mu.Lock()
		m.views[p] = v
		m.mu.Unlock()
		return nil
	}
	if eventstore.IsWrongExpectedVersion(err) {
		return nil // heavy contention; the next tick reads again
	}
	return fmt.Errorf("lease of partition %d: %w", p, err)
}

func evolveAt(s leaseAt, e eventstore.Event) leaseAt {
	s.LeaseState = domain.EvolveLease(s.LeaseState, e)
	return s
}

// release gives up partition p's lease if this instance holds it, and
// reports whether it did.
func (m *Manager) release(ctx context.Context, p int) bool {
	m.mu.Lock()
	v := m.views[p]
	held := v.lease.Owner == m.Instance
	v.deadline = time.Time{} // stop sending first
	m.views[p] = v
	m.mu.Unlock()
	if !held {
		return false
	}
	_, res, err := aggregate.Handle(ctx, m.Store, m.Codec, domain.LeaseStream(p), evolveAt,
		func(s leaseAt) ([]eventstore.Event, error) {
			return domain.DecideLease(s.LeaseState, domain.ReleaseLease{Owner: m.Instance, Term: s.Term}, m.Now())
		}, aggregate.FromSnapshot(v.lease, v.lease.version, v.lease.position))
	if err != nil {
		m.Logger.Warn("ownership: release lease; it lapses after its TTL", "partition", p, "err", err)
		return false
	}
	m.mu.Lock()
	m.views[p].lease = leaseAt{LeaseState: domain.LeaseState{Partition: p, Term: v.lease.Term}, version: res.Version, position: res.Position}
	m.mu.Unlock()
	return res.Appended()
}

// heartbeat announces this instance and reads the others' heartbeats.
func (m *Manager) heartbeat(ctx context.Context) error {
	res, err := m.appendMember(ctx, domain.MemberHeartbeat{Instance: m.Instance, TTLMs: m.TTL.Milliseconds(), At: m.Now().UTC()})
	if err != nil {
		return err
	}
	m.mu.Lock()
	first := !m.membersRead
	if first {
		// Start a window back: heartbeats older than a TTL no longer count.
		m.membersNext = res.NextRevision - min(res.NextRevision, 4096)
	}
	from := m.membersNext
	m.mu.Unlock()
	for {
		recs, err := m.Store.ReadStream(ctx, domain.MembersStream, from, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", domain.MembersStream, err)
		}
		now := m.Now()
		m.mu.Lock()
		for _, r := range recs {
			from = r.Revision + 1
			ev, err := m.Codec.Decode(r)
			if err != nil || (first && now.UTC().Sub(r.Time) >= m.TTL) {
				continue
			}
			m.members.Observe(ev, now)
		}
		m.membersNext, m.membersRead = from, true
		m.mu.Unlock()
		if len(recs) < 1000 {
			break
		}
	}
	return nil
}

func (m *Manager) appendMember(ctx context.Context, e eventstore.Event) (eventstore.AppendResult, error) {
	res, err := aggregate.Append(ctx, m.Store, m.Codec, domain.MembersStream, eventstore.Any, e)
	if err != nil {
		return res, fmt.Errorf("append %s: %w", domain.MembersStream, err)
	}
	return res, nil
}
