package boltmem

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// Released pages fault back in from the file: every value reads back the
// same after Release, and writes keep working.
func TestReleaseKeepsDataReadable(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, &bbolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	value := bytes.Repeat([]byte("v"), 512)
	put := func(from, to int) {
		t.Helper()
		if err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for i := from; i < to; i++ {
				if err := b.Put(fmt.Appendf(nil, "k%06d", i), value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 10000)
	Release(db)
	put(10000, 12000)
	Release(db)
	n := 0
	if err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error {
			if !bytes.Equal(v, value) {
				return fmt.Errorf("%s reads back as %q", k, v[:8])
			}
			n++
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != 12000 {
		t.Fatalf("read %d values, want 12000", n)
	}
}
