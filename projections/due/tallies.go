package due

import (
	"maps"
	"slices"

	bbolt "go.etcd.io/bbolt"
)

// tallies are what a runner batch changed of the per-webhook counters: the
// due counts and health. Each is a read-modify-write of one key, made for
// every owed attempt filed or finished and for every attempt, so a batch
// adds them up in memory and writes each webhook's once, at its flush. A
// nil *tallies writes through (a prune, a test).
type tallies struct {
	counts map[string]DueCount
	health map[string]Health
}

func (t *tallies) reset() {
	if t != nil {
		t.counts, t.health = map[string]DueCount{}, map[string]Health{}
	}
}

// count is the webhook's due count as this batch left it, if it touched it.
func (t *tallies) count(webhookID string) (DueCount, bool) {
	if t == nil || t.counts == nil {
		return DueCount{}, false
	}
	c, ok := t.counts[webhookID]
	return c, ok
}

// healthOf is the webhook's health as this batch left it, if it touched it.
func (t *tallies) healthOf(webhookID string) (Health, bool) {
	if t == nil || t.health == nil {
		return Health{}, false
	}
	h, ok := t.health[webhookID]
	return h, ok
}

// flush writes the batch's counts and health, in key order (bbolt appends
// sorted puts to a node rather than shifting it), and starts over.
func (t *tallies) flush(tx *bbolt.Tx) error {
	if t == nil {
		return nil
	}
	counts := tx.Bucket(bucketDueCounts)
	for _, id := range slices.Sorted(maps.Keys(t.counts)) {
		if err := putDueCount(counts, id, t.counts[id]); err != nil {
			return err
		}
	}
	health := tx.Bucket(bucketHealth)
	for _, id := range slices.Sorted(maps.Keys(t.health)) {
		if err := health.Put([]byte(id), encodeHealth(t.health[id])); err != nil {
			return err
		}
	}
	t.reset()
	return nil
}
