// Package boltmem keeps bbolt file pages a process read once from counting
// against its resident memory.
//
// The embedded event store reads the tail of its log on open (the ID
// window, up to 100,000 records) and those pages stay mapped. Release
// drops the mapping's pages right after; they stay in the kernel's page
// cache and fault back in as they are read. (Both databases used to be
// opened with NoFreelistSync, which reads every page at open; with a
// synced freelist the read model no longer needs this.)
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
