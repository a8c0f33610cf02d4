package fanout

import (
	"sync"

	"github.com/webhookd/webhookd/domain"
)

// Payload filters in fan-out. Each subscriptions index entry holds the
// webhook's filter source (empty for none), written whenever the webhook
// changes, so fan-out reads it with the key it already visits. The compiled
// form lives in compiledFilters, keyed by webhook ID and checked against
// the source in the entry: a filter is compiled on the first message after
// it changed (or after a start), never per message, and a message it turns
// away costs no allocation.

// compiledFilters is the process-wide cache of compiled filters. Fan-out
// runs in the projection runner, but the lock keeps a rebuild or a test
// running beside it safe.
var compiledFilters = filterCache{m: map[string]cachedFilter{}}

type filterCache struct {
	mu sync.Mutex
	m  map[string]cachedFilter
}

type cachedFilter struct {
	src    string
	filter *domain.Filter
}

// admits reports whether the webhook id, whose index entry holds the filter
// source src, takes m. A stored filter that no longer compiles admits
// everything: a filter can only ever withhold what it was written to, and
// losing accepted messages to a fault would be worse than delivering them.
func (c *filterCache) admits(id, src []byte, m domain.MessagePublished) bool {
	if len(src) == 0 {
		return true
	}
	c.mu.Lock()
	e, ok := c.m[string(id)]
	if !ok || e.src != string(src) {
		f, err := domain.CompileFilter(string(src))
		if err != nil {
			c.mu.Unlock()
			return true
		}
		e = cachedFilter{src: string(src), filter: f}
		c.m[string(id)] = e
	}
	c.mu.Unlock()
	return domain.FilterAdmits(e.filter, m)
}

// forget drops a webhook that no longer queues deliveries, so deleted
// webhooks do not stay in memory.
func (c *filterCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
