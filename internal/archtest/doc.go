// Package archtest holds the tests that keep docs/architecture.md's
// package rules true: adapters do not import each other or the read-model
// storage, and the import picture in the document matches the code. It has
// no code of its own.
package archtest
