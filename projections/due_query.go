package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// DueWebhooks returns every webhook that has owed attempts, so a starting
// dispatcher knows which lanes to open. It skips from one webhook's prefix
// to the next rather than reading every entry.
func DueWebhooks(db *bbolt.DB) ([]string, error) {
	var ids []string
	err := db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				k, _ = c.Next()
				continue
			}
			ids = append(ids, string(k[:i]))
			next := append(append([]byte{}, k[:i]...), 1) // just past "id\x00..."
			k, _ = c.Seek(next)
		}
		return nil
	})
	return ids, err
}

// DueFor returns up to limit of the webhook's entries due at or before now,
// oldest first, leaving out those skip reports (attempts already in
// flight). next is the due time of the first entry not returned (zero when
// there is none), so the caller knows when to look again.
func DueFor(db *bbolt.DB, webhookID string, now time.Time, limit int, skip func(deliveryID string) bool) (entries []DueEntry, next time.Time, err error) {
	prefix := append([]byte(webhookID), 0)
	err = db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) < len(prefix)+8 {
				continue
			}
			at := time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):]))).UTC()
			id := string(k[len(prefix)+8:])
			if skip != nil && skip(id) {
				continue
			}
			if at.After(now) || len(entries) >= limit {
				next = at
				return nil
			}
			var e DueEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			e.DueAt = at
			entries = append(entries, e)
		}
		return nil
	})
	return entries, next, err
}

// CountDue returns how many attempts are owed, in all; for metrics.
func CountDue(db *bbolt.DB) (int, error) {
	var n int
	err := db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketDueByDelivery).Stats().KeyN
		return nil
	})
	return n, err
}

// WebhookHealth returns since when deliveries to a webhook have all been
// failing.
func WebhookHealth(db *bbolt.DB, webhookID string) (Health, error) {
	var h Health
	err := db.View(func(tx *bbolt.Tx) error {
		if raw := tx.Bucket(bucketHealth).Get([]byte(webhookID)); raw != nil {
			return json.Unmarshal(raw, &h)
		}
		return nil
	})
	return h, err
}
