package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

const (
	accounts = 10 // × 5 types = 50 webhooks, each message matches exactly one
	maxConc  = 2
	leaseTTL = 3 * time.Second
	// poolPerInstance is each instance's PostgreSQL pool size.
	poolPerInstance = 8
)

// retrySchedule is the short schedule the instances run with.
var retrySchedule = []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}

// window is a stretch of time around a fault.
type window struct {
	name       string
	start, end time.Time
	inFlight   int // attempts in flight at the faulted instance when it began
}

// TestCluster runs three instances on one PostgreSQL and Redis under load
// with faults, then checks what the receiver saw against the log.
// WEBHOOKD_CLUSTER_MESSAGES and WEBHOOKD_CLUSTER_RATE size the load
// (20,000 at 500/s; -short: 3,000 at 100/s).
func TestCluster(t *testing.T) {
	n, rate := envInt("WEBHOOKD_CLUSTER_MESSAGES", 20000), envInt("WEBHOOKD_CLUSTER_RATE", 500)
	if testing.Short() {
		n, rate = envInt("WEBHOOKD_CLUSTER_MESSAGES", 3000), envInt("WEBHOOKD_CLUSTER_RATE", 100)
	}
	dbURL, redis := postgresDatabase(t), redisURL(t)
	bin := buildBinary(t)
	recv := newReceiver(t)
	px := newProxy(t, "127.0.0.1:5432")
	flags := []string{"--lease-ttl", leaseTTL.String(), "--partitions", "16", "--retry-schedule", "0,1s,2s,4s,8s,16s,30s"}
	// Each instance's pool is capped: three of the default 32 would take
	// nearly all of a stock server's 100 connections, which this test
	// shares with anything else running on it.
	instURL := withPool(dbURL, poolPerInstance)
	ins := []*instance{
		newInstance(t, bin, "w1", instURL, redis, flags...),
		newInstance(t, bin, "w2", instURL, redis, flags...),
		newInstance(t, bin, "w3", withHost(instURL, px.Addr()), redis, flags...),
	}
	for _, in := range ins {
		in.start()
	}
	pubKey := ins[0].createKey("acc-0", "publisher")
	hooks, keys := createHooks(t, ins[0], recv, accounts, maxConc)
	orderHooks(t, ins[0], hooks, keys)
	lat := watchUpdates(t, ins[1:], keys[0])
	lag := watchLag(t, ins)

	l := newLoad(ins, pubKey, accounts)
	loadDone := make(chan struct{})
	began := time.Now()
	go func() { defer close(loadDone); l.run(n, rate) }()
	d := time.Duration(n/rate) * time.Second
	faults := runFaults(t, ins, l, px, recv, began, d)
	<-loadDone
	t.Logf("load: %d messages at %d/s took %s", n, rate, time.Since(began).Round(time.Millisecond))

	acked := l.acknowledged()
	waitDelivered(t, recv, hooks, acked, 2*time.Minute, dbURL)
	lag.report(t, faults)
	for _, in := range ins {
		if err := in.stop(); err != nil {
			t.Errorf("graceful stop of %s: %v", in.name, err)
		}
	}
	check(t, checkInput{recv: recv, hooks: hooks, acked: acked, faults: faults, dbURL: dbURL, latencies: lat.values(), instances: ins, n: n,
		observerLag: lag.worst(faults, "w2", "w3")})
}

// runFaults SIGKILLs w1 at a fifth of the load and restarts it, SIGSTOPs
// w2 for 15 s at two fifths, and cuts w3's store connection for 5 s at
// four fifths, checking /readyz on w3 during the cut.
func runFaults(t *testing.T, ins []*instance, l *load, px *proxy, recv *receiver, began time.Time, d time.Duration) []window {
	var out []window
	at := func(frac float64) { time.Sleep(time.Until(began.Add(time.Duration(frac * float64(d))))) } // the fault schedule
	inflight := func(in *instance) int {
		v, _ := strconv.ParseFloat(in.metric("webhookd_delivery_in_flight"), 64)
		return max(int(v), recv.inFlight())
	}

	at(0.2)
	w := window{name: "SIGKILL w1", start: time.Now(), inFlight: inflight(ins[0])}
	l.up[0].Store(false)
	ins[0].kill()
	ins[0].start()
	l.up[0].Store(true)
	w.end = time.Now().Add(2 * leaseTTL)
	out = append(out, w)

	at(0.4)
	w = window{name: "SIGSTOP w2 15s", start: time.Now(), inFlight: inflight(ins[1])}
	l.up[1].Store(false)
	ins[1].signal(syscall.SIGSTOP)
	time.Sleep(15 * time.Second) // the fault's length
	ins[1].signal(syscall.SIGCONT)
	l.up[1].Store(true)
	w.end = time.Now().Add(2 * leaseTTL)
	out = append(out, w)

	at(0.8)
	w = window{name: "cut w3 store 5s", start: time.Now(), inFlight: inflight(ins[2])}
	l.up[2].Store(false)
	px.Cut()
	notReady := false
	for cutEnd := time.Now().Add(5 * time.Second); time.Now().Before(cutEnd); time.Sleep(100 * time.Millisecond) {
		if ins[2].readyz() == http.StatusServiceUnavailable {
			notReady = true
		}
	}
	px.Heal()
	ins[2].waitReady(30 * time.Second)
	l.up[2].Store(true)
	w.end = time.Now().Add(2 * leaseTTL)
	out = append(out, w)
	t.Logf("/readyz on w3 during the cut: 503 seen = %v", notReady)
	if !notReady {
		t.Error("/readyz on the cut-off instance never answered 503 during the cut")
	}
	return out
}

// waitDelivered waits until every acknowledged message got a 200 from its
// one matching webhook. When some never do, it says which webhooks they
// belong to and, for the first few, what the log holds of their delivery
// and what the receiver got, so a loss can be told from slowness.
func waitDelivered(t *testing.T, recv *receiver, hooks []hook, acked map[int]string, timeout time.Duration, dbURL string) {
	deadline := time.Now().Add(timeout)
	for {
		posts, _ := recv.snapshot()
		ok := map[string]bool{}
		for _, p := range posts {
			if p.status == http.StatusOK {
				ok[strconv.Itoa(p.webhook)+"/"+p.msgID] = true
			}
		}
		var missing []int // seqs
		for seq, id := range acked {
			if !ok[strconv.Itoa(hookFor(seq))+"/"+id] {
				missing = append(missing, seq)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages not delivered after %s\n%s", len(missing), len(acked), timeout,
				describeMissing(t, dbURL, hooks, acked, missing, posts))
		}
		time.Sleep(200 * time.Millisecond) // polling the receiver with a deadline
	}
}

// describeMissing says, of undelivered messages, how many each webhook
// lacks and, for the first five, their delivery stream's event types and
// the statuses the receiver answered them.
func describeMissing(t *testing.T, dbURL string, hooks []hook, acked map[int]string, missing []int, posts []post) string {
	sort.Ints(missing)
	perHook := map[int]int{}
	for _, seq := range missing {
		perHook[hookFor(seq)]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "missing per webhook: %v\n", perHook)
	c := connectDirect(t, dbURL)
	defer c.Close(context.Background())
	for _, seq := range missing[:min(5, len(missing))] {
		h, id := hookFor(seq), acked[seq]
		stream := domain.DeliveryStream(domain.DeliveryIDFor(id, hooks[h].id))
		var types []string
		rows, err := c.Query(context.Background(), `SELECT type FROM webhookd_events WHERE stream = $1 ORDER BY revision`, stream)
		if err == nil {
			for rows.Next() {
				var typ string
				if rows.Scan(&typ) == nil {
					types = append(types, typ)
				}
			}
			rows.Close()
		}
		var answered []int
		for _, p := range posts {
			if p.webhook == h && p.msgID == id {
				answered = append(answered, p.status)
			}
		}
		fmt.Fprintf(&b, "message %d (%s) to webhook %d: log %v, receiver answered %v\n", seq, id, h, types, answered)
	}
	return b.String()
}

// hookFor is the index of the one webhook message seq matches (see
// load.run and createHooks).
func hookFor(seq int) int {
	a := seq % accounts
	k := (seq / accounts) % len(hookTypes)
	return a*len(hookTypes) + k
}
