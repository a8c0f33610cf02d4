package deliveries

import (
	"bytes"
	"encoding/binary"
	"math"
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
	view, ok, err := Summary(tx, string(k[len(prefix)+8:]))
	return ok && view.AccountID == account, err
}

// DeliveryRange selects the deliveries EachDelivery walks: those created
// in [Since, Until) (a zero bound is open) and, when Status is set, only
// those now in that status.
type DeliveryRange struct {
	Since, Until time.Time
	Status       domain.DeliveryStatus
}

// EachDelivery calls fn with each delivery of the account's webhook
// webhookID that r selects, oldest first, without holding them all in
// memory. It stops at fn's first error and returns it.
//
// The walk starts near Since (found by binary search over the creation
// index) and a status filter walks the per-status index, so an export
// costs what it returns rather than the webhook's whole history.
//
// Deliveries are read a chunk per read transaction and fn runs between
// transactions: a bbolt read transaction held open while a slow client
// drains an export would block the projection writer as soon as the file
// has to grow. A delivery created while the walk is under way is included
// if the walk has not passed its creation time.
func EachDelivery(db *bbolt.DB, account, webhookID string, r DeliveryRange, fn func(DeliveryView) error) error {
	return eachDelivery(db, account, webhookID, r, fn, nil)
}

// EachDeliveryCounted is EachDelivery with step called for every index
// entry read, so a test can show what a walk costs (that it seeks to
// since instead of scanning from the newest).
func EachDeliveryCounted(db *bbolt.DB, account, webhookID string, r DeliveryRange, fn func(DeliveryView) error, step func()) error {
	return eachDelivery(db, account, webhookID, r, fn, step)
}

// eachDelivery is EachDelivery; step, when set, is called for every index
// entry the walk reads, so tests can show what an export costs.
func eachDelivery(db *bbolt.DB, account, webhookID string, r DeliveryRange, fn func(DeliveryView) error, step func()) error {
	if err := (DeliveryFilter{Status: string(r.Status)}).validate(); err != nil {
		return err
	}
	idxName, prefix := bucketDeliveriesByWebhook, deliveryPrefix(webhookID, "")
	if r.Status != "" {
		idxName, prefix = bucketDeliveriesByStatus, deliveryPrefix(webhookID, r.Status)
	}
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
			c := tx.Bucket(idxName).Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.Seek(seekSince(c, prefix, r.Since))
			} else if k, v = c.Seek(resume); k != nil && bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			for ; ; k, v = c.Next() {
				if k == nil || !bytes.HasPrefix(k, prefix) {
					done = true
					return nil
				}
				if len(chunk) == exportChunk {
					return nil
				}
				if step != nil {
					step()
				}
				resume = append(resume[:0], k...)
				created, _ := parseIndexValue(v)
				if !r.Since.IsZero() && created.Before(r.Since) {
					continue
				}
				if !r.Until.IsZero() && !created.Before(r.Until) {
					if !created.Before(r.Until.Add(clockSkew)) {
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

// seekSince returns the key at which a walk of prefix's range for
// deliveries created at or after since may start. The index is in log
// order and creation times run out of it by at most clockSkew, so an entry
// created before since-clockSkew proves every entry before it is older
// than since too. A binary search over log positions finds the last such
// entry in a few dozen seeks; the walk starts just after it.
func seekSince(c *bbolt.Cursor, prefix []byte, since time.Time) []byte {
	if since.IsZero() {
		return prefix
	}
	bound := since.Add(-clockSkew)
	at := func(pos uint64) ([]byte, []byte) {
		return c.Seek(binary.BigEndian.AppendUint64(append([]byte{}, prefix...), pos))
	}
	old := func(k, v []byte) bool {
		created, _ := parseIndexValue(v)
		return k != nil && bytes.HasPrefix(k, prefix) && created.Before(bound)
	}
	posOf := func(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(prefix):]) }
	k, v := c.Seek(prefix)
	if !old(k, v) {
		return prefix
	}
	// Invariant: the entry at lo is old; the first entry at or after hi
	// is not (or there is none).
	lo, hi := posOf(k), uint64(math.MaxUint64)
	if last, _ := seekBelow(c, prefixEnd(prefix)); last != nil && bytes.HasPrefix(last, prefix) {
		hi = posOf(last) + 1
	}
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if k, v := at(mid); old(k, v) {
			lo = posOf(k)
		} else {
			hi = mid
		}
	}
	return binary.BigEndian.AppendUint64(append([]byte{}, prefix...), lo+1)
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
