package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// rawWS opens a graphql-transport-ws socket and speaks the protocol by hand,
// so a test can break it.
type rawWS struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, srv *gqltest.Server) *rawWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(srv.GraphQLURL(), "http", "ws", 1), &websocket.DialOptions{
		Subprotocols: []string{gqltest.Subprotocol}, HTTPClient: &http.Client{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &rawWS{t: t, ws: ws}
}

func (c *rawWS) send(msg string) {
	c.t.Helper()
	if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// expect reads until a message containing want arrives.
func (c *rawWS) expect(want string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", want, err)
		}
		if strings.Contains(string(b), want) {
			return
		}
	}
}

// closedWith reads until the server closes the socket and checks the code.
func (c *rawWS) closedWith(code websocket.StatusCode) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.ws.Read(ctx)
		if err == nil {
			if strings.Contains(string(b), `"type":"ping"`) {
				_ = c.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			}
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("socket ended with %v, want close %d", err, code)
		}
		if ce.Code != code {
			c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Reason, code)
		}
		return
	}
}

// The server closes graphql-transport-ws sockets with the codes the
// protocol names.
func TestWebsocketCloseCodes(t *testing.T) {
	srv := gqltest.NewServerWith(t, gqltest.Options{WebsocketInitTimeout: 200 * time.Millisecond})
	_, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := srv.Client(key).MustCreateWebhook(t, "watched", "https://example.com/in")
	init := `{"type":"connection_init","payload":{"Authorization":"Bearer ` + key + `"}}`
	sub := func(id string) string {
		return `{"id":"` + id + `","type":"subscribe","payload":{"query":"subscription { webhookUpdated(id: \"` + hook.ID + `\") { id } }"}}`
	}

	t.Run("4408InitTimeout", func(t *testing.T) {
		c := dialRaw(t, srv) // and never send connection_init
		c.closedWith(4408)
	})
	t.Run("4403Forbidden", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer whk_nope_nope"}}`)
		c.closedWith(4403)
	})
	t.Run("4401SubscribeBeforeAck", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.send(sub("1"))
		c.closedWith(4401)
	})
	t.Run("4429SecondInit", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.send(init)
		c.expect("connection_ack")
		c.send(init)
		c.closedWith(4429)
	})
	t.Run("4409DuplicateID", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.send(init)
		c.expect("connection_ack")
		c.send(sub("dup"))
		c.send(sub("dup"))
		c.closedWith(4409)
	})
	t.Run("IDReusableAfterComplete", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.send(init)
		c.expect("connection_ack")
		// The sockets of the subtests before are closed, but their
		// subscriptions end asynchronously: counting from a number that
		// still holds one of them could wait for a subscription too many.
		waitFor(t, func() bool { return srv.Env.Broker.Len() == 0 })
		c.send(sub("again"))
		srv.WaitSubscribers(t, 1)
		c.send(`{"id":"again","type":"complete"}`)
		c.send(sub("again"))
		c.send(`{"type":"ping"}`)
		c.expect(`"type":"pong"`) // the socket is still open
	})
	t.Run("4400InvalidMessage", func(t *testing.T) {
		for _, msg := range []string{`not json`, `{"type":"no_such_type"}`, `{"type": 5}`} {
			c := dialRaw(t, srv)
			c.send(init)
			c.expect("connection_ack")
			c.send(msg)
			c.closedWith(4400)
		}
	})
}
