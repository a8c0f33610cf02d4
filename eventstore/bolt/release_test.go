package bolt

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/boltmem"
)

// rssFile is the process's resident file-backed memory (Linux), or -1.
func rssFile() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// A read that scans the whole log (a reader far behind) does not leave
// every page it passed resident: past releaseScannedEvery bytes the pages
// are released, and the events still read back whole.
func TestLongScansReleaseTheirPages(t *testing.T) {
	if rssFile() < 0 {
		t.Skip("needs /proc/self/status (Linux)")
	}
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{NoSync: true, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const events, size = 40_000, 1 << 10 // 40 MiB of data
	payload := append([]byte(`{"x":"`), append(bytes.Repeat([]byte("a"), size), '"', '}')...)
	for i := 0; i < events; i += 1000 {
		batch := make([]eventstore.EventData, 1000)
		for j := range batch {
			batch[j] = eventstore.EventData{ID: uuid.NewString(), Type: "t.v1", Data: payload}
		}
		if _, err := s.Append(context.Background(), "s-"+strconv.Itoa(i), eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
	}
	scan := func() (grew int64) {
		t.Helper()
		boltmem.Release(s.db)
		before := rssFile()
		n := 0
		for pos := eventstore.Position(0); ; {
			recs, err := s.ReadAll(context.Background(), pos, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if !bytes.Equal(r.Data, payload) {
					t.Fatalf("event at %d reads back as %.20q", r.Position, r.Data)
				}
			}
			n += len(recs)
			pos = recs[len(recs)-1].Position
		}
		if n != events {
			t.Fatalf("read %d events, want %d", n, events)
		}
		return rssFile() - before
	}
	defer func(v int64) { releaseScannedEvery = v }(releaseScannedEvery)

	releaseScannedEvery = math.MaxInt64
	kept := scan()
	if kept < 20<<20 {
		t.Skipf("a full scan left only %d KiB resident without releasing: nothing to show here", kept>>10)
	}
	releaseScannedEvery = 4 << 20
	if released := scan(); released > 12<<20 {
		t.Fatalf("a full scan releasing every 4 MiB left %d KiB resident (%d KiB without releasing)", released>>10, kept>>10)
	} else {
		t.Logf("resident after a 40 MiB scan: %d KiB without releasing, %d KiB releasing every 4 MiB", kept>>10, released>>10)
	}
}
