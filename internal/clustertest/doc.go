// Package clustertest holds the scale-out proof: three real webhookd
// processes on one PostgreSQL database and one Redis, a scripted receiver,
// faults (SIGKILL, SIGSTOP, a cut store connection through a TCP proxy the
// test controls), and checks of what the receiver saw against what the
// log recorded. Everything is in the _test files; this file only names
// the package.
package clustertest
