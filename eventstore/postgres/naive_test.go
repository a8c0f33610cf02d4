package postgres

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/eventstoretest"
)

// naiveChildEnv marks the child process TestNaiveReaderFailsSuite starts.
const naiveChildEnv = "WEBHOOKD_TEST_NAIVE_READER"

// TestNaiveReaderFailsSuite proves the conformance suite catches a reader
// that reads "position > last" without regard to transactions still in
// flight: it runs the suite's live-readers test against such a reader, in
// a child process (a failing suite cannot be contained in this one), and
// expects it to fail for missed events.
func TestNaiveReaderFailsSuite(t *testing.T) {
	_ = newDatabase(t) // skips when no PostgreSQL answers
	if testing.Short() {
		t.Skip("starts a child test run of the live-readers conformance test")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0],
		"-test.run", "^TestNaiveConformance$/^LiveReadersSeeEveryCommit$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), naiveChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed against the naive reader:\n%s", out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestNaiveConformance/LiveReadersSeeEveryCommit") ||
		!strings.Contains(string(out), "missed") {
		t.Fatalf("the naive reader failed for another reason (%v):\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "missed") {
			t.Logf("naive reader: %s", strings.TrimSpace(line))
		}
	}
}

// TestNaiveConformance is the child run: the suite against the naive
// reader. It runs only under TestNaiveReaderFailsSuite.
func TestNaiveConformance(t *testing.T) {
	if os.Getenv(naiveChildEnv) == "" {
		t.Skip("run by TestNaiveReaderFailsSuite, which expects it to fail")
	}
	dbURL := newDatabase(t)
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, dbURL, Options{SweepInterval: -1, naive: true})
	})
}
