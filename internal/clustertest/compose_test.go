package clustertest

import (
	"net/url"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestComposeTopology runs docker-compose.yml's webhookd service as three
// local processes, with the service's own environment, and checks that
// they share the partitions evenly and deliver everything. No Docker engine runs
// here, so the image and the compose runtime are not exercised; what is,
// is the configuration the compose file gives each instance. Only what
// names the compose network is replaced: the store and Redis addresses,
// the listen address and the data directory (each instance its own, as the
// tmpfs gives it), plus WEBHOOKD_ALLOW_CIDRS for the loopback receiver.
func TestComposeTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three services; skipped with -short")
	}
	dbURL, redis := postgresDatabase(t), redisURL(t)
	env := composeEnvironment(t, "webhookd")
	bin := buildBinary(t)
	recv := newReceiver(t)
	var ins []*instance
	for i := range 3 {
		in := newInstance(t, bin, "compose-"+strconv.Itoa(i+1), "", "")
		in.args = []string{"serve"} // the image's entrypoint: /webhookd serve
		in.env = composeInstanceEnv(t, env, dbURL, redis, in)
		in.start()
		ins = append(ins, in)
	}
	partitions, _ := strconv.Atoi(env["WEBHOOKD_PARTITIONS"])
	shared := func() (owned []int, ok bool) {
		total := 0
		for _, in := range ins {
			n, _ := strconv.ParseFloat(in.metric("webhookd_partitions_owned"), 64)
			owned = append(owned, int(n))
			total += int(n)
		}
		sorted := append([]int(nil), owned...)
		sort.Ints(sorted)
		fair := (partitions + len(ins) - 1) / len(ins)
		return owned, total == partitions && sorted[len(sorted)-1] <= fair
	}
	began := time.Now()
	deadline := began.Add(2 * time.Minute)
	for {
		owned, ok := shared()
		if ok {
			t.Logf("partitions owned per instance: %v of %d, balanced %s after the last instance started", owned, partitions, time.Since(began).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %d partitions were not shared by the three instances: %v", partitions, owned)
		}
		time.Sleep(250 * time.Millisecond) // polling the instances' metrics with a deadline
	}

	pubKey := ins[0].createKey("acc-0", "publisher")
	hooks, _ := createHooks(t, ins[0], recv, accounts, maxConc)
	l := newLoad(ins, pubKey, accounts)
	const n = 1000
	l.run(n, 200)
	acked := l.acknowledged()
	if len(acked) != n {
		t.Fatalf("%d of %d messages acknowledged", len(acked), n)
	}
	waitDelivered(t, recv, hooks, acked, time.Minute, dbURL)
	posts, _ := recv.snapshot()
	t.Logf("%d messages, %d POSTs across the three instances", n, len(posts))
	for _, in := range ins {
		if err := in.stop(); err != nil {
			t.Errorf("graceful stop of %s: %v", in.name, err)
		}
	}
}

// composeEnvironment returns the environment docker-compose.yml gives the
// service.
func composeEnvironment(t *testing.T, service string) map[string]string {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("parse docker-compose.yml: %v", err)
	}
	svc, ok := compose.Services[service]
	if !ok || len(svc.Environment) == 0 {
		t.Fatalf("docker-compose.yml has no %s service with an environment", service)
	}
	return svc.Environment
}

// composeInstanceEnv is env with the compose network's names replaced by
// this machine's: the store URL keeps its query and path's role but points
// at the test's database; Redis, the address and the data directory are
// the instance's.
func composeInstanceEnv(t *testing.T, env map[string]string, dbURL, redis string, in *instance) []string {
	store, err := url.Parse(env["WEBHOOKD_EVENTSTORE"])
	if err != nil || store.Scheme != "postgres" {
		t.Fatalf("docker-compose.yml's WEBHOOKD_EVENTSTORE %q is not a postgres URL", env["WEBHOOKD_EVENTSTORE"])
	}
	local, _ := url.Parse(withPool(dbURL, poolPerInstance))
	q := local.Query()
	for k, v := range store.Query() {
		q[k] = v
	}
	local.RawQuery = q.Encode()
	out := []string{"WEBHOOKD_ALLOW_CIDRS=127.0.0.0/8"}
	for k, v := range env {
		switch k {
		case "WEBHOOKD_EVENTSTORE":
			v = local.String()
		case "WEBHOOKD_REDIS_URL":
			v = redis
		case "WEBHOOKD_ADDR":
			v = in.addr
		case "WEBHOOKD_DATA_DIR":
			v = in.dir
		}
		out = append(out, k+"="+v)
	}
	return out
}
