package delivery

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
	"github.com/webhookd/webhookd/projections/due"
)

// maxBatchScan bounds how many owed entries one look at a batched lane
// reads from the due index: enough for every free slot's batch.
const maxBatchScan = 1000

// startBatches is startLane for a batched webhook: it forms up to free
// batches from what is owed (formBatches) and starts each as one request
// in flight, holding every member. It returns when to look again: when
// the next entry falls due, or when a batch still filling has waited its
// longest.
func (d *Dispatcher) startBatches(l *lane, view app.WebhookView, now time.Time, free int) time.Time {
	b := view.Batching
	entries, next, err := d.Due.For(view.ID, now, min(free*b.MaxEvents, maxBatchScan), d.isInFlight)
	if err != nil {
		d.Logger.Error("dispatcher: read due index", "webhook", view.ID, "err", err)
		return now.Add(time.Second)
	}
	batches, fillBy := formBatches(entries, b, now, free)
	if !fillBy.IsZero() && (next.IsZero() || fillBy.Before(next)) {
		next = fillBy
	}
	for _, members := range batches {
		if wait := d.holdForRateLimit(l, view, now); wait > 0 {
			return now.Add(wait)
		}
		d.mu.Lock()
		l.inflight++
		d.running++
		for _, e := range members {
			d.setHold(e.DeliveryID, hold{running: true, lane: view.ID})
		}
		d.mu.Unlock()
		d.workers.Add(1)
		d.pool.run(func() { d.attemptBatch(l, view, members) })
	}
	return next
}

// formBatches groups owed entries (in due order) into at most free
// batches of at most b.MaxEvents. The retries of a batch that failed go
// together again: their entries carry its ID, and they fell due at the
// same moment, since the members of one round share the attempt's time
// and jitter draw. Everything else (first attempts, redeliveries,
// retries of single attempts) fills fresh batches in due order. A fresh
// batch short of MaxEvents waits for company until its oldest entry has
// waited MaxWaitMs, and fillBy says when that is; a retried batch never
// waits, as nothing may join it. Members go in publication order.
func formBatches(entries []due.DueEntry, b domain.Batching, now time.Time, free int) (batches [][]due.DueEntry, fillBy time.Time) {
	taken := make([]bool, len(entries))
	for i, head := range entries {
		if taken[i] || len(batches) >= free {
			continue
		}
		if head.Test {
			// a redelivered test send goes alone, flagged as a test
			batches, taken[i] = append(batches, []due.DueEntry{head}), true
			continue
		}
		var members []due.DueEntry
		for j := i; j < len(entries) && len(members) < b.MaxEvents; j++ {
			if !taken[j] && !entries[j].Test && entries[j].Batch == head.Batch {
				members, taken[j] = append(members, entries[j]), true
			}
		}
		if head.Batch == "" && len(members) < b.MaxEvents {
			if ready := head.DueAt.Add(time.Duration(b.MaxWaitMs) * time.Millisecond); now.Before(ready) {
				return batches, ready
			}
		}
		// Publication order, the same on every send of the same set:
		// retries keep the position that queued them.
		slices.SortStableFunc(members, func(a, b due.DueEntry) int {
			return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.DeliveryID, b.DeliveryID))
		})
		batches = append(batches, members)
	}
	return batches, time.Time{}
}

// attemptBatch makes one batch request and records it on every member,
// as attempt does for one delivery.
func (d *Dispatcher) attemptBatch(l *lane, view app.WebhookView, members []due.DueEntry) {
	defer d.workers.Done()
	ctx, cancel := context.WithTimeout(context.Background(), attemptGrace)
	defer cancel()
	done := d.attemptBatchOnce(ctx, view, members)
	for _, m := range done {
		if m.err != nil {
			d.Logger.Error("dispatcher: batch attempt not recorded; it stays due", "delivery", m.deliveryID, "webhook", view.ID, "sent", m.out.sent, "err", m.err)
		}
	}
	d.finishRequest(l, done)
}

// batchMember is a member's state as read before the batch is sent.
type batchMember struct {
	entry   due.DueEntry
	state   domain.DeliveryState // as read, before any scheduling
	version uint64
	pos     eventstore.Position
	sentAt  int // the delivery's attempt count when the batch was sent
}

// attemptBatchOnce is attemptOnce for a batch: it reads every member's
// stream, keeps those the stream shows due (a stale index entry is never
// sent), sends them in one signed POST whose body is the JSON array of
// their envelopes, and records the attempt on every member it sent, each
// at its own expected revision, in one batch append (aggregate.HandleMany).
// Each member's outcome is decided by the same DecideDelivery as a single
// attempt. A member whose append lost its race is decided again on its
// fresh stream, and records nothing twice.
func (d *Dispatcher) attemptBatchOnce(ctx context.Context, view app.WebhookView, members []due.DueEntry) []finished {
	done := make([]finished, len(members))
	var sending []batchMember
	var sendingAt []int // index in done
	for i, e := range members {
		done[i].deliveryID = e.DeliveryID
		m, ok, err := d.readMember(ctx, e, &done[i].out)
		switch {
		case err != nil:
			done[i].err = err
		case ok:
			sending, sendingAt = append(sending, m), append(sendingAt, i)
		}
	}
	if len(sending) == 0 {
		return done
	}
	sending, bodies, err := d.fitBatch(ctx, sending)
	if err != nil {
		for _, i := range sendingAt {
			done[i].err = err
		}
		return done
	}
	sendingAt = sendingAt[:len(sending)] // the rest stay due for the next batch
	res, sentAt, batchID, err := d.sendBatch(ctx, view, sending, bodies)
	if err != nil {
		for _, i := range sendingAt {
			done[i].err = err
		}
		return done
	}
	if res.NotSent {
		return done // the lease lapsed at the last moment: nothing went out
	}
	rand := d.Rand() // one draw: members of one round fall due together again
	cmds := make([]aggregate.Command[domain.DeliveryState], len(sending))
	for k, m := range sending {
		done[sendingAt[k]].out.res, done[sendingAt[k]].out.sent = res, true
		cmds[k] = aggregate.Command[domain.DeliveryState]{
			Stream: domain.DeliveryStream(m.entry.DeliveryID), State: m.state, Version: m.version, Position: m.pos,
			Decide: d.recordBatchMember(view, m, res, sentAt, rand, batchID, len(sending)),
		}
	}
	for k, o := range aggregate.HandleMany(ctx, d.Store, d.Codec, domain.EvolveDelivery, cmds) {
		f := &done[sendingAt[k]]
		f.out.seen, f.err = o.Result.Position, o.Err
		if o.Err == nil && o.Result.Appended() {
			f.out.recorded = o.Result.Append.Position
			f.out.verdict = d.observe(ctx, view, sending[k].entry, res, o.Result.Events)
		}
	}
	return done
}

// readMember reads a member's delivery stream (from its entry's snapshot
// when it has one) and reports whether it is to be sent now; out gets
// what the lane needs to hold it when it is not.
func (d *Dispatcher) readMember(ctx context.Context, e due.DueEntry, out *attempted) (batchMember, bool, error) {
	var opts []aggregate.Option
	if snap := e.Snapshot; snap != nil && snap.State.ID == e.DeliveryID {
		opts = append(opts, aggregate.FromSnapshot(snap.State, snap.State.Version, snap.Position))
	}
	s, r, err := aggregate.Load(ctx, d.Store, d.Codec, domain.DeliveryStream(e.DeliveryID), domain.EvolveDelivery, opts...)
	out.seen = r.Position
	if err != nil {
		return batchMember{}, false, err
	}
	m := batchMember{entry: e, state: s, version: r.Version, pos: r.Position}
	_, scheduled, err := scheduleFirst(s, e, d.Now())
	if err != nil {
		return m, false, err
	}
	switch {
	case scheduled.Final():
		return m, false, nil // finished meanwhile; the index will catch up
	case !scheduled.Due(d.Now()):
		out.notDueUntil = scheduled.NextAttemptAt
		return m, false, nil
	case !d.owns(e.WebhookID):
		return m, false, nil // the lease lapsed since the lane was examined
	}
	m.sentAt = scheduled.Attempts
	return m, true, nil
}

// recordBatchMember is the decision of one member's record: the
// scheduling of a first attempt and the attempt itself, unless another
// writer recorded an attempt since the batch was sent.
func (d *Dispatcher) recordBatchMember(view app.WebhookView, m batchMember, res Result, at time.Time, rand float64, batchID string, size int) func(domain.DeliveryState) ([]eventstore.Event, error) {
	return func(stored domain.DeliveryState) ([]eventstore.Event, error) {
		schedule, s, err := scheduleFirst(stored, m.entry, d.Now())
		if err != nil {
			return nil, err
		}
		if s.Final() || s.Attempts != m.sentAt {
			return nil, nil // finished, or recorded by another instance
		}
		return domain.DecideDelivery(stored, domain.RecordAttempt{
			Outcome: res.Outcome, Latency: res.Latency, ErrorMessage: res.ErrorMessage,
			ResponseExcerpt: res.Excerpt, RequestHeaders: res.RequestHeaders, Rand: rand,
			Policy: view.RetryPolicy(d.RetryPolicy), BatchID: batchID, BatchSize: size,
			Schedule: schedule,
		}, at)
	}
}

// maxBatchBody bounds a batch's request body: members past it wait for
// the next batch. A single envelope larger than that (events carry up to
// 256 KiB of data) still goes, alone.
const maxBatchBody = 1 << 20

// fitBatch reads the members' envelopes, in order, and keeps the members
// whose envelopes fit in maxBatchBody together (always the first). The
// members left out were not sent: they stay due, and the lane, woken by
// the batch's finish, takes them into the next one.
func (d *Dispatcher) fitBatch(ctx context.Context, members []batchMember) ([]batchMember, [][]byte, error) {
	envelopes := make([][]byte, 0, len(members))
	size := 2 // the array's brackets
	for i, m := range members {
		env, err := d.body(ctx, m.entry.MessageID, domain.BodyFormatJSON)
		if err != nil {
			return nil, nil, err
		}
		env = bytes.TrimSpace(env)
		if i > 0 && size+1+len(env) > maxBatchBody {
			return members[:i], envelopes, nil
		}
		size += len(env) + 1
		envelopes = append(envelopes, env)
	}
	return members, envelopes, nil
}

// sendBatch makes the batch's one request: the members' envelopes, each
// exactly as a single delivery sends it, in a JSON array, signed over
// those bytes with the batch's ID as webhook-id.
func (d *Dispatcher) sendBatch(ctx context.Context, view app.WebhookView, members []batchMember, envelopes [][]byte) (Result, time.Time, string, error) {
	ids := make([]string, len(members))
	body := []byte{'['}
	for i, m := range members {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, envelopes[i]...)
		ids[i] = m.entry.DeliveryID
	}
	body = append(body, ']')
	batchID := domain.BatchID(ids)
	now := d.Now()
	ctx, span, traceparent := d.traceAttempt(ctx, view, members[0].entry)
	res := d.Sender.Send(ctx, Request{
		URL: view.URL, MessageID: batchID, Timestamp: now, Body: body, BatchSize: len(members), Test: members[0].entry.Test,
		Secrets: view.SigningSecrets(now), Headers: view.Headers, ContentType: domain.BodyFormatJSON.ContentType(),
		Timeout: view.Retry.AttemptTimeout(), Traceparent: traceparent, MayStart: d.mayStart(true, view.ID),
	})
	endAttemptSpan(span, res)
	return res, now, batchID, nil
}
