//go:build !linux

package boltmem

func release(uintptr, int) {}
