package delivery

import "github.com/webhookd/webhookd/eventstore"

// HoldBack makes the dispatcher leave each listed delivery alone until the
// read models have applied the position given for it. After a crash the
// due index is consistent with its checkpoint, but attempts recorded after
// the checkpoint are in the log and not yet in the index, which still
// lists those deliveries as owed; holding them back lets dispatching start
// at once without sending any of them again early. Call it before Run.
func (d *Dispatcher) HoldBack(recorded map[string]eventstore.Position) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, pos := range recorded {
		if h := d.inflight[id]; pos > h.pos {
			h.pos = pos // pass drops it once the index has caught up
			d.setHold(id, h)
		}
	}
}
