package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// crashChildEnv names the store file when the test binary runs as the
// child of TestCrashRecovery.
const crashChildEnv = "WEBHOOKD_BOLT_CRASH_CHILD"

// ack is one acknowledged event as the child reported it.
type ack struct {
	stream   string
	revision uint64
	position eventstore.Position
	id       string
}

// TestCrashRecovery kills a child process appending from several
// goroutines at a random moment, 20 times over one file, and checks after
// each kill that every acknowledged event survived intact and the log has
// no gap and no torn record.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary 20 times")
	}
	path := filepath.Join(t.TempDir(), "events.db")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	total := 0
	for round := range 20 {
		acks := runCrashChild(t, path, time.Duration(50+r.IntN(251))*time.Millisecond)
		n := verifyAfterCrash(t, path, acks)
		if n < total {
			t.Fatalf("round %d: log shrank from %d to %d events", round, total, n)
		}
		t.Logf("round %d: %d acknowledged, %d in the log", round, len(acks), n)
		total = n
	}
}

// runCrashChild starts the child, lets it append for delay after it is
// ready, kills it with SIGKILL and returns what it acknowledged.
func runCrashChild(t *testing.T, path string, delay time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	ready := false
	for !ready && lines.Scan() {
		ready = lines.Text() == "READY"
	}
	if !ready {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("crash child exited before it was ready")
	}
	time.AfterFunc(delay, func() { _ = cmd.Process.Kill() }) // SIGKILL
	var acks []ack
	for lines.Scan() {
		var a ack
		// A line cut by the kill fails to parse and is ignored: its append
		// was acknowledged, but not yet reported.
		if _, err := fmt.Sscanf(lines.Text(), "ACK %s %d %d %s", &a.stream, &a.revision, &a.position, &a.id); err == nil && len(a.id) == 36 {
			acks = append(acks, a)
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err == nil {
		t.Fatal("crash child exited by itself; it should have been killed")
	}
	return acks
}

// verifyAfterCrash reopens the store and checks it against the acks,
// returning the number of events in the log.
func verifyAfterCrash(t *testing.T, path string, acks []ack) int {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{SweepInterval: -1})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	byPos := map[eventstore.Position]eventstore.RecordedEvent{}
	next := map[string]uint64{}
	var after eventstore.Position
	for {
		page, err := s.ReadAll(ctx, after, 4096)
		if err != nil {
			t.Fatalf("read log after position %d: %v", after, err) // a torn record fails its checksum here
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position != after+1 {
				t.Fatalf("position %d follows %d: the log has a gap", e.Position, after)
			}
			if e.Revision != next[e.Stream] {
				t.Fatalf("%s revision %d at position %d, want %d", e.Stream, e.Revision, e.Position, next[e.Stream])
			}
			next[e.Stream]++
			byPos[e.Position] = e
			after = e.Position
		}
	}
	// The stream index (partly rebuilt from the log on open) must agree.
	for stream, n := range next {
		evs, err := s.ReadStream(ctx, stream, 0, int(n)+1)
		if err != nil || uint64(len(evs)) != n {
			t.Fatalf("read %s = %d events, %v; the log holds %d", stream, len(evs), err, n)
		}
		for i, e := range evs {
			if e.Revision != uint64(i) || byPos[e.Position].ID != e.ID {
				t.Fatalf("%s revision %d reads as %s@%d at position %d", stream, i, e.ID, e.Revision, e.Position)
			}
		}
	}
	for _, a := range acks {
		e, ok := byPos[a.position]
		if !ok {
			t.Fatalf("acknowledged event %s (%s@%d, position %d) was lost", a.id, a.stream, a.revision, a.position)
		}
		if e.ID != a.id || e.Stream != a.stream || e.Revision != a.revision {
			t.Fatalf("position %d holds %s %s@%d, acknowledged %s %s@%d", a.position, e.ID, e.Stream, e.Revision, a.id, a.stream, a.revision)
		}
	}
	return len(byPos)
}

// TestCrashChild is the process TestCrashRecovery kills. It appends from
// eight goroutines until it dies, reporting each event only after its
// append returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		return // only meaningful as the child of TestCrashRecovery
	}
	s, err := bolt.Open(path, bolt.Options{SweepInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	report := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = os.Stdout.WriteString(line) // unbuffered: reported means written to the pipe
	}
	report("READY\n")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			stream := fmt.Sprintf("crash-%d", g)
			for i := 0; ; i++ {
				n := 1 + i%3
				evs := make([]eventstore.EventData, n)
				for j := range evs {
					evs[j] = ev("crash.appended.v1", i)
					evs[j].Data = []byte(`{"pad":"` + strings.Repeat("c", 100+i%500) + `"}`)
				}
				res, err := s.Append(context.Background(), stream, eventstore.Any, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: append:", err)
					os.Exit(2)
				}
				var b strings.Builder
				for j, e := range evs {
					back := uint64(n - 1 - j)
					fmt.Fprintf(&b, "ACK %s %d %d %s\n", stream, res.NextRevision-back, uint64(res.Position)-back, e.ID)
				}
				report(b.String())
			}
		})
	}
	wg.Wait()
}
