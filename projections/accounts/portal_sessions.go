package accounts

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections"
)

var bucketPortalSessions = []byte("portalsessions") // session id -> PortalSession JSON

// PortalSessions projects the accounts' portal sessions by ID, which
// cookie authentication reads on every portal request: one lookup, no
// store read and no decoding of the whole account.
type PortalSessions struct{}

// Name implements projections.Projection.
func (PortalSessions) Name() string { return "portalsessions" }

// Buckets implements projections.Projection.
func (PortalSessions) Buckets() []string { return []string{string(bucketPortalSessions)} }

// Apply implements projections.Projection.
func (PortalSessions) Apply(tx *bbolt.Tx, _ eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	id := domain.PortalSessionID(ev)
	if id == "" {
		return nil, nil
	}
	b := tx.Bucket(bucketPortalSessions)
	var ps domain.PortalSession
	if raw := b.Get([]byte(id)); raw != nil {
		if err := jsoncodec.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("portal session %s: %w", id, err)
		}
	}
	raw, err := jsoncodec.Marshal(domain.EvolvePortalSession(ps, ev))
	if err != nil {
		return nil, fmt.Errorf("portal session %s: %w", id, err)
	}
	return nil, b.Put([]byte(id), raw)
}

// GetPortalSession returns the portal session id.
func GetPortalSession(db *bbolt.DB, id string) (domain.PortalSession, bool, error) {
	var ps domain.PortalSession
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketPortalSessions).Get([]byte(id))
		if raw == nil {
			return nil
		}
		found = true
		return jsoncodec.Unmarshal(raw, &ps)
	})
	return ps, found, err
}
