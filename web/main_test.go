package web_test

import (
	"os"
	"testing"

	"github.com/webhookd/webhookd/internal/testlock"
)

// TestMain shares the heavy-suite lock: the browser tests may run beside
// the other heavy suites, never beside the cluster test.
func TestMain(m *testing.M) { os.Exit(testlock.Run(m, false)) }
