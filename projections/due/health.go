package due

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// recordHealth notes an attempt's outcome in its webhook's health; test
// deliveries never count towards disabling. It runs once per attempt
// inside the runner's serial stage, so health is kept in 16 bytes rather
// than decoded and encoded as JSON, and within a batch it is kept in t and
// written once (batchState.flush).
func recordHealth(tx *bbolt.Tx, t *batchState, a domain.DeliveryAttempted, test bool) error {
	if test {
		return nil
	}
	b := tx.Bucket(bucketHealth)
	h, ok := t.healthOf(a.WebhookID)
	if !ok {
		var err error
		if h, err = decodeHealth(b.Get([]byte(a.WebhookID))); err != nil {
			return err
		}
	}
	if a.StatusCode >= 200 && a.StatusCode < 300 {
		h = Health{LastSuccessAt: a.At}
	} else if h.FailingSince.IsZero() {
		h.FailingSince = a.At
	}
	if t != nil {
		t.health[a.WebhookID] = h
		return nil
	}
	return b.Put([]byte(a.WebhookID), encodeHealth(h))
}

// isTestEntry reports whether delivery id's due entry is a test send's,
// for attempts recorded before their event carried the flag: it reads
// only the entry's test flag.
func isTestEntry(tx *bbolt.Tx, id string) bool {
	key := tx.Bucket(bucketDueByDelivery).Get([]byte(id))
	return key != nil && isTest(tx.Bucket(bucketDue).Get(key))
}

// isTest reads only the test flag of an encoded DueEntry.
func isTest(raw []byte) bool {
	var e struct {
		Test bool `json:"x"`
	}
	return jsoncodec.Unmarshal(raw, &e) == nil && e.Test
}

// encodeHealth is two big-endian Unix nanosecond times, 0 for none.
func encodeHealth(h Health) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), unixNano(h.LastSuccessAt))
	return binary.BigEndian.AppendUint64(v, unixNano(h.FailingSince))
}

// decodeHealth reads encodeHealth's format and, for values written before
// it, JSON.
func decodeHealth(raw []byte) (Health, error) {
	var h Health
	switch {
	case raw == nil:
		return h, nil
	case bytes.HasPrefix(raw, []byte("{")):
		err := jsoncodec.Unmarshal(raw, &h)
		return h, err
	case len(raw) != 16:
		return h, fmt.Errorf("webhook health: %d bytes", len(raw))
	}
	return Health{LastSuccessAt: fromUnixNano(binary.BigEndian.Uint64(raw)), FailingSince: fromUnixNano(binary.BigEndian.Uint64(raw[8:]))}, nil
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func fromUnixNano(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

// filed reports whether the due index already holds exactly the entry
// delivery.scheduled would file: the fan-out's, under the same key.
func filed(tx *bbolt.Tx, e domain.DeliveryScheduled) bool {
	key := tx.Bucket(bucketDueByDelivery).Get([]byte(e.DeliveryID))
	return key != nil && !e.Test && bytes.Equal(key, dueKey(e.WebhookID, e.ScheduledAt, e.DeliveryID))
}
