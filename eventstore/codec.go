package eventstore

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// Event is implemented by every domain event. EventType returns the stable,
// dotted, versioned name the event is stored under; it must never change
// once events of that type have been written.
type Event interface {
	EventType() string
}

// Upcaster rewrites the JSON of an old event version into the JSON of its
// successor. Stored events are never rewritten; they are upcast on read.
type Upcaster func(data []byte) ([]byte, error)

// Codec maps stable type names to Go structs, in both directions.
type Codec struct {
	mu        sync.RWMutex
	types     map[string]reflect.Type
	upcasters map[string]upcast
}

type upcast struct {
	to string
	fn Upcaster
}

// NewCodec returns an empty codec.
func NewCodec() *Codec {
	return &Codec{types: map[string]reflect.Type{}, upcasters: map[string]upcast{}}
}

// Register adds event types, given as zero values of their structs (not
// pointers). Registering one type name twice panics: it is a programming
// error that would make decoding ambiguous.
func (c *Codec) Register(events ...Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		name := e.EventType()
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer {
			panic(fmt.Sprintf("eventstore: register %s as a value, not a pointer", name))
		}
		if _, dup := c.types[name]; dup {
			panic(fmt.Sprintf("eventstore: event type %s registered twice", name))
		}
		c.types[name] = t
	}
}

// RegisterUpcaster declares that events stored as type from are read as
// type to after fn rewrites their JSON. Chains (v1 -> v2 -> v3) are followed.
func (c *Codec) RegisterUpcaster(from, to string, fn Upcaster) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.upcasters[from] = upcast{to: to, fn: fn}
}

// Encode turns a domain event into EventData with a fresh UUID.
func (c *Codec) Encode(e Event) (EventData, error) {
	return c.EncodeWithID(uuid.NewString(), e)
}

// EncodeWithID is Encode with a caller-chosen ID, for appends that must be
// idempotent across retries.
func (c *Codec) EncodeWithID(id string, e Event) (EventData, error) {
	c.mu.RLock()
	_, ok := c.types[e.EventType()]
	c.mu.RUnlock()
	if !ok {
		return EventData{}, fmt.Errorf("eventstore: encode: event type %s is not registered", e.EventType())
	}
	data, err := jsoncodec.Marshal(e)
	if err != nil {
		return EventData{}, fmt.Errorf("eventstore: encode %s: %w", e.EventType(), err)
	}
	return EventData{ID: id, Type: e.EventType(), Data: data}, nil
}

// Decode turns a recorded event into its registered struct (a value, not a
// pointer), upcasting old versions first.
func (c *Codec) Decode(r RecordedEvent) (Event, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	typ, data := r.Type, r.Data
	for seen := 0; ; seen++ {
		u, ok := c.upcasters[typ]
		if !ok {
			break
		}
		if seen > len(c.upcasters) {
			return nil, fmt.Errorf("eventstore: decode %s: upcaster cycle", r.Type)
		}
		next, err := u.fn(data)
		if err != nil {
			return nil, fmt.Errorf("eventstore: upcast %s to %s: %w", typ, u.to, err)
		}
		typ, data = u.to, next
	}
	t, ok := c.types[typ]
	if !ok {
		return nil, fmt.Errorf("eventstore: decode: unknown event type %s at position %d", typ, r.Position)
	}
	v := reflect.New(t)
	if err := jsoncodec.Unmarshal(data, v.Interface()); err != nil {
		return nil, fmt.Errorf("eventstore: decode %s at position %d: %w", typ, r.Position, err)
	}
	return v.Elem().Interface().(Event), nil
}

// Types returns the registered type names, sorted, so tools and tests can
// walk every event type (upcast names are not included).
func (c *Codec) Types() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Sorted(maps.Keys(c.types))
}

// Known reports whether a type name (after upcasting) is registered.
func (c *Codec) Known(eventType string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.types[eventType]
	if !ok {
		_, ok = c.upcasters[eventType]
	}
	return ok
}
