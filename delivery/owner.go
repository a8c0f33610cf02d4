package delivery

// Owner says which webhooks this instance dispatches when several share
// one store. ownership.Manager implements it; the dispatcher asks it
// before looking at a lane and again right before each send, so an
// instance that lost a partition (or was stopped past its lease) starts
// nothing there. Attempts already under way finish and are recorded.
type Owner interface {
	Owns(webhookID string) bool
}

// owns reports whether this instance dispatches the webhook's lane.
func (d *Dispatcher) owns(webhookID string) bool {
	return d.Owner == nil || d.Owner.Owns(webhookID)
}

// ExamineAll makes every lane with pending work worth another look: the
// ownership manager calls it when this instance gains partitions, so their
// lanes are loaded from the due index at once.
func (d *Dispatcher) ExamineAll() {
	ids, err := d.Due.Webhooks()
	if err != nil {
		d.Logger.Error("dispatcher: list lanes with pending work", "err", err)
		return
	}
	d.mu.Lock()
	for _, id := range ids {
		d.dirty[id] = true
	}
	d.mu.Unlock()
	d.signal()
}

// InFlightWhere reports whether an attempt is in flight for a webhook that
// match selects; ownership asks it before handing a partition back.
func (d *Dispatcher) InFlightWhere(match func(webhookID string) bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, l := range d.lanes {
		if l.inflight > 0 && match(id) {
			return true
		}
	}
	return false
}
