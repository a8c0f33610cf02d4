package runtimegc

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		t.Setenv("GOGC", "") // registers the restore; unset below
		unsetGOGC(t)
		prev := debug.SetGCPercent(100)
		defer debug.SetGCPercent(prev)
		Apply()
		if got := debug.SetGCPercent(100); got != Percent {
			t.Errorf("GC percent after Apply = %d, want %d", got, Percent)
		}
	})
	t.Run("OperatorChoiceWins", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		prev := debug.SetGCPercent(150)
		defer debug.SetGCPercent(prev)
		Apply()
		if got := debug.SetGCPercent(150); got != 150 {
			t.Errorf("GC percent with GOGC=150 after Apply = %d, want 150", got)
		}
	})
}

func unsetGOGC(t *testing.T) {
	t.Helper()
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
}
