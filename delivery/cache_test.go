package delivery

import (
	"bytes"
	"testing"

	"github.com/webhookd/webhookd/projections/webhooks"
)

func TestBodyCache(t *testing.T) {
	t.Run("EvictsLeastRecentlyUsedBeyondLimit", func(t *testing.T) {
		c := newBodyCache(80)
		body := bytes.Repeat([]byte("x"), 10)
		for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
			c.put(id, body)
		}
		c.get("a") // a is now the most recent; b the least
		c.put("i", body)
		if _, ok := c.get("b"); ok {
			t.Error("b survived although it was the least recently used")
		}
		for _, id := range []string{"a", "c", "i"} {
			if got, ok := c.get(id); !ok || !bytes.Equal(got, body) {
				t.Errorf("%s: got %q, %v", id, got, ok)
			}
		}
		if c.bytes > c.limit {
			t.Errorf("holds %d bytes, limit %d", c.bytes, c.limit)
		}
	})
	t.Run("SkipsLargeBodies", func(t *testing.T) {
		c := newBodyCache(80)
		c.put("big", make([]byte, 11))
		if _, ok := c.get("big"); ok {
			t.Error("a body over an eighth of the limit was cached")
		}
	})
}

func TestViewCache(t *testing.T) {
	view := webhooks.WebhookView{}
	view.ID, view.URL = "wh1", "https://example.com/a"
	t.Run("ServesUntilChanged", func(t *testing.T) {
		c := newViewCache()
		_, ok, gen := c.get("wh1")
		if ok {
			t.Fatal("empty cache hit")
		}
		c.put("wh1", view, gen)
		if got, ok, _ := c.get("wh1"); !ok || got.URL != view.URL {
			t.Fatalf("got %+v, %v", got.URL, ok)
		}
		c.changed("wh1")
		if _, ok, _ := c.get("wh1"); ok {
			t.Error("served a view after its webhook changed")
		}
	})
	t.Run("DropsLookupThatRacedWithChange", func(t *testing.T) {
		c := newViewCache()
		_, _, gen := c.get("wh1") // a lookup starts reading the old view
		c.changed("wh1")          // the webhook changes meanwhile
		c.put("wh1", view, gen)   // the lookup finishes with what it read
		if _, ok, _ := c.get("wh1"); ok {
			t.Error("cached a view read before a change it could have missed")
		}
	})
}
