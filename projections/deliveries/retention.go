package deliveries

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections"
)

// retentionCategories are the stream categories a delivery is folded
// from: its message's (the fan-out that lists it) and its own.
var retentionCategories = []string{domain.MessageStreamCategory, domain.DeliveryStreamCategory}

var (
	_ projections.Pruner = (*Deliveries)(nil)
	_ projections.Pruner = AttemptStats{}
)

// createdKey orders deliveries by creation time across webhooks, so
// retention finds the expired ones without reading the rest.
func createdKey(v DeliveryView) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(v.ID)), uint64(max(v.CreatedAt.UnixNano(), 0)))
	return append(k, v.ID...)
}

// Prune implements projections.Pruner: it drops every delivery created
// before the younger of the message and delivery cutoffs, with its
// listing entries and its test flag in the stats. A delivery is kept only
// while every event it was folded from is still in the log, so a rebuild
// (which prunes again at its end) yields exactly what the live read model
// holds.
func (*Deliveries) Prune(tx *bbolt.Tx, r projections.Retention, now time.Time, limit int) (int, error) {
	cutoff, ok := r.Cutoff(now, retentionCategories...)
	if !ok {
		return 0, nil
	}
	end := binary.BigEndian.AppendUint64(nil, uint64(max(cutoff.UnixNano(), 0)))
	var victims [][]byte
	c := tx.Bucket(bucketDeliveriesByCreated).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0 && len(victims) < limit; k, _ = c.Next() {
		victims = append(victims, bytes.Clone(k))
	}
	for _, k := range victims {
		if err := dropDelivery(tx, string(k[8:])); err != nil {
			return 0, err
		}
		if err := tx.Bucket(bucketDeliveriesByCreated).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(victims), nil
}

// dropDelivery removes delivery id's detail and index entries.
func dropDelivery(tx *bbolt.Tx, id string) error {
	v, found, err := Summary(tx, id)
	if err != nil || !found {
		return err
	}
	if err := dropAttempts(tx, id); err != nil {
		return err
	}
	steps := []struct {
		b []byte
		k []byte
	}{
		{bucketDeliveriesByWebhook, deliveryKey(v.WebhookID, "", v.CreatedPosition, v.ID)},
		{bucketDeliveriesByStatus, deliveryKey(v.WebhookID, v.Status, v.CreatedPosition, v.ID)},
		{bucketStatsTestDelivery, []byte(id)},
		{bucketDeliveries, []byte(id)},
	}
	for _, s := range steps {
		if err := tx.Bucket(s.b).Delete(s.k); err != nil {
			return fmt.Errorf("drop delivery %s from %s: %w", id, s.b, err)
		}
	}
	return nil
}

// Prune implements projections.Pruner: it drops the minutes that end at
// or before the delivery cutoff (their attempts are gone from the log;
// the minute the cutoff falls in is kept whole), and the owner of a
// webhook left with neither minutes nor deliveries.
func (AttemptStats) Prune(tx *bbolt.Tx, r projections.Retention, now time.Time, limit int) (int, error) {
	cutoff, ok := r.Cutoff(now, domain.DeliveryStreamCategory)
	if !ok {
		return 0, nil
	}
	var victims [][]byte
	var idle []string
	owners, stats := tx.Bucket(bucketStatsOwners), tx.Bucket(bucketStats)
	err := owners.ForEach(func(wh, _ []byte) error {
		prefix := append(bytes.Clone(wh), 0)
		end := statsKey(string(wh), cutoff.Add(-time.Minute))
		c := stats.Cursor()
		k, _ := c.Seek(prefix)
		for ; k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, end) <= 0 && len(victims) < limit; k, _ = c.Next() {
			victims = append(victims, bytes.Clone(k))
		}
		if (k == nil || !bytes.HasPrefix(k, prefix)) && !hasDeliveries(tx, string(wh)) {
			idle = append(idle, string(wh))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range victims {
		if err := stats.Delete(k); err != nil {
			return 0, fmt.Errorf("drop stats minute: %w", err)
		}
	}
	for _, wh := range idle {
		if err := owners.Delete([]byte(wh)); err != nil {
			return 0, fmt.Errorf("drop stats owner %s: %w", wh, err)
		}
	}
	return len(victims), nil
}

func hasDeliveries(tx *bbolt.Tx, webhookID string) bool {
	prefix := deliveryPrefix(webhookID, "")
	k, _ := tx.Bucket(bucketDeliveriesByWebhook).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}
