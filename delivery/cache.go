package delivery

import (
	"container/list"
	"github.com/webhookd/webhookd/app"
	"sync"
	"time"
)

// bodyCacheBytes bounds the request bodies the dispatcher keeps. A message
// fanned out to several webhooks is then read from the store and encoded
// once, while the bodies held stay a small, fixed amount of memory: only
// messages whose attempts are being made now, never the pending ones.
const bodyCacheBytes = 4 << 20

// bodyCache is a least-recently-used map of message ID to request body.
// Bodies are immutable: a message never changes once published.
type bodyCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	order   list.List // front: most recently used
	bytes   int
	limit   int
}

type bodyEntry struct {
	id   string
	body []byte
}

func newBodyCache(limit int) *bodyCache {
	return &bodyCache{entries: map[string]*list.Element{}, limit: limit}
}

func (c *bodyCache) get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*bodyEntry).body, true
}

func (c *bodyCache) put(id string, body []byte) {
	if len(body) > c.limit/8 {
		return // a rare large body would evict many small ones
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[id]; ok {
		return
	}
	c.entries[id] = c.order.PushFront(&bodyEntry{id: id, body: body})
	c.bytes += len(body)
	for c.bytes > c.limit {
		el := c.order.Back()
		e := el.Value.(*bodyEntry)
		c.order.Remove(el)
		delete(c.entries, e.id)
		c.bytes -= len(e.body)
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
