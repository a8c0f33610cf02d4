// Package webhooks is the read model of webhooks: each one's state as the
// domain folds it, listed per account newest first. It also keeps
// projections/fanout's subscriptions index.
package webhooks

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/fanout"
	"github.com/webhookd/webhookd/projections/internal/cursor"
)

var (
	bucketWebhooks          = []byte("webhooks")            // id -> WebhookState JSON
	bucketWebhooksByAccount = []byte("webhooks_by_account") // account 0 ^createdPos id -> nil
)

// TopicWebhook is the Change topic of webhook read-model updates.
const TopicWebhook = "webhook"

// Webhooks is the webhook detail and by-account listing projection. The
// detail is the aggregate state folded by the domain's own EvolveWebhook, so
// the read model can never disagree with what commands decide on.
type Webhooks struct{}

// Name implements Projection.
func (Webhooks) Name() string { return "webhooks" }

// Buckets implements Projection.
func (Webhooks) Buckets() []string {
	return []string{string(bucketWebhooks), string(bucketWebhooksByAccount), string(fanout.Bucket)}
}

// WebhookView is a webhook as the read model holds it.
type WebhookView struct {
	domain.WebhookState
	// CreatedPosition orders the listing (newest first) and forms cursors.
	CreatedPosition eventstore.Position
	// Revision is the stream revision of the last event folded in.
	Revision uint64
}

// Apply implements Projection.
func (Webhooks) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	id, ok := domain.WebhookIDFromStream(rec.Stream)
	if !ok || ev == nil {
		return nil, nil
	}
	b := tx.Bucket(bucketWebhooks)
	var view WebhookView
	if raw := b.Get([]byte(id)); raw != nil {
		if err := jsoncodec.Unmarshal(raw, &view); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", id, err)
		}
	} else {
		view.CreatedPosition = rec.Position
	}
	before := view.WebhookState
	view.WebhookState = domain.EvolveWebhook(view.WebhookState, ev)
	if err := fanout.UpdateSubscriptions(tx, before, view.WebhookState); err != nil {
		return nil, err
	}
	view.Revision = rec.Revision
	raw, err := jsoncodec.Marshal(view)
	if err != nil {
		return nil, err
	}
	if err := b.Put([]byte(id), raw); err != nil {
		return nil, err
	}
	idx := tx.Bucket(bucketWebhooksByAccount)
	key := listingKey(view.AccountID, view.CreatedPosition, id)
	if view.Exists() {
		err = idx.Put(key, nil)
	} else {
		err = idx.Delete(key)
	}
	if err != nil {
		return nil, err
	}
	return []projections.Change{{Topic: TopicWebhook, Account: view.AccountID, ID: id, Position: rec.Position}}, nil
}

// listingKey sorts an account's webhooks newest first: the creation position
// is stored inverted.
func listingKey(account string, created eventstore.Position, id string) []byte {
	k := make([]byte, 0, len(account)+1+8+len(id))
	k = append(k, account...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, ^uint64(created))
	return append(k, id...)
}

// GetWebhook returns the account's webhook id. A webhook of another account,
// a deleted one and a missing one are all simply not found.
func GetWebhook(db *bbolt.DB, account, id string) (WebhookView, bool, error) {
	var view WebhookView
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		view, found, err = getWebhookTx(tx, id)
		return err
	})
	if err != nil || !found || view.AccountID != account || !view.Exists() {
		return WebhookView{}, false, err
	}
	return view, true, nil
}

// GetWebhookAnyAccount returns webhook id whatever its account, for
// internal work (delivery, verification) that is not on a caller's behalf.
func GetWebhookAnyAccount(db *bbolt.DB, id string) (WebhookView, bool, error) {
	var view WebhookView
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		view, found, err = getWebhookTx(tx, id)
		return err
	})
	return view, found && view.Exists(), err
}

func getWebhookTx(tx *bbolt.Tx, id string) (WebhookView, bool, error) {
	b := tx.Bucket(bucketWebhooks)
	if b == nil {
		return WebhookView{}, false, nil
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return WebhookView{}, false, nil
	}
	var view WebhookView
	if err := jsoncodec.Unmarshal(raw, &view); err != nil {
		return WebhookView{}, false, fmt.Errorf("read model: webhook %s: %w", id, err)
	}
	return view, true, nil
}

// WebhookFilter narrows a listing. Status "unverified" selects webhooks
// whose URL ownership is not proven yet.
type WebhookFilter struct {
	Status    string // "", "unverified", or a domain.WebhookStatus
	EventType string
}

func (f WebhookFilter) match(v WebhookView) bool {
	if f.EventType != "" && !v.SubscribesTo(f.EventType) {
		return false
	}
	switch f.Status {
	case "":
		return true
	case "unverified":
		return v.Verification.Status != domain.VerificationVerified
	case string(domain.WebhookStatusActive):
		return v.Status == domain.WebhookStatusActive && v.Verification.Status == domain.VerificationVerified
	default:
		return string(v.Status) == f.Status
	}
}

// WebhookPage is one page of a listing.
type WebhookPage struct {
	Webhooks    []WebhookView
	Cursors     []string
	HasNextPage bool
	TotalCount  int
}

// ListWebhooks pages through an account's webhooks, newest first. after is
// a cursor from a previous page ("" for the first page).
func ListWebhooks(db *bbolt.DB, account string, f WebhookFilter, first int, after string) (WebhookPage, error) {
	var page WebhookPage
	prefix := append([]byte(account), 0)
	afterKey, err := cursor.Decode(after)
	if err != nil {
		return page, err
	}
	err = db.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketWebhooksByAccount)
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			view, ok, err := getWebhookTx(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if !ok || !f.match(view) {
				continue
			}
			page.TotalCount++
			suffix := k[len(prefix):]
			if afterKey != nil && bytes.Compare(suffix, afterKey) <= 0 {
				continue
			}
			if len(page.Webhooks) == first {
				page.HasNextPage = true
				continue
			}
			page.Webhooks = append(page.Webhooks, view)
			page.Cursors = append(page.Cursors, cursor.Encode(suffix))
		}
		return nil
	})
	return page, err
}
