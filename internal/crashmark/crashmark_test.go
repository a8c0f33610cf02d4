package crashmark

import (
	"os"
	"path/filepath"
	"testing"
)

func withBoot(t *testing.T, id string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "boot_id")
	if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := bootIDPath
	bootIDPath = p
	t.Cleanup(func() { bootIDPath = old })
}

func begin(t *testing.T, path string) bool {
	t.Helper()
	torn, err := Begin(path)
	if err != nil {
		t.Fatal(err)
	}
	return torn
}

func TestMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "readmodel.db")
	withBoot(t, "boot-1")
	if begin(t, path) {
		t.Fatal("a file never opened counts as torn")
	}
	// The process died without End, the machine did not: the page cache
	// kept every write.
	if begin(t, path) {
		t.Fatal("a process crash in the same boot counts as torn")
	}
	if err := End(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".open"); !os.IsNotExist(err) {
		t.Fatalf("mark left after End: %v", err)
	}
	withBoot(t, "boot-2")
	if begin(t, path) {
		t.Fatal("a clean close counts as torn after a reboot")
	}
	// Open when the machine went down.
	withBoot(t, "boot-3")
	if !begin(t, path) {
		t.Fatal("a mark from another boot does not count as torn")
	}
	if begin(t, path) {
		t.Fatal("the mark was not renewed for this boot")
	}
}

// Where the system does not tell boots apart, any mark left behind counts
// as torn.
func TestMarkWithoutBootID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "readmodel.db")
	old := bootIDPath
	bootIDPath = filepath.Join(t.TempDir(), "missing")
	defer func() { bootIDPath = old }()
	if begin(t, path) {
		t.Fatal("a file never opened counts as torn")
	}
	if !begin(t, path) {
		t.Fatal("a mark left behind without boot IDs does not count as torn")
	}
}
