package deliveries

import (
	"bytes"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/internal/cursor"
)

// clockSkew bounds how far creation times may run out of log order: events
// are stamped by the appending instance's clock before they get a
// position. Listings stop scanning once they are this far past a time
// bound, rather than reading a webhook's whole history.
const clockSkew = 5 * time.Minute

// exportChunk is how many deliveries EachDelivery reads per read
// transaction before handing them to the callback.
const exportChunk = 256

// DeliveryFilter narrows a delivery listing.
type DeliveryFilter struct {
	// Status is "" or a domain.DeliveryStatus (pending, retrying,
	// succeeded, failed).
	Status string
	// Since, when set, keeps deliveries created at or after it.
	Since time.Time
	// Test, when set, keeps only test deliveries (true) or only real ones.
	Test *bool
}

func (f DeliveryFilter) validate() error {
	switch domain.DeliveryStatus(f.Status) {
	case "", domain.DeliveryStatusPending, domain.DeliveryStatusRetrying,
		domain.DeliveryStatusSucceeded, domain.DeliveryStatusFailed:
		return nil
	}
	return domain.FieldErrorf(domain.EINVALID, "status", "status must be pending, retrying, succeeded or failed")
}

// DeliveryPage is one page of a webhook's deliveries, newest first. It has
// no total count: counting would read every matching index entry, which
// for a webhook with a million deliveries defeats paging.
type DeliveryPage struct {
	Deliveries  []DeliveryView
	Cursors     []string
	HasNextPage bool
}

// ListDeliveries pages through the deliveries of the account's webhook
// webhookID, newest first. after is a cursor from a previous page ("" for
// the first page). A webhook of another account lists as empty, like one
// without deliveries. A status filter reads the per-status index, so a page
// costs the same however many deliveries have other statuses.
func ListDeliveries(db *bbolt.DB, account, webhookID string, f DeliveryFilter, first int, after string) (DeliveryPage, error) {
	var page DeliveryPage
	if err := f.validate(); err != nil {
		return page, err
	}
	if first < 0 {
		return page, domain.FieldErrorf(domain.EINVALID, "first", "first must not be negative")
	}
	afterKey, err := cursor.Decode(after)
	if err != nil {
		return page, err
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if ok, err := webhookDeliveriesOwnedBy(tx, account, webhookID); err != nil || !ok {
			return err
		}
		idx := tx.Bucket(bucketDeliveriesByWebhook)
		if f.Status != "" {
			idx = tx.Bucket(bucketDeliveriesByStatus)
		}
		prefix := deliveryPrefix(webhookID, domain.DeliveryStatus(f.Status))
		// Newest first: walk backwards from the end of the prefix's range,
		// or from just below the cursor.
		limit := prefixEnd(prefix)
		if afterKey != nil {
			limit = append(append([]byte{}, prefix...), afterKey...)
		}
		c := idx.Cursor()
		for k, v := seekBelow(c, limit); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			created, test := parseIndexValue(v)
			if !f.Since.IsZero() && created.Before(f.Since) {
				if created.Before(f.Since.Add(-clockSkew)) {
					break // newest first: everything further is older still
				}
				continue
			}
			if f.Test != nil && *f.Test != test {
				continue
			}
			if len(page.Deliveries) == first {
				page.HasNextPage = true
				break
			}
			view, ok, err := getDeliveryTx(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if !ok || view.AccountID != account {
				continue
			}
			page.Deliveries = append(page.Deliveries, view)
			page.Cursors = append(page.Cursors, cursor.Encode(k[len(prefix):]))
		}
		return nil
	})
	return page, err
}

// webhookDeliveriesOwnedBy reports whether the webhook's deliveries belong
// to account, judged by its oldest delivery (all of a webhook's deliveries
// share its account). Checking once up front keeps a request for another
// account's webhook from scanning that webhook's history only to discard
// it; rows are still checked one by one.
func webhookDeliveriesOwnedBy(tx *bbolt.Tx, account, webhookID string) (bool, error) {
	prefix := deliveryPrefix(webhookID, "")
	k, _ := tx.Bucket(bucketDeliveriesByWebhook).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return false, nil
	}
	view, ok, err := getDeliveryTx(tx, string(k[len(prefix)+8:]))
	return ok && view.AccountID == account, err
}

// EachDelivery calls fn with each delivery of the account's webhook
// webhookID created in [since, until) (a zero bound is open), oldest first,
// without holding them all in memory. It stops at fn's first error and
// returns it.
//
// Deliveries are read a chunk per read transaction and fn runs between
// transactions: a bbolt read transaction held open while a slow client
// drains an export would block the projection writer as soon as the file
// has to grow. A delivery created while the walk is under way is included
// if the walk has not passed its creation time.
func EachDelivery(db *bbolt.DB, account, webhookID string, since, until time.Time, fn func(DeliveryView) error) error {
	prefix := deliveryPrefix(webhookID, "")
	var resume []byte // the last key handed to a chunk
	chunk := make([]DeliveryView, 0, exportChunk)
	for {
		chunk = chunk[:0]
		done := false
		err := db.View(func(tx *bbolt.Tx) error {
			if ok, err := webhookDeliveriesOwnedBy(tx, account, webhookID); err != nil || !ok {
				done = true
				return err
			}
			c := tx.Bucket(bucketDeliveriesByWebhook).Cursor()
			k, v := c.Seek(prefix)
			if resume != nil {
				if k, v = c.Seek(resume); k != nil && bytes.Equal(k, resume) {
					k, v = c.Next()
				}
			}
			for ; ; k, v = c.Next() {
				if k == nil || !bytes.HasPrefix(k, prefix) {
					done = true
					return nil
				}
				if len(chunk) == exportChunk {
					return nil
				}
				resume = append(resume[:0], k...)
				created, _ := parseIndexValue(v)
				if !since.IsZero() && created.Before(since) {
					continue
				}
				if !until.IsZero() && !created.Before(until) {
					if !created.Before(until.Add(clockSkew)) {
						done = true
						return nil
					}
					continue
				}
				view, ok, err := getDeliveryTx(tx, string(k[len(prefix)+8:]))
				if err != nil {
					return err
				}
				if ok && view.AccountID == account {
					chunk = append(chunk, view)
				}
			}
		})
		if err != nil {
			return err
		}
		for _, view := range chunk {
			if err := fn(view); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// seekBelow positions c on the last key below limit, for walking
// backwards.
func seekBelow(c *bbolt.Cursor, limit []byte) ([]byte, []byte) {
	if k, _ := c.Seek(limit); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// prefixEnd is the smallest key above every key with prefix, which ends
// in a 0 byte.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte{}, prefix...)
	end[len(end)-1] = 1
	return end
}
