package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/webhookd/webhookd/internal/testlock"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := testlock.Run(m, false) // a heavy suite: never beside the cluster test
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// webhookdBinary builds the real binary once per test run, the way an
// operator gets it (`go build`, which stamps the VCS revision), so the CLI
// tests see real exit statuses and build information.
func webhookdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "webhookd-cli-test"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "webhookd")
		// -buildvcs=true: stamp the revision even where GOFLAGS turns it off.
		out, err := exec.Command("go", "build", "-buildvcs=true", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs the built binary with args and an environment without any
// WEBHOOKD_* variable of the test's own.
func cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(webhookdBinary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOKD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run webhookd %v: %v", args, err)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// flagsListed returns the flag names a --help output lists.
func flagsListed(help string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestCLIHelp(t *testing.T) {
	for name, tc := range map[string]struct {
		args  []string
		flags string // the flags, in flag's sorted order; "" for no list
		says  string
	}{
		"Top":             {[]string{"--help"}, "", "webhookd keys create"},
		"Help":            {[]string{"help"}, "", "webhookd projections rebuild"},
		"Serve":           {[]string{"serve", "--help"}, "addr allow-cidrs data-dir dev dispatch event-types-file eventstore fatal-after idempotency-window instance-id introspection lease-ttl log-format log-level otel-endpoint partitions portal-frame-ancestors portal-theme-file public-url redis-url retention retry-schedule shutdown-timeout signing-key-file", "WEBHOOKD_ADDR"},
		"Keys":            {[]string{"keys", "--help"}, "", "keys revoke KEY_ID"},
		"KeysH":           {[]string{"keys", "-h"}, "", "keys list --account A"},
		"KeysCreate":      {[]string{"keys", "create", "--help"}, "account data-dir expires-in init label scope", "-init"},
		"KeysList":        {[]string{"keys", "list", "-h"}, "account data-dir", "-account"},
		"KeysRevoke":      {[]string{"keys", "revoke", "--help"}, "data-dir", "-data-dir"},
		"Rebuild":         {[]string{"projections", "rebuild", "--help"}, "data-dir event-types-file eventstore log-format log-level", "-eventstore"},
		"RebuildFlagLast": {[]string{"projections", "--help", "rebuild"}, "data-dir event-types-file eventstore log-format log-level", "-data-dir"},
	} {
		t.Run(name, func(t *testing.T) {
			r := cli(t, tc.args...)
			out := r.stdout + r.stderr
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", r.code, out)
			}
			if !strings.Contains(out, tc.says) {
				t.Errorf("help lacks %q:\n%s", tc.says, out)
			}
			if got := strings.Join(flagsListed(out), " "); got != tc.flags {
				t.Errorf("flags listed: %q\nwant %q\n%s", got, tc.flags, out)
			}
		})
	}
	for name, args := range map[string][]string{
		"ErrNoCommand":      nil,
		"ErrUnknownCommand": {"frobnicate"},
		"ErrKeysNone":       {"keys"},
		"ErrKeysUnknown":    {"keys", "rotate"},
		"ErrServeFlag":      {"serve", "--nope"},
		"ErrKeysFlag":       {"keys", "list", "--scope", "admin"},
		"ErrProjections":    {"projections"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := cli(t, args...); r.code != 2 {
				t.Errorf("exit %d, want 2 for a usage mistake\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestCLIKeysListNeedsAccount(t *testing.T) {
	r := cli(t, "keys", "list", "--data-dir", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "--account is required") {
		t.Errorf("exit %d, stderr %q: want 2 and --account is required", r.code, r.stderr)
	}
}

// TestCLIVersion compares `webhookd version` with what the go command
// reads from the same binary's build information. (The go command stamps
// no VCS information in a git worktree, whose .git is a file; the binary
// must then say the revision is unknown.)
func TestCLIVersion(t *testing.T) {
	bin := webhookdBinary(t)
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	mod := regexp.MustCompile(`(?m)^\s+mod\s+github.com/webhookd/webhookd\s+(\S+)`).FindStringSubmatch(string(info))
	if mod == nil {
		t.Fatalf("go version -m names no main module:\n%s", info)
	}
	want := "revision unknown"
	if rev := regexp.MustCompile(`(?m)^\s+build\s+vcs.revision=(\S+)`).FindStringSubmatch(string(info)); rev != nil {
		want = "revision " + rev[1]
	}
	r := cli(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "webhookd "+mod[1]+" ") || !strings.Contains(r.stdout, want) {
		t.Errorf("webhookd version printed %q (exit %d), want module version %s and %q", r.stdout, r.code, mod[1], want)
	}
}

func TestFormatVersion(t *testing.T) {
	info, err := debug.ParseBuildInfo("path\tgithub.com/webhookd/webhookd/cmd/webhookd\n" +
		"mod\tgithub.com/webhookd/webhookd\tv0.0.0-20261201101037-dee8d950054c\t\n" +
		"build\tvcs=git\nbuild\tvcs.revision=dee8d950054c031314791eaeece992695c9b27df\n" +
		"build\tvcs.time=2026-12-01T10:10:37Z\nbuild\tvcs.modified=true\n")
	if err != nil {
		t.Fatal(err)
	}
	info.GoVersion = "go1.26.8"
	want := "webhookd v0.0.0-20261201101037-dee8d950054c revision dee8d950054c031314791eaeece992695c9b27df (modified) committed 2026-12-01T10:10:37Z go1.26.8"
	if got := formatVersion("", info); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := formatVersion("v1.2.3", info); !strings.HasPrefix(got, "webhookd v1.2.3 revision dee8d95") {
		t.Errorf("-X main.version is not preferred: %q", got)
	}
}
