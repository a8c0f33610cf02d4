package deliveries

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// bucketDeliveryAttempts holds each delivery's attempt log, one row per
// attempt: id 0 attempt-number -> AttemptView JSON. The log lives beside
// the delivery's summary rather than inside it, so recording an attempt
// writes that attempt once and folding any event decodes and re-encodes
// only the summary, whatever the number of earlier attempts.
var bucketDeliveryAttempts = []byte("delivery_attempts")

// attemptPrefix is the key prefix of delivery id's attempt rows.
func attemptPrefix(id string) []byte {
	return append(append(make([]byte, 0, len(id)+9), id...), 0)
}

func attemptKey(id string, number int) []byte {
	return binary.BigEndian.AppendUint64(attemptPrefix(id), uint64(number))
}

// putAttempts writes a batch's new attempts of delivery id, and deletes
// the row each one pushes out of the newest maxKeptAttempts (attempt
// numbers run on without gaps over the delivery's life).
func putAttempts(tx *bbolt.Tx, id string, log []AttemptView) error {
	b := tx.Bucket(bucketDeliveryAttempts)
	for _, a := range log {
		raw, err := jsoncodec.Marshal(a)
		if err != nil {
			return err
		}
		if err := b.Put(attemptKey(id, a.Number), raw); err != nil {
			return fmt.Errorf("delivery %s: attempt %d: %w", id, a.Number, err)
		}
		if old := a.Number - maxKeptAttempts; old > 0 {
			if err := b.Delete(attemptKey(id, old)); err != nil {
				return fmt.Errorf("delivery %s: attempt %d: %w", id, old, err)
			}
		}
	}
	return nil
}

// readAttempts returns delivery id's attempt log, oldest first.
func readAttempts(tx *bbolt.Tx, id string) ([]AttemptView, error) {
	b := tx.Bucket(bucketDeliveryAttempts)
	if b == nil {
		return nil, nil
	}
	prefix := attemptPrefix(id)
	var log []AttemptView
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var a AttemptView
		if err := jsoncodec.Unmarshal(v, &a); err != nil {
			return nil, fmt.Errorf("read model: delivery %s: attempt: %w", id, err)
		}
		log = append(log, a)
	}
	if n := len(log) - maxKeptAttempts; n > 0 {
		log = log[n:] // rows left behind by a gap in the numbering
	}
	return log, nil
}

// dropAttempts removes every attempt row of delivery id.
func dropAttempts(tx *bbolt.Tx, id string) error {
	prefix := attemptPrefix(id)
	c := tx.Bucket(bucketDeliveryAttempts).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("drop delivery %s attempts: %w", id, err)
		}
	}
	return nil
}
