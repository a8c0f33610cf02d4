package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Close codes of graphql-transport-ws that gqlgen does not emit itself
// (4403 it does, through the init function's context).
const (
	closeBadRequest   = 4400
	closeUnauthorized = 4401
	closeInitTimeout  = 4408
	closeDuplicateID  = 4409
	closeTooManyInits = 4429
)

// gqlgen's reason when no connection_init arrives within InitTimeout.
const gqlgenInitTimeoutReason = "connection initialisation timeout"

// protocolWebsocket wraps gqlgen's websocket implementation so that
// graphql-transport-ws connections close with the codes the protocol names
// instead of gqlgen's generic 1002: 4408 when connection_init does not
// arrive in time, 4400 for a malformed or unexpected message, 4401 for a
// subscribe before connection_ack, 4409 for a subscribe whose id is
// already running and 4429 for a second connection_init. Other
// subprotocols pass through untouched.
type protocolWebsocket struct {
	inner transport.WebsocketImplementation
}

func (p protocolWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := p.inner.Accept(w, r, opts)
	if err != nil || c.Subprotocol() != "graphql-transport-ws" {
		return c, err
	}
	return &protocolConn{WebsocketConn: c, active: map[string]bool{}}, nil
}

// protocolConn watches the envelope (type, id) of each message in both
// directions; it closes the socket itself for the violations gqlgen
// accepts, and renames gqlgen's close codes.
type protocolConn struct {
	transport.WebsocketConn
	mu     sync.Mutex
	inited bool            // connection_init received
	acked  bool            // connection_ack sent
	active map[string]bool // running operation ids
	closed bool
}

type envelope struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// NextReader reads a client message and refuses those gqlgen would let
// through or close with a generic code.
func (c *protocolConn) NextReader() (int, io.Reader, error) {
	kind, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return kind, r, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return kind, nil, err
	}
	var m envelope
	code, reason := closeBadRequest, "Invalid message"
	if json.Unmarshal(data, &m) == nil {
		code, reason = c.check(m)
	}
	if code != 0 {
		_ = c.WriteClose(code, reason)
		return kind, nil, transport.ErrWebsocketClosed
	}
	return kind, bytes.NewReader(data), nil
}

func (c *protocolConn) check(m envelope) (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m.Type {
	case "connection_init":
		if c.inited {
			return closeTooManyInits, "Too many initialisation requests"
		}
		c.inited = true
	case "subscribe":
		if !c.acked {
			return closeUnauthorized, "Unauthorized"
		}
		if c.active[m.ID] {
			return closeDuplicateID, "Subscriber for " + truncate(m.ID, 64) + " already exists"
		}
		c.active[m.ID] = true
	case "complete":
		delete(c.active, m.ID)
	case "ping", "pong":
	default:
		return closeBadRequest, "Invalid message type"
	}
	return 0, ""
}

// WriteJSON sends a server message, noting the acknowledgement and the end
// of operations (so their id may be used again).
func (c *protocolConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m envelope
	if json.Unmarshal(data, &m) == nil {
		c.mu.Lock()
		switch m.Type {
		case "connection_ack":
			c.acked = true
		case "complete", "error":
			delete(c.active, m.ID)
		}
		c.mu.Unlock()
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(data))
}

// WriteClose closes once, renaming gqlgen's protocol-error closes.
func (c *protocolConn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	if code == transport.WebsocketCloseProtocolError {
		code = closeBadRequest
		if reason == gqlgenInitTimeoutReason {
			code, reason = closeInitTimeout, "Connection initialisation timeout"
		}
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit passes gqlgen's payload limit on.
func (c *protocolConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes gqlgen's pong deadline on.
func (c *protocolConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
