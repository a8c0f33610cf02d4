package domain

import (
	"hash/fnv"
	"strconv"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// Leases share dispatch among instances on one store. Webhooks fall into a
// fixed number of partitions; an instance dispatches a partition's
// webhooks only while it holds that partition's lease, a small aggregate in
// the stream LeaseStream(partition). Acquiring, renewing and releasing are
// appends at the stream's expected revision, so the store alone decides
// which instance holds a lease: no lock service is needed.

// LeaseStreamCategory is the category of lease streams.
const LeaseStreamCategory = "lease"

// LeaseStream is the stream of one partition's lease.
func LeaseStream(partition int) string {
	return LeaseStreamCategory + "-" + strconv.Itoa(partition)
}

// PartitionOf maps a webhook to its partition by a stable hash (FNV-1a of
// the ID), so every instance and every version agrees on it.
func PartitionOf(webhookID string, partitions int) int {
	if partitions <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(webhookID))
	return int(h.Sum32() % uint32(partitions))
}

// FairShare is how many of partitions one of members instances should
// own: ⌈partitions/members⌉, so the shares always cover every partition.
func FairShare(partitions, members int) int {
	if members <= 1 {
		return partitions
	}
	return (partitions + members - 1) / members
}

// LeaseAcquired starts a term of a partition's lease: Owner holds it until
// ExpiresAt unless it renews. TakenFrom names the previous owner when its
// lease expired rather than being released.
type LeaseAcquired struct {
	Partition int       `json:"partition"`
	Owner     string    `json:"owner"`
	Term      uint64    `json:"term"`
	ExpiresAt time.Time `json:"expiresAt"`
	TakenFrom string    `json:"takenFrom,omitempty"`
	At        time.Time `json:"at"`
}

// LeaseRenewed extends the owner's current term to ExpiresAt.
type LeaseRenewed struct {
	Partition int       `json:"partition"`
	Owner     string    `json:"owner"`
	Term      uint64    `json:"term"`
	ExpiresAt time.Time `json:"expiresAt"`
	At        time.Time `json:"at"`
}

// LeaseReleased ends the owner's term early (a graceful shutdown, or a
// rebalance towards a new instance), so another instance may take the
// partition at once.
type LeaseReleased struct {
	Partition int       `json:"partition"`
	Owner     string    `json:"owner"`
	Term      uint64    `json:"term"`
	At        time.Time `json:"at"`
}

// EventType implements eventstore.Event.
func (LeaseAcquired) EventType() string { return "lease.acquired.v1" }

// EventType implements eventstore.Event.
func (LeaseRenewed) EventType() string { return "lease.renewed.v1" }

// EventType implements eventstore.Event.
func (LeaseReleased) EventType() string { return "lease.released.v1" }

// RegisterLeaseEvents registers the lease and membership events.
func RegisterLeaseEvents(c *eventstore.Codec) {
	c.Register(LeaseAcquired{}, LeaseRenewed{}, LeaseReleased{}, MemberHeartbeat{}, MemberLeft{})
}

// LeaseState is a partition's lease folded from its stream.
type LeaseState struct {
	Partition int
	// Owner holds the lease in term Term; empty when never acquired or
	// released.
	Owner     string
	Term      uint64
	ExpiresAt time.Time
}

// HeldBy reports whether owner holds the lease at now.
func (s LeaseState) HeldBy(owner string, now time.Time) bool {
	return s.Owner == owner && owner != "" && now.Before(s.ExpiresAt)
}

// Free reports whether anyone may acquire the lease at now: it was never
// held, was released, or has expired.
func (s LeaseState) Free(now time.Time) bool {
	return s.Owner == "" || !now.Before(s.ExpiresAt)
}

// EvolveLease folds one lease event into the state. Every event carries
// the whole lease, so the last one alone determines it: a stream whose
// older events retention removed still folds right.
func EvolveLease(s LeaseState, e eventstore.Event) LeaseState {
	switch e := e.(type) {
	case LeaseAcquired:
		return LeaseState{Partition: e.Partition, Owner: e.Owner, Term: e.Term, ExpiresAt: e.ExpiresAt}
	case LeaseRenewed:
		return LeaseState{Partition: e.Partition, Owner: e.Owner, Term: e.Term, ExpiresAt: e.ExpiresAt}
	case LeaseReleased:
		return LeaseState{Partition: e.Partition, Term: e.Term}
	}
	return s
}

// AcquireLease asks for a partition's lease for TTL: granted when the
// lease is free (never held, released or expired), refused with ECONFLICT
// while another instance holds it. Acquiring a lease one already holds
// renews it.
type AcquireLease struct {
	Partition int
	Owner     string
	TTL       time.Duration
}

// RenewLease extends the owner's term by TTL from now. It is refused
// (ECONFLICT) once another instance has acquired the lease: the owner has
// lost it and must stop. A lease that expired without anyone taking it
// over is still the owner's to renew.
type RenewLease struct {
	Owner string
	Term  uint64
	TTL   time.Duration
}

// ReleaseLease gives the lease up; it changes nothing unless the owner
// still holds that term.
type ReleaseLease struct {
	Owner string
	Term  uint64
}

// DecideLease decides a lease command at now.
func DecideLease(s LeaseState, cmd any, now time.Time) ([]eventstore.Event, error) {
	now = now.UTC()
	switch c := cmd.(type) {
	case AcquireLease:
		if c.Owner == "" || c.TTL <= 0 {
			return nil, Errorf(EINVALID, "a lease needs an owner and a positive TTL")
		}
		if s.Owner == c.Owner && s.Term > 0 {
			return DecideLease(s, RenewLease{Owner: c.Owner, Term: s.Term, TTL: c.TTL}, now)
		}
		if !s.Free(now) {
			return nil, Errorf(ECONFLICT, "partition %d is held by %s until %s", c.Partition, s.Owner, s.ExpiresAt.Format(time.RFC3339Nano))
		}
		return []eventstore.Event{LeaseAcquired{Partition: c.Partition, Owner: c.Owner, Term: s.Term + 1,
			ExpiresAt: now.Add(c.TTL), TakenFrom: s.Owner, At: now}}, nil
	case RenewLease:
		if s.Owner != c.Owner || s.Term != c.Term || c.Owner == "" {
			return nil, Errorf(ECONFLICT, "lease of partition %d term %d is no longer held by %s", s.Partition, c.Term, c.Owner)
		}
		return []eventstore.Event{LeaseRenewed{Partition: s.Partition, Owner: c.Owner, Term: c.Term, ExpiresAt: now.Add(c.TTL), At: now}}, nil
	case ReleaseLease:
		if s.Owner != c.Owner || s.Term != c.Term || c.Owner == "" {
			return nil, nil
		}
		return []eventstore.Event{LeaseReleased{Partition: s.Partition, Owner: c.Owner, Term: c.Term, At: now}}, nil
	}
	return nil, Errorf(EINVALID, "unknown lease command %T", cmd)
}
