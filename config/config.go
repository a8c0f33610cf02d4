// Package config defines webhookd's configuration: every key, its flag, its
// WEBHOOKD_* environment variable, its default and its meaning, in one table.
// The table is the single source of truth for flags, the README's
// configuration section and the docker-compose check.
package config

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the parsed configuration of `webhookd serve`.
type Config struct {
	Addr            string
	DataDir         string
	EventStore      string // "embedded", an esdb:// URL or a postgres:// URL
	RedisURL        string // optional; enables shared rate limits
	Dev             bool
	LogLevel        string
	LogFormat       string
	EventTypesFile  string
	AllowCIDRs      string // SSRF allow-list, comma-separated CIDRs
	Introspection   bool
	ShutdownTimeout time.Duration
	PublicURL       string
	SigningKeyFile  string // ed25519 key for v1a signatures; empty: v1 only
	// IdempotencyWindow is how long a publisher's event id deduplicates.
	IdempotencyWindow time.Duration
	// FatalAfter is how long a failing background task (the projections)
	// is restarted in-process before serve exits non-zero, so that a
	// supervisor restarts the whole process.
	FatalAfter time.Duration
	// Retention is the max age of each of RetentionCategories that has one
	// (see ParseRetention); serve applies it to the store at start.
	Retention map[string]time.Duration
	// PortalFrameAncestors are the origins that may frame the portal
	// (CSP frame-ancestors); none by default.
	PortalFrameAncestors []string
	// PortalThemeFile is a YAML or JSON file of the portal's default
	// theme (brandColor, logoUrl, productName); sessions may override it.
	PortalThemeFile string
	// OTelEndpoint is the OTLP/HTTP endpoint traces are exported to;
	// empty (the default) turns tracing off.
	OTelEndpoint string
	Cluster
}

// Key describes one configuration key.
type Key struct {
	Flag    string
	Env     string
	Default string
	Help    string
	// IsBool keys are flags that take no argument (--dev), as well as
	// --dev=false.
	IsBool bool
}

// Keys lists every configuration key webhookd understands.
func Keys() []Key {
	return []Key{
		{Flag: "addr", Env: "WEBHOOKD_ADDR", Default: ":8080", Help: "HTTP listen address; with --dev and neither this flag nor the variable set, " + DevAddr},
		{Flag: "data-dir", Env: "WEBHOOKD_DATA_DIR", Default: "./data", Help: "directory for the embedded event store and read models"},
		{Flag: "eventstore", Env: "WEBHOOKD_EVENTSTORE", Default: "embedded", Help: "`embedded`, an EventStoreDB URL such as esdb://host:2113?tls=false, or a PostgreSQL URL such as postgres://host/webhookd"},
		{Flag: "redis-url", Env: "WEBHOOKD_REDIS_URL", Default: "", Help: "optional Redis URL (redis://host:6379/0) for rate limits shared across instances"},
		{Flag: "dev", Env: "WEBHOOKD_DEV", Default: "false", IsBool: true, Help: "development mode: demo account and key, GraphQL explorer, loopback callbacks allowed"},
		{Flag: "log-level", Env: "WEBHOOKD_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
		{Flag: "log-format", Env: "WEBHOOKD_LOG_FORMAT", Default: "text", Help: "text or json"},
		{Flag: "event-types-file", Env: "WEBHOOKD_EVENT_TYPES_FILE", Default: "", Help: "YAML or JSON file of extra event types"},
		{Flag: "allow-cidrs", Env: "WEBHOOKD_ALLOW_CIDRS", Default: "", Help: "comma-separated CIDRs exempt from the SSRF guard (development and tests)"},
		{Flag: "introspection", Env: "WEBHOOKD_INTROSPECTION", Default: "true", IsBool: true, Help: "allow GraphQL introspection"},
		{Flag: "shutdown-timeout", Env: "WEBHOOKD_SHUTDOWN_TIMEOUT", Default: "30s", Help: "how long a graceful shutdown waits for in-flight work"},
		{Flag: "public-url", Env: "WEBHOOKD_PUBLIC_URL", Default: "", Help: "externally visible base URL (https://host[/prefix]); the API's absolute links, such as a webhook's verification-file downloadUrl, start with it"},
		{Flag: "idempotency-window", Env: "WEBHOOKD_IDEMPOTENCY_WINDOW", Default: "24h", Help: "how long a published event's id deduplicates repeats"},
		{Flag: "fatal-after", Env: "WEBHOOKD_FATAL_AFTER", Default: "5m", Help: "how long a failing background task is restarted in-process before serve exits non-zero"},
		{Flag: "retention", Env: "WEBHOOKD_RETENTION", Default: "", Help: "max age of message and delivery streams, e.g. message=30d,delivery=90d (at least 7d, 0 for none); applied at start, a category not named has no limit"},
		{Flag: "portal-frame-ancestors", Env: "WEBHOOKD_PORTAL_FRAME_ANCESTORS", Default: "", Help: "comma-separated origins (https://app.example.com) that may frame the portal; none by default"},
		{Flag: "portal-theme-file", Env: "WEBHOOKD_PORTAL_THEME_FILE", Default: "", Help: "YAML or JSON file of the portal's default theme: brandColor, logoUrl, productName"},
		{Flag: "signing-key-file", Env: "WEBHOOKD_SIGNING_KEY_FILE", Default: "", Help: "ed25519 key (whsk_…) that adds v1a signatures, published at /.well-known/jwks.json; created if missing"},
		{Flag: "dispatch", Env: "WEBHOOKD_DISPATCH", Default: "true", IsBool: true, Help: "make deliveries; false for an API-only instance"},
		{Flag: "partitions", Env: "WEBHOOKD_PARTITIONS", Default: "64", Help: "how many partitions instances on a shared store divide the webhooks into (the same on every instance)"},
		{Flag: "lease-ttl", Env: "WEBHOOKD_LEASE_TTL", Default: "10s", Help: "how long a partition lease lives without renewal; renewed every third of it"},
		{Flag: "instance-id", Env: "WEBHOOKD_INSTANCE_ID", Default: "", Help: "this instance's ID in leases and logs; random per start when empty"},
		{Flag: "otel-endpoint", Env: "WEBHOOKD_OTEL_ENDPOINT", Default: "", Help: "OTLP/HTTP endpoint (http://collector:4318) for OpenTelemetry traces of publishing and delivery; empty: tracing off"},
		{Flag: "retry-schedule", Env: "WEBHOOKD_RETRY_SCHEDULE", Default: "", Help: "comma-separated delays before each attempt (0,5s,5m,...); empty: the default schedule"},
	}
}

// DevAddr is where --dev listens unless an address is given: loopback
// only, because --dev hands out a demo key and allows loopback callbacks.
const DevAddr = "127.0.0.1:8080"

// EnvNames returns the set of WEBHOOKD_* variables the binary reads.
func EnvNames() map[string]bool {
	m := map[string]bool{}
	for _, k := range Keys() {
		m[k.Env] = true
	}
	return m
}

// Parse reads configuration from args (flags win), then the environment,
// then defaults. lookupEnv is os.LookupEnv in production; tests pass a map.
// Every key is a flag; positional arguments are an error.
func Parse(name string, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	c, rest, err := ParseArgs(name, args, lookupEnv, nil)
	if err == nil && len(rest) > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", rest[0])
	}
	return c, err
}

// ParseArgs is Parse for subcommands: only the keys named in flags are
// flags (nil means all), so a subcommand's --help lists what it reads;
// the other keys still come from the environment or their defaults.
// Flags may follow positional arguments, which are returned in order.
func ParseArgs(name string, args []string, lookupEnv func(string) (string, bool), flags []string) (Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s (every flag can also be set with the WEBHOOKD_* variable shown):\n", name)
		fs.PrintDefaults()
	}
	values := map[string]*string{}
	bools := map[string]*bool{}
	for _, k := range Keys() {
		def := k.Default
		if v, ok := lookupEnv(k.Env); ok {
			def = v
		}
		flagged := flags == nil || slices.Contains(flags, k.Flag)
		usage := fmt.Sprintf("%s (env %s)", k.Help, k.Env)
		switch {
		case k.IsBool:
			b, err := parseBool(k.Env, def)
			if err != nil {
				return Config{}, nil, err
			}
			bools[k.Flag] = &b
			if flagged {
				fs.BoolVar(bools[k.Flag], k.Flag, b, usage)
			}
		case flagged:
			values[k.Flag] = fs.String(k.Flag, def, usage)
		default:
			values[k.Flag] = &def
		}
	}
	rest, err := ParseInterspersed(fs, args)
	if err != nil {
		return Config{}, nil, err
	}
	addrGiven := false
	fs.Visit(func(f *flag.Flag) { addrGiven = addrGiven || f.Name == "addr" })
	if v, ok := lookupEnv("WEBHOOKD_ADDR"); ok && strings.TrimSpace(v) != "" {
		addrGiven = true
	}
	c, err := build(values, bools)
	if err != nil {
		return Config{}, nil, err
	}
	if c.Dev && !addrGiven {
		c.Addr = DevAddr
	}
	return c, rest, c.validate()
}

func build(values map[string]*string, bools map[string]*bool) (Config, error) {
	get := func(f string) string { return strings.TrimSpace(*values[f]) }
	c := Config{
		Addr: get("addr"), DataDir: get("data-dir"), EventStore: get("eventstore"),
		RedisURL: get("redis-url"), LogLevel: get("log-level"), LogFormat: get("log-format"),
		EventTypesFile: get("event-types-file"), AllowCIDRs: get("allow-cidrs"), PublicURL: get("public-url"),
		SigningKeyFile: get("signing-key-file"), PortalThemeFile: get("portal-theme-file"),
		OTelEndpoint: get("otel-endpoint"),
	}
	c.Dev, c.Introspection = *bools["dev"], *bools["introspection"]
	var err error
	if c.Cluster, err = buildCluster(get, *bools["dispatch"]); err != nil {
		return Config{}, err
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("shutdown-timeout")); err != nil {
		return Config{}, fmt.Errorf("shutdown-timeout: %w", err)
	}
	if c.IdempotencyWindow, err = time.ParseDuration(get("idempotency-window")); err != nil || c.IdempotencyWindow <= 0 {
		return Config{}, fmt.Errorf("idempotency-window: %q is not a positive duration", get("idempotency-window"))
	}
	if c.FatalAfter, err = time.ParseDuration(get("fatal-after")); err != nil || c.FatalAfter <= 0 {
		return Config{}, fmt.Errorf("fatal-after: %q is not a positive duration", get("fatal-after"))
	}
	if c.Retention, err = ParseRetention(get("retention")); err != nil {
		return Config{}, err
	}
	if c.PortalFrameAncestors, err = ParseFrameAncestors(get("portal-frame-ancestors")); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseInterspersed parses fs from args, letting flags follow positional
// arguments (`keys revoke KEY_ID --data-dir d`), which the flag package
// alone stops at. It returns the positional arguments in order; after
// "--" everything is positional.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// FromEnvironment parses args with the process environment.
func FromEnvironment(name string, args []string) (Config, error) {
	return Parse(name, args, os.LookupEnv)
}

func parseBool(key, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not a boolean", key, v)
	}
	return b, nil
}

func (c Config) validate() error {
	if c.EventStore != "embedded" && !strings.HasPrefix(c.EventStore, "esdb://") && !strings.HasPrefix(c.EventStore, "esdb+discover://") && !strings.HasPrefix(c.EventStore, "kurrentdb://") &&
		!strings.HasPrefix(c.EventStore, "postgres://") && !strings.HasPrefix(c.EventStore, "postgresql://") {
		return fmt.Errorf("eventstore: %q is neither \"embedded\" nor an esdb:// or postgres:// URL", c.EventStore)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log-format: %q is not text or json", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown-timeout must be positive")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("public-url: %q is not an http(s) base URL such as https://hooks.example.com", c.PublicURL)
		}
	}
	return nil
}
