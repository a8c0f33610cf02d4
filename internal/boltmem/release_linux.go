package boltmem

import "golang.org/x/sys/unix"

func release(addr uintptr, size int) {
	// The address is bbolt's own mapping; the raw syscall avoids turning
	// it back into a Go pointer.
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED)
}
