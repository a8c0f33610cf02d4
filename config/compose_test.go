package config

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestComposeFileUsesKnownKeys keeps docker-compose.yml from rotting: every
// WEBHOOKD_* variable it sets must be a key the binary reads.
func TestComposeFileUsesKnownKeys(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Tmpfs       []string          `yaml:"tmpfs"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("parse docker-compose.yml: %v", err)
	}
	svc, ok := compose.Services["webhookd"]
	if !ok {
		t.Fatal("docker-compose.yml has no webhookd service")
	}
	known := EnvNames()
	seen := 0
	for name := range svc.Environment {
		if !strings.HasPrefix(name, "WEBHOOKD_") {
			continue
		}
		seen++
		if !known[name] {
			t.Errorf("docker-compose.yml sets %s, which webhookd does not read", name)
		}
	}
	if seen == 0 {
		t.Error("docker-compose.yml sets no WEBHOOKD_* variable for webhookd")
	}
	// Every instance gets its own data directory, writable by the image's
	// user (distroless nonroot, 65532): a tmpfs per container.
	for _, name := range []string{"webhookd", "webhookd-esdb"} {
		if !slices.ContainsFunc(compose.Services[name].Tmpfs, func(m string) bool { return strings.HasPrefix(m, svc.Environment["WEBHOOKD_DATA_DIR"]+":uid=65532") }) {
			t.Errorf("%s has no tmpfs data directory owned by uid 65532", name)
		}
		for env := range compose.Services[name].Environment {
			if strings.HasPrefix(env, "WEBHOOKD_") && !known[env] {
				t.Errorf("docker-compose.yml sets %s on %s, which webhookd does not read", env, name)
			}
		}
	}
	for _, need := range []string{"postgres", "eventstore", "redis"} {
		if _, ok := compose.Services[need]; !ok {
			t.Errorf("docker-compose.yml lacks the %s service", need)
		}
	}
	if _, err := Parse("serve", nil, func(k string) (string, bool) { v, ok := svc.Environment[k]; return v, ok }); err != nil {
		t.Errorf("the compose environment is not a valid configuration: %v", err)
	}
}
