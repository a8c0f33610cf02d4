// Package history is the audit trail of webhook and account streams, with
// secrets redacted. Delivery and message history are read from the store.
package history

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/internal/cursor"
)

var bucketHistory = []byte("history") // stream 0 position -> HistoryEntry JSON

// History indexes every event by the stream it belongs to, so the audit
// trail of any subject pages in order without touching the store. Secret
// material is redacted on the way in: the history is shown to account
// holders and auditors, who must not read signing secrets from it.
type History struct{}

// HistoryEntry is one event of a subject's history.
type HistoryEntry struct {
	Type     string              `json:"type"`
	Stream   string              `json:"stream"`
	Revision uint64              `json:"revision"`
	Position eventstore.Position `json:"position"`
	Time     time.Time           `json:"time"`
	Data     json.RawMessage     `json:"data"`
}

// Name implements Projection.
func (History) Name() string { return "history" }

// Buckets implements Projection.
func (History) Buckets() []string { return []string{string(bucketHistory)} }

// Apply implements Projection. Only webhook and account streams are kept:
// deliveries and messages hold no secrets and are paged from the store
// directly (app.History), so the read model does not copy every one.
func (History) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, _ eventstore.Event) ([]projections.Change, error) {
	if _, ok := domain.WebhookIDFromStream(rec.Stream); !ok {
		if _, ok := domain.AccountIDFromStream(rec.Stream); !ok {
			return nil, nil
		}
	}
	raw, err := json.Marshal(HistoryEntry{
		Type: rec.Type, Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position,
		Time: rec.Time, Data: redactSecrets(rec.Data),
	})
	if err != nil {
		return nil, err
	}
	return nil, tx.Bucket(bucketHistory).Put(historyKey(rec.Stream, rec.Position), raw)
}

func historyKey(stream string, pos eventstore.Position) []byte {
	k := append([]byte(stream), 0)
	return binary.BigEndian.AppendUint64(k, uint64(pos))
}

// secretFields are JSON fields whose values never leave the log through the
// history.
var secretFields = map[string]bool{"secret": true, "previousSecret": true, "secretHash": true}

func redactSecrets(data []byte) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return json.RawMessage(data)
	}
	changed := false
	for k := range obj {
		if secretFields[k] {
			obj[k] = json.RawMessage(`"[redacted]"`)
			changed = true
		}
	}
	if !changed {
		return json.RawMessage(data)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return out
}

// HistoryPage is one page of a subject's history, oldest first.
type HistoryPage struct {
	Entries     []HistoryEntry
	Cursors     []string
	HasNextPage bool
}

// ReadHistory pages through the events of stream, oldest first.
func ReadHistory(db *bbolt.DB, stream string, first int, after string) (HistoryPage, error) {
	var page HistoryPage
	afterKey, err := cursor.Decode(after)
	if err != nil {
		return page, err
	}
	prefix := append([]byte(stream), 0)
	err = db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		k, v := c.Seek(prefix)
		if afterKey != nil {
			k, v = c.Seek(append(append([]byte{}, prefix...), afterKey...))
			if k != nil && bytes.Equal(k[len(prefix):], afterKey) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(page.Entries) == first {
				page.HasNextPage = true
				break
			}
			var e HistoryEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			page.Entries = append(page.Entries, e)
			page.Cursors = append(page.Cursors, cursor.Encode(k[len(prefix):]))
		}
		return nil
	})
	return page, err
}
