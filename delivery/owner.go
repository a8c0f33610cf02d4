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
