// Package boltmem keeps bbolt files from counting against the process's
// resident memory after open.
//
// Opening a bbolt file with NoFreelistSync (which both webhookd databases
// use, because writing the freelist on every commit costs about 15% of
// delivery throughput) rebuilds the freelist by reading every page. Those
// pages stay mapped, so a database of a million pending deliveries showed
// as gigabytes of RSS although the process itself used about a hundred
// MiB. Release drops the mapping's pages right after open; they stay in
// the kernel's page cache and fault back in as they are read.
package boltmem

import (
	"os"

	bbolt "go.etcd.io/bbolt"
)

// Release unmaps the pages of db's file from the process (they remain in
// the page cache). Call it right after open, before any transaction. It is
// best effort: on failure the pages just stay resident.
func Release(db *bbolt.DB) {
	fi, err := os.Stat(db.Path())
	if err != nil || fi.Size() == 0 {
		return
	}
	release(db.Info().Data, int(fi.Size()))
}
