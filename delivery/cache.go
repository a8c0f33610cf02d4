package delivery

import (
	"container/list"
	"sync"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// bodyCacheBytes bounds the request bodies the dispatcher keeps. A message
// fanned out to several webhooks is then read from the store and encoded
// once, while the bodies held stay a small, fixed amount of memory: only
// messages whose attempts are being made now, never the pending ones.
const bodyCacheBytes = 4 << 20

// bodyCache is a least-recently-used map of message ID to request body.
// Bodies are immutable: a message never changes once published.
type bodyCache = lruCache[[]byte]

func newBodyCache(limit int) *bodyCache {
	return newLRUCache(limit, func(b []byte) int { return len(b) })
}

// messageCacheBytes bounds the messages the dispatcher remembers from the
// log as the read models apply them (Remember): about the last second's
// worth at a few thousand messages a second.
const messageCacheBytes = 4 << 20

// messageCache holds messages just published, so the first attempts they
// owe build their bodies without reading the store.
type messageCache = lruCache[domain.MessagePublished]

func newMessageCache(limit int) *messageCache {
	return newLRUCache(limit, func(m domain.MessagePublished) int {
		return len(m.Data) + len(m.MessageID) + len(m.Type) + len(m.AccountID) + 64
	})
}

// lruCache is a least-recently-used map of ID to immutable value, bounded
// by the values' total size.
type lruCache[V any] struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	order   list.List // front: most recently used
	bytes   int
	limit   int
	size    func(V) int
}

type lruEntry[V any] struct {
	id   string
	v    V
	size int
}

func newLRUCache[V any](limit int, size func(V) int) *lruCache[V] {
	return &lruCache[V]{entries: map[string]*list.Element{}, limit: limit, size: size}
}

func (c *lruCache[V]) get(id string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[V]).v, true
}

func (c *lruCache[V]) put(id string, v V) {
	n := c.size(v)
	if n > c.limit/8 {
		return // a rare large value would evict many small ones
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[id]; ok {
		return
	}
	c.entries[id] = c.order.PushFront(&lruEntry[V]{id: id, v: v, size: n})
	c.bytes += n
	for c.bytes > c.limit {
		el := c.order.Back()
		e := el.Value.(*lruEntry[V])
		c.order.Remove(el)
		delete(c.entries, e.id)
		c.bytes -= e.size
	}
}

// viewTTL bounds how long a cached webhook read model is used without a
// change notification having been seen; notifications normally drop an
// entry as soon as the webhook changes.
const viewTTL = time.Second

// viewCache holds webhook read models for the dispatch loop, which looks a
// webhook up every time its lane is examined (after every attempt), so it
// need not decode the same JSON thousands of times a second.
type viewCache struct {
	mu      sync.Mutex
	entries map[string]cachedView
	// gen counts webhook changes; a lookup that raced with one is not
	// cached, so a stale view never outlives the notification.
	gen uint64
}

type cachedView struct {
	view app.WebhookView
	at   time.Time
}

func newViewCache() *viewCache { return &viewCache{entries: map[string]cachedView{}} }

// get returns the cached view of id if it is fresh, and else the current
// generation to pass to put.
func (c *viewCache) get(id string) (app.WebhookView, bool, uint64) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if ok && now.Sub(e.at) < viewTTL && !now.Before(e.at) {
		return e.view, true, c.gen
	}
	return app.WebhookView{}, false, c.gen
}

// put caches view unless a webhook changed since gen was read.
func (c *viewCache) put(id string, view app.WebhookView, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.entries[id] = cachedView{view: view, at: time.Now()}
	}
}

// changed drops a webhook's cached view after its read model changed.
func (c *viewCache) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}
