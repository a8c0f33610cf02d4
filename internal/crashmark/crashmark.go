// Package crashmark tells whether a file written without fsync may have
// been torn by the machine going down while it was open.
//
// The read model is derived from the log, so webhookd commits it without
// fsync (docs/architecture.md, decision 31). Every commit still reaches
// the kernel's page cache before the next begins, so a process that
// crashes, is killed or is stopped leaves it whole: the page cache
// outlives the process. Only the machine going down (power loss, a kernel
// crash) can lose some of its unsynced writes and not others. The mark,
// a small file beside the data holding the kernel's boot ID, is written
// (and synced) before the first unsynced write and removed after a clean
// close has synced the data. A mark left by another boot therefore means
// the machine went down while the file was open: the caller rebuilds it.
package crashmark

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// bootIDPath is where Linux says which boot this is; a var for tests.
var bootIDPath = "/proc/sys/kernel/random/boot_id"

// bootID is this boot's ID, or nil where the system does not say: then
// every mark left behind counts as torn, the safe side.
func bootID() []byte {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return nil
	}
	return bytes.TrimSpace(b)
}

func markPath(path string) string { return path + ".open" }

// Begin is called before path is opened for unsynced writes. It reports
// whether path may be torn: a mark from another boot (or from a system
// that does not tell boots apart) is still there. It then marks path as
// open in this boot, durably.
func Begin(path string) (torn bool, err error) {
	id := bootID()
	old, err := os.ReadFile(markPath(path))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("crash mark %s: %w", markPath(path), err)
	default:
		torn = id == nil || !bytes.Equal(bytes.TrimSpace(old), id)
	}
	if err := writeSynced(markPath(path), id); err != nil {
		return torn, fmt.Errorf("crash mark %s: %w", markPath(path), err)
	}
	return torn, nil
}

// End is called once path's data has been synced and it is closed: it
// removes the mark.
func End(path string) error {
	if err := os.Remove(markPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("crash mark %s: %w", markPath(path), err)
	}
	return syncDir(filepath.Dir(path))
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
