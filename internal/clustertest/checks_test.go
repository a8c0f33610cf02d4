package clustertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
	"github.com/webhookd/webhookd/eventstore/postgres"
)

type checkInput struct {
	recv      *receiver
	hooks     []hook
	acked     map[int]string
	faults    []window
	dbURL     string
	latencies []arrival
	instances []*instance
	n         int
	// observerLag is the worst projection lag w2 and w3 showed outside
	// the faults: how far CPU starvation alone held their read models back.
	observerLag time.Duration
}

func inWindow(ws []window, at time.Time) (string, bool) {
	for _, w := range ws {
		if !at.Before(w.start.Add(-time.Second)) && !at.After(w.end) {
			return w.name, true
		}
	}
	return "", false
}

// check asserts every figure the scale-out proof lists and logs each.
func check(t *testing.T, in checkInput) {
	posts, conc := in.recv.snapshot()
	byPair := map[string][]post{}
	for _, p := range posts {
		k := strconv.Itoa(p.webhook) + "/" + p.msgID
		byPair[k] = append(byPair[k], p)
	}
	t.Logf("acknowledged %d of %d messages; the receiver got %d POSTs", len(in.acked), in.n, len(posts))
	if len(in.acked) != in.n {
		t.Errorf("%d messages were never acknowledged", in.n-len(in.acked))
	}

	recorded := recordedAttempts(t, in)
	var unrecorded, outsideFaults, early, afterSuccess, resent int
	perFault := map[string]int{}
	for seq, id := range in.acked {
		h := hookFor(seq)
		ps := byPair[strconv.Itoa(h)+"/"+id]
		sort.Slice(ps, func(i, j int) bool { return ps[i].at.Before(ps[j].at) })
		extra := len(ps) - len(recorded[seq])
		if extra > 0 {
			unrecorded += extra
			for _, p := range ps[len(ps)-extra:] {
				name, ok := inWindow(in.faults, p.at)
				if !ok {
					outsideFaults++
					t.Logf("unrecorded POST outside the fault windows: webhook %d message %s at %s", h, id, p.at.Format(time.StampMilli))
				}
				perFault[name]++
			}
		}
		for i := 1; i < len(ps); i++ {
			prev := ps[i-1]
			if prev.status == http.StatusOK {
				afterSuccess++
				continue
			}
			// The delay runs from when the dispatcher made the previous
			// attempt (its recorded time): the receiver sees it later, by a
			// round trip that a loaded machine makes long.
			base, ok := dispatchedAt(recorded[seq], prev.at)
			if !ok {
				resent++ // prev was never recorded, so nothing scheduled the next
				continue
			}
			want := retrySchedule[min(i, len(retrySchedule)-1)]
			if gap := ps[i].at.Sub(base); gap < want*8/10 {
				early++
				t.Logf("early attempt: webhook %d message %s attempt %d after %s, scheduled %s", h, id, i+1, gap, want)
			}
		}
	}
	bound := 0
	for _, w := range in.faults {
		bound += w.inFlight
		t.Logf("fault %-16s %s .. %s: %d attempts in flight at its start, %d unrecorded POSTs", w.name,
			w.start.Format(time.StampMilli), w.end.Format(time.StampMilli), w.inFlight, perFault[w.name])
	}
	t.Logf("unrecorded POSTs (duplicates or cut off): %d in total, %d outside fault windows; POSTs after a 200: %d; bound (in flight at the faults): %d",
		unrecorded, outsideFaults, afterSuccess, bound)
	if outsideFaults > 0 {
		t.Errorf("%d unrecorded POSTs outside the fault windows", outsideFaults)
	}
	if unrecorded > bound {
		t.Errorf("%d unrecorded POSTs, more than the %d attempts in flight at the faults", unrecorded, bound)
	}
	t.Logf("attempts earlier than 0.8× their delay: %d (resends of unrecorded attempts, which follow no schedule: %d)", early, resent)
	if early > 0 {
		t.Errorf("%d attempts came earlier than 0.8× their scheduled delay", early)
	}

	worst := 0
	for _, h := range in.hooks {
		worst = max(worst, conc[h.index])
		if conc[h.index] > maxConc {
			t.Errorf("webhook %d saw %d concurrent POSTs, cap %d", h.index, conc[h.index], maxConc)
		}
	}
	t.Logf("highest per-webhook concurrency the receiver saw: %d (cap %d)", worst, maxConc)

	checkLatency(t, in)
	checkOrder(t, in)
	compareReadModels(t, in.instances)
}

// dispatchedAt is the recorded time of the attempt the receiver saw
// arrive at at: the latest recorded attempt made up to half a second
// before. There is none for an attempt cut off unrecorded (its resend
// follows no schedule).
func dispatchedAt(recorded []time.Time, at time.Time) (time.Time, bool) {
	var base time.Time
	found := false
	for _, a := range recorded {
		if !a.After(at) && at.Sub(a) < 500*time.Millisecond {
			base, found = a, true
		}
	}
	return base, found
}

// recordedAttempts reads each acknowledged delivery's stream from the
// store: the times of the attempts the log holds, in order.
func recordedAttempts(t *testing.T, in checkInput) map[int][]time.Time {
	ctx := context.Background()
	var s *postgres.Store
	retryConnect(t, func() (err error) {
		s, err = postgres.Open(ctx, withPool(in.dbURL, 2), postgres.Options{SweepInterval: -1})
		return err
	})
	defer s.Close()
	codec := eventstore.NewCodec()
	domain.RegisterEvents(codec)
	collect := func(ats []time.Time, ev eventstore.Event) []time.Time {
		for _, part := range domain.DeliveryEventParts(ev) {
			if a, ok := part.(domain.DeliveryAttempted); ok {
				ats = append(ats, a.At)
			}
		}
		return ats
	}
	out := map[int][]time.Time{}
	for seq, id := range in.acked {
		stream := domain.DeliveryStream(domain.DeliveryIDFor(id, in.hooks[hookFor(seq)].id))
		ats, _, err := aggregate.Load(ctx, s, codec, stream, collect)
		if err != nil {
			t.Fatal(err)
		}
		out[seq] = ats
	}
	return out
}

// compareReadModels digests every bucket of each stopped instance's read
// model and compares them.
func compareReadModels(t *testing.T, ins []*instance) {
	digests := make([]map[string]string, len(ins))
	for i, in := range ins {
		db, err := bbolt.Open(filepath.Join(in.dir, "readmodel.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		digests[i] = map[string]string{}
		_ = db.View(func(tx *bbolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
				if string(name) == "checkpoints" || string(name) == "operational" {
					// How far each applied the log (instances stopped one
					// after another, and each stop appends its lease
					// releases, which no read model shows), and how far each
					// one's operational reactor got: neither is a read model.
					return nil
				}
				h := sha256.New()
				_ = b.ForEach(func(k, v []byte) error { h.Write(k); h.Write([]byte{0}); h.Write(v); h.Write([]byte{0}); return nil })
				digests[i][string(name)] = hex.EncodeToString(h.Sum(nil))[:16]
				return nil
			})
		})
		db.Close()
	}
	all := hex.EncodeToString(sha256.New().Sum(nil))
	for i := range ins {
		names := make([]string, 0, len(digests[i]))
		for n := range digests[i] {
			names = append(names, n)
		}
		sort.Strings(names)
		h := sha256.New()
		for _, n := range names {
			h.Write([]byte(n + "=" + digests[i][n] + ";"))
		}
		d := hex.EncodeToString(h.Sum(nil))[:16]
		t.Logf("read model digest of %s: %s (%d buckets)", ins[i].name, d, len(names))
		if i == 0 {
			all = d
			continue
		}
		if d != all {
			for _, n := range names {
				if digests[i][n] != digests[0][n] {
					t.Errorf("read model bucket %s differs between %s and %s", n, ins[0].name, ins[i].name)
				}
			}
		}
	}
}
