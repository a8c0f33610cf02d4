package delivery

import (
	"container/heap"
	"context"
	"github.com/webhookd/webhookd/app"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/tracing"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/ratelimit"
)

// Disabler disables a webhook on webhookd's own initiative (410 Gone, or
// five days of failures). app.App implements it.
type Disabler interface {
	DisableWebhook(ctx context.Context, webhookID, reason string) error
}

// RateLimitObserver hears of every time a lane waits on its webhook's
// rate limit (operational.RateLimits reports sustained limiting).
type RateLimitObserver interface {
	RateLimited(view app.WebhookView, now time.Time)
}

// PositionReader reports how far the read models have applied the log.
type PositionReader interface {
	Position() eventstore.Position
}

// Dispatcher sends owed attempts. Each webhook has its own lane: a
// concurrency cap, a rate limit and a slow-down, so a slow or dead endpoint
// never delays the others. Pending deliveries stay in the due index on
// disk; the dispatcher holds only in-flight attempts in memory.
type Dispatcher struct {
	Store eventstore.Store
	Codec *eventstore.Codec
	// Due is the due index it works from; Webhooks finds the webhooks it
	// delivers to. Neither is bbolt: the read model sits behind them.
	Due      due.Reader
	Webhooks app.WebhookLookup
	Progress PositionReader
	Sender   *Sender
	Limiter  ratelimit.Limiter
	Disabler Disabler
	Metrics  *Metrics
	Logger   *slog.Logger
	Now      func() time.Time
	Rand     func() float64
	// MaxInFlight caps attempts in flight across all webhooks.
	MaxInFlight int
	// StoreBackoff is how long dispatch pauses when the store refuses to
	// record an attempt (a full disk, a lost connection): nothing is sent
	// meanwhile, and the attempt, its delivery and its lane wait as long.
	// The pause doubles each time it ends with the store still refusing,
	// up to StoreBackoffMax, and ends at the first attempt recorded again.
	// Any other unrecorded attempt holds its delivery and lane for
	// StoreBackoff.
	StoreBackoff, StoreBackoffMax time.Duration
	// Owner, when set, limits dispatch to the webhooks this instance owns
	// among several sharing one store; nil dispatches every webhook.
	Owner Owner
	// RetryPolicy is the retry schedule of every delivery; the zero value
	// is domain.DefaultRetryPolicy.
	RetryPolicy domain.RetryPolicy
	// Tracer makes a span per attempt; nil (tracing off) makes none.
	Tracer *tracing.Tracer
	// RateLimits, when set, hears of each rate-limit wait; nil is off.
	RateLimits RateLimitObserver

	mu       sync.Mutex
	lanes    map[string]*lane
	dirty    map[string]bool
	wakeups  wakeHeap
	inflight map[string]hold // deliveries the due index must not hand out again yet
	holds    holdQueue       // the holds of inflight that end by themselves, in order
	running  int
	// capWaiting lists, oldest first, the lanes that had work and room of
	// their own but found every one of MaxInFlight slots taken; capQueued
	// is the same set. A slot that frees up goes to them in turn (pass),
	// rather than waking every lane to find that all but one still wait.
	capWaiting []string
	capQueued  map[string]bool
	wake       chan struct{}
	workers    sync.WaitGroup // attempts in flight
	pool       workerPool     // the goroutines they run on
	views      *viewCache
	// ordered remembers which webhooks were ordered when last read, past
	// the view cache's short life: a record of an ordered head must wake
	// its lane however long the attempt took (ordering.go).
	ordered map[string]bool
	bodies  *bodyCache
	// messages holds messages the read models just applied (Remember).
	messages *messageCache
	// storePausedUntil ends the current pause of dispatch after the store
	// refused writes; storeBackoff is its length, zero while the store
	// accepts writes.
	storePausedUntil time.Time
	storeBackoff     time.Duration
}

type lane struct {
	id          string
	inflight    int
	pausedUntil time.Time
	// slowDown grows while the endpoint keeps asking us to back off and
	// resets on success.
	slowDown time.Duration
	// wakeAt is the lane's pending wake-up in the heap, if any.
	wakeAt time.Time
	// cap is the webhook's concurrency cap as last read, 0 until then and
	// after the webhook changes: a lane at its cap is passed over without
	// reading the webhook (a finishing attempt wakes it).
	cap int
}

// NewDispatcher returns a dispatcher with defaults; the caller sets the
// adapters before Run.
func NewDispatcher() *Dispatcher {
	return &Dispatcher{
		Now: func() time.Time { return time.Now().UTC() }, Rand: rand.Float64, MaxInFlight: 1024,
		StoreBackoff: time.Second, StoreBackoffMax: time.Minute,
		Logger: slog.Default(), lanes: map[string]*lane{}, dirty: map[string]bool{}, capQueued: map[string]bool{},
		inflight: map[string]hold{}, ordered: map[string]bool{}, wake: make(chan struct{}, 1),
		views: newViewCache(), bodies: newBodyCache(bodyCacheBytes), messages: newMessageCache(messageCacheBytes),
		pool: newWorkerPool(),
	}
}

// Remember keeps a message the log just delivered to the read models, so
// the first attempts it owes (filed in the same commit) build their bodies
// from it instead of reading the message back from the store. The runner
// calls it as it decodes the event, beside its serial stage.
func (d *Dispatcher) Remember(m domain.MessagePublished) {
	d.messages.put(m.MessageID, m)
}

// Notify is the projection runner's commit hook: new due entries and
// webhook changes make their lanes worth another look.
func (d *Dispatcher) Notify(changes []projections.Change) {
	for _, c := range changes {
		if c.Topic == app.TopicWebhook {
			d.views.changed(c.ID)
		}
	}
	d.mu.Lock()
	for _, c := range changes {
		if c.Topic == app.TopicWebhook {
			if l := d.lanes[c.ID]; l != nil {
				l.cap = 0 // its cap may have moved
			}
		}
		if c.Topic == due.TopicDue || c.Topic == app.TopicWebhook || d.headFinished(c) {
			d.dirty[c.ID] = true
		}
	}
	d.mu.Unlock()
	d.signal()
}

func (d *Dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends, then waits for attempts in flight to be
// recorded (each is bounded by the sender's timeout), so a graceful stop
// loses nothing.
func (d *Dispatcher) Run(ctx context.Context) error {
	ids, err := d.Due.Webhooks()
	if err != nil {
		return err
	}
	d.mu.Lock()
	for _, id := range ids {
		d.dirty[id] = true
	}
	d.mu.Unlock()
	d.Logger.Info("dispatcher started", "webhooks_with_pending", len(ids))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.pass()
		wait, sweep := time.Until(next), false
		if next.IsZero() || wait > safetySweep {
			wait, sweep = safetySweep, true
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			d.workers.Wait()
			return nil
		case <-d.wake:
		case <-timer.C:
			if sweep {
				d.sweepLanes()
			}
		}
	}
}

// safetySweep is how long the dispatcher sleeps at most. A sleep that long
// ends with every lane looked at again, so a wake-up missed through a bug
// delays a lane by a minute instead of stalling it for good.
const safetySweep = time.Minute

func (d *Dispatcher) sweepLanes() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.lanes {
		d.dirty[id] = true
	}
}

// pass starts every attempt that is due and allowed now, and returns when
// the next one falls due.
func (d *Dispatcher) pass() time.Time {
	now := d.Now()
	d.mu.Lock()
	applied := d.Progress.Position()
	d.releaseHolds(applied, now)
	if now.Before(d.storePausedUntil) {
		paused := d.storePausedUntil // the store refuses writes: send nothing until then
		d.mu.Unlock()
		return paused
	}
	for d.wakeups.Len() > 0 && !d.wakeups[0].at.After(now) {
		d.dirty[heap.Pop(&d.wakeups).(wakeup).lane] = true
	}
	examine := d.dirty
	d.dirty = map[string]bool{}
	d.mu.Unlock()

	// Slots freed since the last pass go first to the lanes that have
	// waited for one longest, then to the lanes that have news, so a lane
	// with a backlog of its own cannot keep every freed slot.
	for {
		id, ok := d.nextCapWaiting()
		if !ok {
			break
		}
		if next := d.startLane(id, now); !next.IsZero() {
			d.scheduleWake(id, next, now)
		}
	}
	for id := range examine {
		if next := d.startLane(id, now); !next.IsZero() {
			d.scheduleWake(id, next, now)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	next := d.nextRelease()
	if d.wakeups.Len() > 0 && (next.IsZero() || d.wakeups[0].at.Before(next)) {
		next = d.wakeups[0].at
	}
	return next
}

// nextCapWaiting takes the lane that has waited longest for a slot of
// MaxInFlight, while one is free.
func (d *Dispatcher) nextCapWaiting() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running >= d.MaxInFlight || len(d.capWaiting) == 0 {
		return "", false
	}
	id := d.capWaiting[0]
	d.capWaiting = d.capWaiting[1:]
	delete(d.capQueued, id)
	return id, true
}

// scheduleWake arranges for the lane to be looked at again at next. A lane
// keeps one pending wake-up, the earliest, so the heap stays as small as
// the number of lanes however often a lane is examined.
func (d *Dispatcher) scheduleWake(id string, next, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.lane(id)
	if !l.wakeAt.IsZero() && l.wakeAt.After(now) && !next.Before(l.wakeAt) {
		return
	}
	l.wakeAt = next
	heap.Push(&d.wakeups, wakeup{at: next, lane: id})
}

func (d *Dispatcher) lane(id string) *lane {
	l := d.lanes[id]
	if l == nil {
		l = &lane{id: id}
		d.lanes[id] = l
	}
	return l
}

// startLane starts the lane's due attempts and returns when to look again.
func (d *Dispatcher) startLane(id string, now time.Time) time.Time {
	if !d.owns(id) {
		return time.Time{} // another instance's lane; gaining its partition wakes it
	}
	// A lane at its own cap waits for its attempts to finish, and one
	// that finds every slot of MaxInFlight taken waits its turn for one;
	// neither needs its webhook read to know that.
	d.mu.Lock()
	known := d.lanes[id]
	full := known != nil && known.cap > 0 && known.inflight >= known.cap
	capped := !full && d.running >= d.MaxInFlight
	if capped && !d.capQueued[id] {
		d.capQueued[id] = true
		d.capWaiting = append(d.capWaiting, id)
	}
	d.mu.Unlock()
	if full || capped {
		return time.Time{} // a finishing attempt, or a freed slot (pass), wakes it
	}
	view, ok, err := d.webhook(id)
	if err != nil {
		d.Logger.Error("dispatcher: read webhook", "webhook", id, "err", err)
		return now.Add(time.Second)
	}
	if !ok || !view.ReceivesDeliveries() {
		return time.Time{} // paused, disabled, unverified or deleted: a webhook change wakes it
	}
	d.mu.Lock()
	l := d.lane(id)
	l.cap = max(view.MaxConcurrency, 1)
	free := min(l.cap-l.inflight, d.MaxInFlight-d.running)
	paused := l.pausedUntil
	d.mu.Unlock()
	if now.Before(paused) {
		return paused
	}
	if free <= 0 {
		return time.Time{} // a finishing attempt wakes it
	}
	if view.Batching.On() {
		return d.startBatches(l, view, now, free) // batch.go
	}
	entries, next, err := d.owed(id, view, now, free) // ordering.go
	if err != nil {
		d.Logger.Error("dispatcher: read due index", "webhook", id, "err", err)
		return now.Add(time.Second)
	}
	for i, e := range entries {
		if wait := d.holdForRateLimit(l, view, now); wait > 0 {
			if i < len(entries) || next.IsZero() {
				next = now.Add(wait)
			}
			return next
		}
		d.mu.Lock()
		l.inflight++
		d.running++
		d.setHold(e.DeliveryID, hold{running: true, lane: id})
		d.mu.Unlock()
		d.workers.Add(1)
		d.pool.run(func() { d.attempt(l, view, e) })
	}
	return next
}

// webhook returns the webhook's read model, from the cache when it has
// not changed since it was read.
func (d *Dispatcher) webhook(id string) (app.WebhookView, bool, error) {
	view, ok, gen := d.views.get(id)
	if ok {
		return view, true, nil
	}
	view, ok, err := d.Webhooks.WebhookAnyAccount(id)
	if err == nil && ok {
		d.views.put(id, view, gen)
	}
	if err == nil {
		d.mu.Lock()
		d.ordered[id] = ok && view.Ordering.Ordered()
		d.mu.Unlock()
	}
	return view, ok, err
}

func (d *Dispatcher) isInFlight(deliveryID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.inflight[deliveryID]
	return ok
}

// holdForRateLimit takes one unit of the webhook's allowance for a request
// about to start; when there is none, it pauses the lane, reports the
// wait (metrics, and the operational watch) and returns how long it is.
func (d *Dispatcher) holdForRateLimit(l *lane, view app.WebhookView, now time.Time) time.Duration {
	wait := d.rateLimited(view.ID, view.RateLimit.PerSecond, view.RateLimit.Burst)
	if wait <= 0 {
		return 0
	}
	d.mu.Lock()
	l.pausedUntil = now.Add(wait)
	d.mu.Unlock()
	d.Metrics.rateLimited(view.ID)
	if d.RateLimits != nil {
		d.RateLimits.RateLimited(view, now)
	}
	return wait
}

// rateLimited takes one unit of the webhook's allowance and returns how long
// to wait when there is none. Limiter errors fail open: a Redis outage must
// not stop deliveries, and the concurrency cap still bounds them.
func (d *Dispatcher) rateLimited(id string, perSecond, burst int) time.Duration {
	if perSecond <= 0 || d.Limiter == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := d.Limiter.Allow(ctx, "webhook:"+id, ratelimit.Limit{Rate: perSecond, Burst: max(burst, 1), Period: time.Second})
	if err != nil {
		d.Logger.Warn("dispatcher: rate limiter unavailable; sending without it", "err", err)
		return 0
	}
	if res.Allowed {
		return 0
	}
	return max(res.RetryAfter, time.Millisecond)
}

// finish releases an attempt's slot and holds its delivery: until the
// read models show what was recorded or seen, until a skipped attempt
// falls due, or, for an attempt that could not be recorded, for a back-off,
// so that nothing is sent again at once.
func (d *Dispatcher) finish(l *lane, deliveryID string, out attempted, err error) {
	d.finishRequest(l, []finished{{deliveryID: deliveryID, out: out, err: err}})
}

// finished is one delivery's part of a request that ended: one for a
// single attempt, one per member for a batch (batch.go).
type finished struct {
	deliveryID string
	out        attempted
	err        error
}

// finishRequest releases the request's slot, holds each of its
// deliveries as finish does, and steers the lane by what the endpoint
// answered.
func (d *Dispatcher) finishRequest(l *lane, members []finished) {
	now := d.Now()
	d.mu.Lock()
	l.inflight--
	d.running--
	var paused, resumed, slowDown, unreachable, succeeded bool
	var lastErr error
	for _, m := range members {
		out := m.out
		h := hold{pos: out.seen, until: out.notDueUntil}
		switch {
		case m.err != nil:
			h = hold{until: d.notRecorded(now, m.err, &paused)}
			l.pausedUntil = later(l.pausedUntil, h.until)
			lastErr = m.err
		case out.recorded != 0:
			h = hold{pos: out.recorded}
			resumed = resumed || d.storeBackoff != 0
			d.storeBackoff = 0
			unreachable = unreachable || (out.res.Outcome.StatusCode == 0 && out.res.Outcome.ErrClass != "")
		}
		h.lane = l.id
		d.setHold(m.deliveryID, h)
		slowDown = slowDown || out.verdict.SlowDown
		succeeded = succeeded || out.verdict.Result == domain.ResultSucceeded
	}
	// Back off the whole lane when the endpoint asks for it (429, 502, 503,
	// 504), and also when no response came at all (refused, timed out,
	// unresolvable): a dead endpoint with a million pending deliveries must
	// not be hammered with a million futile attempts. Each delivery keeps
	// its own retry schedule besides.
	switch {
	case slowDown || unreachable:
		l.slowDown = min(max(l.slowDown*2, time.Second), time.Minute)
		l.pausedUntil = later(l.pausedUntil, now.Add(l.slowDown))
	case succeeded:
		l.slowDown = 0
	}
	d.dirty[l.id] = true // lanes held back by the global cap follow in pass
	pausedUntil := d.storePausedUntil
	ordered := d.ordered[l.id]
	d.mu.Unlock()
	if ordered {
		d.hurryReadModels()
	}
	d.storeStateChanged(paused, resumed && !paused, pausedUntil, lastErr)
	d.signal()
}

// hurryReadModels asks the read models to apply what was just recorded
// at once rather than with the next few milliseconds' records: an ordered
// line cannot start its next head until its due index shows the head
// gone.
func (d *Dispatcher) hurryReadModels() {
	if h, ok := d.Progress.(interface{ HurryUp() }); ok {
		h.HurryUp()
	}
}

type wakeup struct {
	at   time.Time
	lane string
}

type wakeHeap []wakeup

func (h wakeHeap) Len() int           { return len(h) }
func (h wakeHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h wakeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)        { *h = append(*h, x.(wakeup)) }
func (h *wakeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// InFlight returns the number of attempts in flight, for metrics.
func (d *Dispatcher) InFlight() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return float64(d.running)
}
