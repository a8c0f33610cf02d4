package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParse(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		c, err := Parse("serve", nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != ":8080" || c.DataDir != "./data" || c.EventStore != "embedded" || c.ShutdownTimeout != 30*time.Second || c.IdempotencyWindow != 24*time.Hour || !c.Introspection || c.Dev {
			t.Fatalf("unexpected defaults: %+v", c)
		}
	})
	t.Run("EnvThenFlagWins", func(t *testing.T) {
		c, err := Parse("serve", []string{"--addr", "127.0.0.1:9", "--introspection=false"}, env(map[string]string{
			"WEBHOOKD_ADDR": ":1", "WEBHOOKD_EVENTSTORE": "esdb://es:2113?tls=false", "WEBHOOKD_DEV": "true",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != "127.0.0.1:9" || c.EventStore != "esdb://es:2113?tls=false" || !c.Dev || c.Introspection {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("BareBoolFlag", func(t *testing.T) {
		c, err := Parse("serve", []string{"--dev"}, env(nil))
		if err != nil || !c.Dev {
			t.Fatalf("--dev: %+v, %v", c, err)
		}
	})
	t.Run("ErrBoolEnv", func(t *testing.T) {
		if _, err := Parse("serve", nil, env(map[string]string{"WEBHOOKD_DEV": "maybe"})); err == nil || !strings.Contains(err.Error(), "WEBHOOKD_DEV") {
			t.Fatalf("err = %v", err)
		}
	})
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"ErrEventStore":   {[]string{"--eventstore", "mysql://x"}, "eventstore"},
		"ErrLogLevel":     {[]string{"--log-level", "loud"}, "log-level"},
		"ErrBool":         {[]string{"--dev=maybe"}, "dev"},
		"ErrDuration":     {[]string{"--shutdown-timeout", "soon"}, "shutdown-timeout"},
		"ErrExtraArg":     {[]string{"stray"}, "unexpected argument"},
		"ErrUnknownFlag":  {[]string{"--nope"}, "nope"},
		"ErrNonPositive":  {[]string{"--shutdown-timeout", "0s"}, "positive"},
		"ErrLogFormatBad": {[]string{"--log-format", "xml"}, "log-format"},
		"ErrIdempotency":  {[]string{"--idempotency-window", "-1h"}, "idempotency-window"},
		"ErrPublicURL":    {[]string{"--public-url", "hooks.example.com"}, "public-url"},
		"ErrPublicURLFtp": {[]string{"--public-url", "ftp://hooks.example.com"}, "public-url"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("serve", tc.args, env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestKeysAreUniqueAndPrefixed(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if !strings.HasPrefix(k.Env, "WEBHOOKD_") || k.Help == "" {
			t.Errorf("key %+v: env must start with WEBHOOKD_ and have help", k)
		}
		if seen[k.Env] || seen[k.Flag] {
			t.Errorf("duplicate key %s/%s", k.Flag, k.Env)
		}
		seen[k.Env], seen[k.Flag] = true, true
	}
}

// TestDevAddr checks that --dev binds loopback unless an address is given,
// since it hands the demo key to whoever can reach the UI.
func TestDevAddr(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"DevDefaultIsLoopback": {[]string{"--dev"}, nil, DevAddr},
		"DevFromEnv":           {nil, map[string]string{"WEBHOOKD_DEV": "true"}, DevAddr},
		"DevEmptyAddrEnv":      {[]string{"--dev"}, map[string]string{"WEBHOOKD_ADDR": " "}, DevAddr},
		"DevAddrFlag":          {[]string{"--dev", "--addr", ":9090"}, nil, ":9090"},
		"DevAddrFlagDefault":   {[]string{"--addr", ":8080", "--dev"}, nil, ":8080"},
		"DevAddrEnv":           {[]string{"--dev"}, map[string]string{"WEBHOOKD_ADDR": "0.0.0.0:7000"}, "0.0.0.0:7000"},
		"NotDev":               {nil, nil, ":8080"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse("serve", tc.args, env(tc.env))
			if err != nil || c.Addr != tc.want {
				t.Fatalf("addr %q (%v), want %q", c.Addr, err, tc.want)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Run("OnlyNamedFlags", func(t *testing.T) {
		c, rest, err := ParseArgs("rebuild", []string{"rebuild", "--data-dir", "/d"}, env(map[string]string{"WEBHOOKD_LOG_LEVEL": "warn"}), []string{"data-dir"})
		if err != nil || c.DataDir != "/d" || c.LogLevel != "warn" || len(rest) != 1 || rest[0] != "rebuild" {
			t.Fatalf("%+v %v %v", c, rest, err)
		}
		if _, _, err := ParseArgs("rebuild", []string{"--addr", ":1"}, env(nil), []string{"data-dir"}); err == nil || !strings.Contains(err.Error(), "addr") {
			t.Fatalf("a flag outside the subset was accepted: %v", err)
		}
	})
	t.Run("FlagsAfterPositionals", func(t *testing.T) {
		c, rest, err := ParseArgs("x", []string{"a", "--data-dir", "/d", "b", "--dev", "--", "--c"}, env(nil), nil)
		if err != nil || c.DataDir != "/d" || !c.Dev || strings.Join(rest, " ") != "a b --c" {
			t.Fatalf("%+v %q %v", c, rest, err)
		}
	})
}
