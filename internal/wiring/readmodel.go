package wiring

import (
	"time"

	bbolt "go.etcd.io/bbolt"
)

// ReadModelOptions are the bbolt options of the read-model database, for
// the serve command and the durable test environment alike.
//
//   - The freelist is synced on commit, so opening reads a few pages
//     whatever the file's size; without it bbolt rebuilds the freelist by
//     reading every page (seconds per gigabyte on a cold start).
//   - Commits are not fsynced (architecture.md, decision 31): the read
//     model is derived from the log, a process crash leaves it whole, and
//     the serve command rebuilds it after the machine went down with it
//     open.
//   - Address space is reserved up front, as the event store does, so the
//     growing file is rarely remapped: a remap waits for every open read
//     transaction (the dispatcher's reads among them) and first copies
//     every node the write transaction holds out of the old mapping, which
//     was 2.5% of all CPU at fan-out 100 on a fresh read model.
func ReadModelOptions() *bbolt.Options {
	return &bbolt.Options{Timeout: 2 * time.Second, FreelistType: bbolt.FreelistMapType, NoSync: true, InitialMmapSize: 1 << 30}
}
