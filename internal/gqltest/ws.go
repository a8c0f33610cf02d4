package gqltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Subprotocol is the websocket subprotocol the client speaks.
const Subprotocol = "graphql-transport-ws"

// Message is one graphql-transport-ws message from the server: "next",
// "error" or "complete" (pings are answered by the client itself).
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Conn is a graphql-transport-ws connection. One goroutine reads it,
// answering pings and queueing every other message for Next.
type Conn struct {
	ws   *websocket.Conn
	msgs chan Message
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	err error
}

// RefusedError is returned by Dial when the server closes the connection
// instead of acknowledging connection_init.
type RefusedError struct {
	Status websocket.StatusCode
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("connection_init refused: close %d %q", int(e.Status), e.Reason)
}

// Dial opens a websocket to a /graphql endpoint (http:// or ws:// URL),
// sends connection_init with payload and waits for connection_ack. A
// refusal is a *RefusedError.
func Dial(ctx context.Context, endpoint string, payload map[string]any) (*Conn, error) {
	u := strings.Replace(endpoint, "http", "ws", 1)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		Subprotocols: []string{Subprotocol},
		HTTPClient:   &http.Client{},
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	ws.SetReadLimit(1 << 20)
	c := &Conn{ws: ws, msgs: make(chan Message, 256), done: make(chan struct{})}
	if err := c.write(ctx, Message{Type: "connection_init", Payload: mustJSON(payload)}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	for {
		m, err := c.read(ctx)
		if err != nil {
			ws.CloseNow()
			if st := websocket.CloseStatus(err); st != -1 {
				var ce websocket.CloseError
				errors.As(err, &ce)
				return nil, &RefusedError{Status: st, Reason: ce.Reason}
			}
			return nil, fmt.Errorf("waiting for connection_ack: %w", err)
		}
		switch m.Type {
		case "connection_ack":
			go c.readLoop()
			return c, nil
		case "ping":
			_ = c.write(ctx, Message{Type: "pong"})
		default:
			ws.CloseNow()
			return nil, fmt.Errorf("got %q before connection_ack", m.Type)
		}
	}
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *Conn) write(ctx context.Context, m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *Conn) read(ctx context.Context) (Message, error) {
	var m Message
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("malformed message %.100q: %w", b, err)
	}
	return m, nil
}

func (c *Conn) readLoop() {
	defer close(c.msgs)
	ctx := context.Background()
	for {
		m, err := c.read(ctx)
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		if m.Type == "ping" {
			_ = c.write(ctx, Message{Type: "pong"})
			continue
		}
		if m.Type == "pong" {
			continue
		}
		select {
		case c.msgs <- m:
		case <-c.done:
			return
		}
	}
}

// Subscribe starts an operation with the given id.
func (c *Conn) Subscribe(ctx context.Context, id, query string, vars map[string]any) error {
	payload := mustJSON(Request{Query: query, Variables: vars})
	return c.write(ctx, Message{ID: id, Type: "subscribe", Payload: payload})
}

// Complete stops the operation with the given id.
func (c *Conn) Complete(ctx context.Context, id string) error {
	return c.write(ctx, Message{ID: id, Type: "complete"})
}

// Next returns the next message, or an error once the connection is closed
// (the read error) or ctx ends.
func (c *Conn) Next(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return Message{}, fmt.Errorf("connection closed: %w", c.err)
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Close closes the connection with a normal closure and stops the reader.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		err = c.ws.Close(websocket.StatusNormalClosure, "")
		for range c.msgs { // wait for the reader to stop
		}
	})
	return err
}
