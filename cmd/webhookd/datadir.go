package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data directory's lock file
// for the life of the process. Two instances on one data directory would
// overwrite each other's read models (and, on the embedded store, its
// log); with a shared event store nothing else would stop them, so the
// second one fails at once with a clear message instead.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "webhookd.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another webhookd process (it holds %s); give each instance its own --data-dir", dir, path)
		}
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	return f, nil
}
