package delivery

import "github.com/webhookd/webhookd/app"

// releaseEarly gives an attempt's slot back as soon as a 2xx answer is
// in, before the attempt is recorded, and reports whether it did.
//
// A slot held until the record is durable bounds a webhook to
// maxConcurrency × (POST + append + fsync) per second, and on loopback
// the append is most of that: the lane spent its time waiting for the
// disk, not for the receiver. maxConcurrency bounds requests the receiver
// is handling, and an answered request is no longer one.
//
// The delivery itself stays held (in flight) until its record is applied,
// so the due index never hands it out again meanwhile, and a crash before
// the record leaves it due, to be sent again with the same webhook-id, as
// a crash between the answer and the record always did. What changes is
// how many such answered-but-unrecorded attempts a lane may have: at most
// recordingPerSlot times its cap, and MaxInFlight across all lanes, on top
// of the requests in flight; past that an attempt keeps its slot until it
// is recorded, so a slow store slows the lanes down instead of letting
// unrecorded attempts (and the workers waiting on them) pile up.
//
// Only a success is released early. Any other answer steers the lane
// (a slow-down, a pause, a disabled webhook) once it is recorded, and the
// lane must not start more requests before that. An ordered webhook's
// line waits on its head's record anyway.
// recordingPerSlot is how many answered attempts per slot of its cap a lane
// may have waiting for their record. A record waits for the next commit of
// the event store, and a loopback receiver answers several requests per
// slot in that time: with 1 per slot a busy lane still waited on its
// records (one-match, A/B in docs/performance.md: 4 gave 5-7% more
// deliveries/s than 1 or 2).
const recordingPerSlot = 4

func (d *Dispatcher) releaseEarly(l *lane, view app.WebhookView, res Result) bool {
	if !res.Outcome.Succeeded() || view.Ordering.Ordered() {
		return false
	}
	d.mu.Lock()
	if l.recording >= recordingPerSlot*max(l.cap, 1) || d.recording >= d.MaxInFlight {
		d.mu.Unlock()
		return false
	}
	l.inflight--
	d.running--
	l.recording++
	d.recording++
	d.dirty[l.id] = true
	d.mu.Unlock()
	d.signal()
	return true
}
