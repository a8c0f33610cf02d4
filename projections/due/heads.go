package due

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// Line is one line of an ordered webhook: its key and its head, the owed
// delivery that must finish before the next one of the line starts.
type Line struct {
	Key  string
	Head DueEntry
	// Waiting is how many owed deliveries the line holds, the head included.
	Waiting int
}

// DueLines returns the heads of the webhook's lines, in key order, with
// at most limit lines (0: all). perWebhook folds every line into one (the
// oldest head leads), for PER_WEBHOOK ordering. It reads one entry per line
// plus the counts, not the whole backlog, when counting is false.
func DueLines(db *bbolt.DB, webhookID string, perWebhook, counting bool, limit int) ([]Line, error) {
	var lines []Line
	err := db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDueOrder).Cursor()
		prefix := append([]byte(webhookID), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
			line, seq, id, ok := splitOrderKey(k[len(prefix):])
			if !ok {
				return fmt.Errorf("order index: malformed key %q", k)
			}
			lp := linePrefix(webhookID, line)
			head, err := entryOf(tx, id)
			if errors.Is(err, errNoEntry) {
				k, _ = c.Next() // not owed any more; the index never keeps such keys, but a stale one must not block its line
				continue
			}
			if err != nil {
				return err
			}
			head.Seq = seq
			l := Line{Key: line, Head: head}
			if counting {
				for ; k != nil && bytes.HasPrefix(k, lp); k, _ = c.Next() {
					l.Waiting++
				}
			} else {
				k, _ = c.Seek(append(lp, bytes.Repeat([]byte{0xff}, 9)...))
			}
			lines = append(lines, l)
			if limit > 0 && len(lines) >= limit && !perWebhook {
				return nil
			}
		}
		return nil
	})
	if err != nil || !perWebhook || len(lines) < 2 {
		return lines, err
	}
	first := lines[0]
	for _, l := range lines[1:] {
		first.Waiting += l.Waiting
		if l.Head.Seq < first.Head.Seq || l.Head.Seq == first.Head.Seq && l.Head.DeliveryID < first.Head.DeliveryID {
			first.Key, first.Head = l.Key, l.Head
		}
	}
	return []Line{first}, nil
}

func splitOrderKey(k []byte) (line string, seq uint64, deliveryID string, ok bool) {
	if len(k) < 2 {
		return "", 0, "", false
	}
	n := int(binary.BigEndian.Uint16(k))
	if len(k) < 2+n+8 {
		return "", 0, "", false
	}
	return string(k[2 : 2+n]), binary.BigEndian.Uint64(k[2+n:]), string(k[2+n+8:]), true
}

var errNoEntry = errors.New("order index: no due entry")

// entryOf reads a delivery's due entry, with its due time.
func entryOf(tx *bbolt.Tx, deliveryID string) (DueEntry, error) {
	key := tx.Bucket(bucketDueByDelivery).Get([]byte(deliveryID))
	var e DueEntry
	if len(key) < 8 {
		return e, fmt.Errorf("delivery %s: %w", deliveryID, errNoEntry)
	}
	if err := jsoncodec.Unmarshal(tx.Bucket(bucketDue).Get(key), &e); err != nil {
		return e, fmt.Errorf("due entry %s: %w", deliveryID, err)
	}
	at := key[len(key)-len(deliveryID)-8 : len(key)-len(deliveryID)]
	e.DueAt = time.Unix(0, int64(binary.BigEndian.Uint64(at))).UTC()
	return e, nil
}
