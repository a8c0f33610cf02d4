// Package engines compares the two storage engines considered for the
// embedded event store, bbolt and Pebble, on the design's append workload:
// durable 200-byte appends from 64 concurrent writers. It is a nested
// module so that Pebble's dependencies stay out of the main module.
//
//	cd bench/engines && go test -run '^$' -bench . -benchtime 200000x
package engines
