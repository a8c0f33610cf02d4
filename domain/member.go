package domain

import (
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// MembersStream is the one stream where dispatching instances announce
// themselves. Each instance appends a heartbeat every renewal interval;
// the instances heard from within a lease TTL are the live members that
// share the partitions.
const MembersStream = "members"

// MemberHeartbeat says instance Instance is alive and dispatching. TTLMs
// is how long it counts as alive after this heartbeat without another.
type MemberHeartbeat struct {
	Instance string    `json:"instance"`
	TTLMs    int64     `json:"ttlMs"`
	At       time.Time `json:"at"`
}

// MemberLeft says instance Instance stopped dispatching (a graceful
// shutdown), so the others stop counting it at once.
type MemberLeft struct {
	Instance string    `json:"instance"`
	At       time.Time `json:"at"`
}

// EventType implements eventstore.Event.
func (MemberHeartbeat) EventType() string { return "member.heartbeat.v1" }

// EventType implements eventstore.Event.
func (MemberLeft) EventType() string { return "member.left.v1" }

// Members is the set of live instances as one instance sees it: each
// member with the local time after which it no longer counts.
type Members map[string]time.Time

// Observe folds a membership event seen at local time now into the set.
func (m Members) Observe(e eventstore.Event, now time.Time) {
	switch e := e.(type) {
	case MemberHeartbeat:
		m[e.Instance] = now.Add(time.Duration(e.TTLMs) * time.Millisecond)
	case MemberLeft:
		delete(m, e.Instance)
	}
}

// Live returns how many members count at now, always counting self.
func (m Members) Live(self string, now time.Time) int {
	n := 0
	for id, until := range m {
		if id != self && now.Before(until) {
			n++
		}
	}
	return n + 1
}
