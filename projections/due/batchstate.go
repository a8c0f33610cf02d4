package due

import (
	"maps"
	"slices"

	bbolt "go.etcd.io/bbolt"
)

// batchState is what one runner batch keeps in memory of the due index.
// The per-webhook counters it changed, the due counts and health, are each
// a read-modify-write of one key made for every owed attempt filed or
// finished and for every attempt, so the batch adds them up and writes
// each webhook's once, at its flush. It also remembers which webhooks are
// ordered (read for every owed attempt filed or finished) and whether the
// order index was checked for an upgrade. A nil *batchState writes
// through and remembers nothing (a prune, a test).
type batchState struct {
	counts       map[string]DueCount
	health       map[string]Health
	ordered      map[string]bool // webhook -> filed in the order index, as read or set in this batch
	orderChecked bool            // backfillOrder has run in this batch
	// firsts are the first attempts the current run of messages filed,
	// written at its end (firsts.go); firstAt finds a delivery's.
	firsts  []firstEntry
	firstAt map[string]int
}

func (t *batchState) reset() {
	if t != nil {
		t.counts, t.health, t.ordered, t.orderChecked = map[string]DueCount{}, map[string]Health{}, map[string]bool{}, false
		if t.firstAt == nil {
			t.firstAt = map[string]int{}
		}
		t.dropFirsts()
	}
}

// count is the webhook's due count as this batch left it, if it touched it.
func (t *batchState) count(webhookID string) (DueCount, bool) {
	if t == nil || t.counts == nil {
		return DueCount{}, false
	}
	c, ok := t.counts[webhookID]
	return c, ok
}

// healthOf is the webhook's health as this batch left it, if it touched it.
func (t *batchState) healthOf(webhookID string) (Health, bool) {
	if t == nil || t.health == nil {
		return Health{}, false
	}
	h, ok := t.health[webhookID]
	return h, ok
}

// flush writes the batch's counts and health, in key order (bbolt appends
// sorted puts to a node rather than shifting it), and starts over.
func (t *batchState) flush(tx *bbolt.Tx) error {
	if t == nil {
		return nil
	}
	if err := flushFirsts(tx, t); err != nil {
		return err
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
