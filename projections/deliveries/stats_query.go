package deliveries

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
)

// StatsView summarises a webhook's attempts over a window. Failed counts
// attempts that did not succeed (so Attempts = Succeeded + Failed), which
// includes attempts later retried successfully.
type StatsView struct {
	From, To    time.Time
	Attempts    int
	Succeeded   int
	Failed      int
	SuccessRate float64 // Succeeded/Attempts; 0 when there were no attempts
	// P50 and P95 are attempt latencies interpolated within the histogram
	// bucket they fall in, so they are exact to about ±20%.
	P50, P95 time.Duration
	// Step is the width of each Series point: a minute for windows up to
	// two hours, an hour up to two days, a day beyond.
	Step   time.Duration
	Series []MinutePoint
}

// MinutePoint is one step of a stats series. Steps with no attempts are
// present with zero counts, so a chart needs no gap filling.
type MinutePoint struct {
	At        time.Time // start of the step
	Attempts  int
	Succeeded int
	Failed    int
	P95       time.Duration
}

// seriesStep picks a point width that keeps a series between a few dozen
// and a few hundred points for the windows the UI offers.
func seriesStep(window time.Duration) time.Duration {
	switch {
	case window <= 2*time.Hour:
		return time.Minute
	case window <= 48*time.Hour:
		return time.Hour
	default:
		return 24 * time.Hour
	}
}

// Stats returns the attempt statistics of the account's webhook webhookID
// for minutes in [from, to). Bounds are truncated to the minute (and the
// series start to its step). Another account's webhook reads as one with
// no attempts.
func Stats(db *bbolt.DB, account, webhookID string, from, to time.Time) (StatsView, error) {
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	if !to.After(from) {
		return StatsView{}, domain.FieldErrorf(domain.EINVALID, "window", "the window must end after it starts")
	}
	view := StatsView{From: from, To: to, Step: seriesStep(to.Sub(from))}
	seriesStart := from.Truncate(view.Step)
	points := int((to.Sub(seriesStart) + view.Step - 1) / view.Step)
	view.Series = make([]MinutePoint, points)
	perPoint := make([]minuteStats, points)
	var total minuteStats
	err := db.View(func(tx *bbolt.Tx) error {
		if string(tx.Bucket(bucketStatsOwners).Get([]byte(webhookID))) != account {
			return nil
		}
		c := tx.Bucket(bucketStats).Cursor()
		end := statsKey(webhookID, to)
		for k, v := c.Seek(statsKey(webhookID, from)); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
			m, err := decodeMinuteStats(v)
			if err != nil {
				return err
			}
			at := time.Unix(int64(binary.BigEndian.Uint64(k[len(k)-8:])), 0).UTC()
			total.add(m)
			perPoint[int(at.Sub(seriesStart)/view.Step)].add(m)
		}
		return nil
	})
	if err != nil {
		return StatsView{}, err
	}
	view.Attempts, view.Succeeded = int(total.Attempts), int(total.Succeeded)
	view.Failed = view.Attempts - view.Succeeded
	if view.Attempts > 0 {
		view.SuccessRate = float64(view.Succeeded) / float64(view.Attempts)
	}
	view.P50, view.P95 = latencyQuantile(total.Latency, 0.50), latencyQuantile(total.Latency, 0.95)
	for i, m := range perPoint {
		view.Series[i] = MinutePoint{
			At:       seriesStart.Add(time.Duration(i) * view.Step),
			Attempts: int(m.Attempts), Succeeded: int(m.Succeeded), Failed: int(m.Attempts - m.Succeeded),
			P95: latencyQuantile(m.Latency, 0.95),
		}
	}
	return view, nil
}

// latencyQuantile estimates quantile q of a histogram, interpolating
// geometrically inside the bucket holding it (linearly in bucket 0, which
// starts at zero). An empty histogram gives 0.
func latencyQuantile(h [latencyBuckets]uint64, q float64) time.Duration {
	var n uint64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var below float64
	for i, c := range h {
		if c == 0 || below+float64(c) < rank {
			below += float64(c)
			continue
		}
		frac := (rank - below) / float64(c)
		upper := float64(latencyBounds[i])
		if i == 0 {
			return time.Duration(frac * upper)
		}
		lower := float64(latencyBounds[i-1])
		return time.Duration(lower * math.Pow(upper/lower, frac))
	}
	return latencyMax
}
