package clustertest

import (
	"os"
	"testing"

	"github.com/webhookd/webhookd/internal/testlock"
)

// TestMain runs the cluster test with no other heavy suite beside it, so
// its latency and lag figures are webhookd's, not the neighbours'.
func TestMain(m *testing.M) { os.Exit(testlock.Run(m, true)) }
