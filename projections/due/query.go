package due

import (
	"bytes"
	"encoding/binary"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"time"
	"unsafe"

	bbolt "go.etcd.io/bbolt"
)

// DueWebhooks returns every webhook that has owed attempts, so a starting
// dispatcher knows which lanes to open. It skips from one webhook's prefix
// to the next rather than reading every entry.
func DueWebhooks(db *bbolt.DB) ([]string, error) {
	var ids []string
	err := db.View(func(tx *bbolt.Tx) error {
		ids = webhookPrefixes(tx.Bucket(bucketDue))
		return nil
	})
	return ids, err
}

// webhookPrefixes lists the webhooks of a bucket keyed "webhookID 0 ...",
// seeking from one webhook's keys to the next rather than reading them all.
func webhookPrefixes(b *bbolt.Bucket) []string {
	var ids []string
	c := b.Cursor()
	for k, _ := c.First(); k != nil; {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			k, _ = c.Next()
			continue
		}
		ids = append(ids, string(k[:i]))
		k, _ = c.Seek(append(append([]byte{}, k[:i]...), 1)) // just past "id\x00..."
	}
	return ids
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
			rawID := k[len(prefix)+8:]
			// A lane's entries in flight, or recorded and not yet applied,
			// lead its range, and every call walks past them: skip sees
			// the key's ID without a copy (it must not keep it).
			if skip != nil && len(rawID) > 0 && skip(unsafe.String(&rawID[0], len(rawID))) {
				continue
			}
			if at.After(now) || len(entries) >= limit {
				next = at
				return nil
			}
			var e DueEntry
			if err := jsoncodec.Unmarshal(v, &e); err != nil {
				return err
			}
			e.DueAt = at
			entries = append(entries, e)
		}
		return nil
	})
	return entries, next, err
}

// CountDue returns how many attempts are owed, in all.
func CountDue(db *bbolt.DB) (int, error) {
	counts, err := DueCounts(db)
	n := int64(0)
	for _, c := range counts {
		n += c.Pending + c.Retries
	}
	return int(n), err
}

// WebhookHealth returns since when deliveries to a webhook have all been
// failing.
func WebhookHealth(db *bbolt.DB, webhookID string) (Health, error) {
	var h Health
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		h, err = decodeHealth(tx.Bucket(bucketHealth).Get([]byte(webhookID)))
		return err
	})
	return h, err
}

// DueCount is how many attempts a webhook is owed: first attempts and
// retries (including redeliveries).
type DueCount struct {
	Pending, Retries int64
}

func decodeDueCount(v []byte) DueCount {
	if len(v) != 16 {
		return DueCount{}
	}
	return DueCount{Pending: int64(binary.BigEndian.Uint64(v)), Retries: int64(binary.BigEndian.Uint64(v[8:]))}
}

// DueCounts returns the owed attempts of every webhook that has any.
func DueCounts(db *bbolt.DB) (map[string]DueCount, error) {
	out := map[string]DueCount{}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDueCounts).ForEach(func(k, v []byte) error {
			out[string(k)] = decodeDueCount(v)
			return nil
		})
	})
	return out, err
}
