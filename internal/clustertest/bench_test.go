package clustertest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkClusterDeliveries measures end-to-end deliveries per second of
// 1 and of 3 webhookd processes on one PostgreSQL, in one run, and the CPU
// each delivery costs the webhookd processes (user + system time of the
// children, from /proc/PID/stat, over the measured window; PostgreSQL's
// own CPU is not in it). Each message matches one of 50 webhooks, whose
// receiver answers 200 at once; the messages are published through
// /v1/events in batches of 100 from 4 publishers spread over the
// instances, as fast as they are accepted. WEBHOOKD_BENCH_CLUSTER_MESSAGES
// sets how many (5,000). Run it with -benchtime 1x: one measurement is
// one whole cluster run.
func BenchmarkClusterDeliveries(b *testing.B) {
	n := envInt("WEBHOOKD_BENCH_CLUSTER_MESSAGES", 5000)
	bin := buildBinary(b)
	for _, size := range []int{1, 3} {
		b.Run(strconv.Itoa(size)+"-instances", func(b *testing.B) {
			for b.Loop() {
				rate, cpu := clusterRun(b, bin, size, n)
				b.ReportMetric(rate, "deliveries/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/delivery")
			}
		})
	}
}

// clusterRun starts size instances on a fresh database, publishes n
// messages and returns deliveries per second and the children's CPU,
// both from the first publish to the last 200.
func clusterRun(b *testing.B, bin string, size, n int) (float64, time.Duration) {
	dbURL, redis := postgresDatabase(b), redisURL(b)
	recv := newReceiver(b)
	recv.plain = true
	ins := make([]*instance, size)
	for i := range ins {
		ins[i] = newInstance(b, bin, "w"+strconv.Itoa(i+1), withPool(dbURL, poolPerInstance), redis,
			"--lease-ttl", leaseTTL.String(), "--partitions", "16", "--log-level", "warn")
		ins[i].start()
	}
	pubKey := ins[0].createKey("acc-0", "publisher")
	createHooks(b, ins[0], recv, accounts, maxConc)
	waitSpread(b, ins)
	before := childrenCPU(b, ins)
	began := time.Now()
	publish(b, ins, pubKey, n)
	deadline := time.Now().Add(10 * time.Minute)
	for recv.delivered() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered after 10 minutes", recv.delivered(), n)
		}
		time.Sleep(20 * time.Millisecond) // polling the receiver with a deadline
	}
	took := time.Since(began)
	cpu := childrenCPU(b, ins) - before
	b.Logf("%d instances: %d deliveries in %s: %.0f/s, %s CPU of webhookd per delivery",
		size, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), (cpu / time.Duration(n)).Round(time.Microsecond))
	for _, in := range ins {
		_ = in.stop()
	}
	return float64(n) / took.Seconds(), cpu
}

// waitSpread waits until every instance owns a share of the partitions,
// so the measurement starts with the cluster settled.
func waitSpread(b *testing.B, ins []*instance) {
	deadline := time.Now().Add(time.Minute)
	for {
		settled := true
		for _, in := range ins {
			v, _ := strconv.Atoi(in.metric("webhookd_partitions_owned"))
			settled = settled && v > 0 && v <= (16+len(ins)-1)/len(ins)
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("partitions not spread over the instances within a minute")
		}
		time.Sleep(100 * time.Millisecond) // polling the instances with a deadline
	}
}

// publish sends n messages (message i matches webhook hookFor(i)) in
// batches of 100 from 4 publishers, round robin over the instances.
func publish(b *testing.B, ins []*instance, key string, n int) {
	const batch, publishers = 100, 4
	l := newLoad(ins, key, accounts)
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for seq := p * batch; seq < n; seq += publishers * batch {
				var body strings.Builder
				for i := seq; i < min(seq+batch, n); i++ {
					fmt.Fprintf(&body, `{"id":"m-%d","account":"acc-%d","type":"%s","data":{"n":%d}}`+"\n",
						i, i%accounts, hookTypes[(i/accounts)%len(hookTypes)], i)
				}
				if _, err := l.send(client, ins[(seq/batch)%len(ins)], []byte(body.String())); err != nil {
					b.Errorf("publish batch at %d: %v", seq, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// childrenCPU sums user and system time of the instances' processes.
func childrenCPU(b *testing.B, ins []*instance) time.Duration {
	var total time.Duration
	for _, in := range ins {
		raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(in.cmd.Process.Pid), "stat"))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the command name (which may hold spaces) start at
		// state, field 3; utime and stime are fields 14 and 15.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * time.Second / clockTicks
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100
