package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

const viewerQuery = `{ viewer { account { name } scope keyId portalSession readOnly } }`

// TestPortalLinkExchangedOnce mints a session with an admin key, exchanges
// its link for the cookie, uses the cookie with the CSRF header, and
// refuses the link's second use; the account's history shows the session.
func TestPortalLinkExchangedOnce(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{PublicURL: "https://hooks.example.com"})
	m := f.mint(t, map[string]any{"account": "acme", "ttlSeconds": 600})
	if !strings.HasPrefix(m.Token, "whp_") || m.Path != "/portal#token="+m.Token || m.URL == nil || *m.URL != "https://hooks.example.com"+m.Path {
		t.Fatalf("minted %+v", m)
	}
	ans := f.exchange(t, m.Token)
	c := ans.SetCookie
	// An https --public-url means TLS ends at a proxy: Secure, __Host-.
	if ans.Status != http.StatusOK || c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || !c.Secure || c.Name != "__Host-webhookd_portal" || c.MaxAge != 600 {
		t.Fatalf("exchange: %d cookie %+v", ans.Status, c)
	}
	if c.Value == m.Token || !strings.HasPrefix(c.Value, "whc_") || ans.Info.CSRFToken == "" || ans.Info.Account != "acme" {
		t.Fatalf("exchange gave cookie %q info %+v", c.Value, ans.Info)
	}
	b := &browser{f: f, cookie: c.Name + "=" + c.Value, csrf: ans.Info.CSRFToken}
	var v struct {
		Viewer struct {
			Account       struct{ Name string }
			Scope, KeyID  string
			PortalSession *string
			ReadOnly      bool
		}
	}
	resp := b.gql(t, true, viewerQuery, nil)
	if err := resp.Decode(&v); err != nil || v.Viewer.Account.Name != "acme" || v.Viewer.Scope != "ACCOUNT" || v.Viewer.PortalSession == nil || *v.Viewer.PortalSession != m.Session.ID || v.Viewer.ReadOnly {
		t.Fatalf("viewer by cookie: %s (%v)", resp.Body, err)
	}

	again := f.exchange(t, m.Token)
	if again.Status != http.StatusUnauthorized || again.SetCookie != nil || !strings.Contains(again.Error.Message, "already used") {
		t.Fatalf("second exchange: %d %+v", again.Status, again.Error)
	}

	var types []string
	for _, e := range f.account.History(t, domain.EncodeGlobalID("Account", "acme")) {
		types = append(types, e.Type)
		if raw, _ := json.Marshal(e.Data); strings.Contains(string(raw), domain.HashKeySecret(strings.SplitN(m.Token, "_", 3)[2])) {
			t.Fatalf("history shows the link's hash: %v", e.Data)
		}
	}
	if !strings.Contains(strings.Join(types, " "), "portal.session.created.v1 portal.session.exchanged.v1") {
		t.Fatalf("account history: %v", types)
	}
}

// TestPortalLinkExpiredAndRevoked checks the clear refusals of a link past
// its time or revoked, and that a cookie stops working at expiry and at
// revocation.
func TestPortalLinkExpiredAndRevoked(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{})
	late := f.mint(t, map[string]any{"account": "acme", "ttlSeconds": 60})
	b := f.signIn(t, map[string]any{"account": "acme", "ttlSeconds": 120})
	f.advance(61 * time.Second)
	if ans := f.exchange(t, late.Token); ans.Status != http.StatusUnauthorized || !strings.Contains(ans.Error.Message, "expired") {
		t.Fatalf("expired link: %d %+v", ans.Status, ans.Error)
	}
	if resp := b.gql(t, true, viewerQuery, nil); resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("cookie before expiry: %d %s", resp.Status, resp.Body)
	}
	f.advance(time.Minute)
	if resp := b.gql(t, true, viewerQuery, nil); resp.Status != http.StatusUnauthorized || !resp.HasCode("UNAUTHENTICATED") {
		t.Fatalf("cookie after expiry: %d %s", resp.Status, resp.Body)
	}

	revoked := f.mint(t, map[string]any{"account": "acme"})
	live := f.signIn(t, map[string]any{"account": "acme"})
	var sess struct {
		Viewer struct{ PortalSession string }
	}
	live.gql(t, true, viewerQuery, nil).Decode(&sess)
	for _, id := range []string{revoked.Session.ID, sess.Viewer.PortalSession} {
		req, _ := http.NewRequest(http.MethodDelete, f.srv.URL+"/v1/portal/sessions/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+f.admin.Key)
		if resp := do(t, f.srv.HTTPClient, req); resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"revokedAt"`) {
			t.Fatalf("revoke %s: %d %s", id, resp.Status, resp.Body)
		}
	}
	if ans := f.exchange(t, revoked.Token); ans.Status != http.StatusUnauthorized || !strings.Contains(ans.Error.Message, "revoked") {
		t.Fatalf("revoked link: %d %+v", ans.Status, ans.Error)
	}
	if resp := live.gql(t, true, viewerQuery, nil); resp.Status != http.StatusUnauthorized {
		t.Fatalf("revoked cookie: %d %s", resp.Status, resp.Body)
	}
	if ans := f.exchange(t, "whp_0123456789abcdef01234567_notthesecretnotthesecret"); ans.Status != http.StatusUnauthorized || !strings.Contains(ans.Error.Message, "not valid") {
		t.Fatalf("unknown link: %d %+v", ans.Status, ans.Error)
	}
}

// TestPortalCrossSiteFormPostRefused sends what a browser sends for an
// HTML form on another site posting to /graphql, with the portal cookie
// attached (as a browser that ignored SameSite would): no CSRF header, a
// form encoding, the other site's Origin. It is refused and changes
// nothing; so is a request with the header's value wrong.
func TestPortalCrossSiteFormPostRefused(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{})
	b := f.signIn(t, map[string]any{"account": "acme"})
	del := `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId userErrors { code } } }`
	body, _ := json.Marshal(gqltest.Request{Query: del, Variables: map[string]any{"id": f.hook.ID}})
	for name, set := range map[string]func(*http.Request){
		"FormPost": func(r *http.Request) {
			r.Header.Set("Content-Type", "text/plain") // enctype=text/plain carries a JSON-looking body
			r.Header.Set("Origin", "http://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		},
		"WrongHeader": func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", f.srv.URL)
			r.Header.Set("X-Webhookd-CSRF", strings.Repeat("0", 64))
		},
		"RightHeaderOtherOrigin": func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", "http://evil.example")
			r.Header.Set("X-Webhookd-CSRF", b.csrf)
		},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.srv.GraphQLURL(), bytes.NewReader(body))
			req.Header.Set("Cookie", b.cookie)
			set(req)
			resp := do(t, f.srv.HTTPClient, req)
			if resp.Status != http.StatusForbidden || !resp.HasCode("FORBIDDEN") {
				t.Fatalf("cross-site post: %d %s", resp.Status, resp.Body)
			}
		})
	}
	if w := f.account.WebhookByID(t, f.hook.ID); w == nil {
		t.Fatal("a refused cross-site post deleted the webhook")
	}
	// The exchange itself refuses another origin (login CSRF) and forms.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/portal/exchange", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if resp := do(t, f.srv.HTTPClient, req); resp.Status != http.StatusForbidden {
		t.Fatalf("cross-site exchange: %d %s", resp.Status, resp.Body)
	}
}

// TestPortalMintRoute is the REST mint route: admin keys only, the URL
// built from the request when no --public-url is set, user mistakes as
// {"error": {code, field, message}}.
func TestPortalMintRoute(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{})
	post := func(key, body string) *gqltest.Response {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/portal/sessions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		return do(t, f.srv.HTTPClient, req)
	}
	resp := post(f.admin.Key, `{"account": "acme", "scope": "read-only", "ttlSeconds": 300, "theme": {"productName": "Shop Mail"}}`)
	var out struct{ ID, Scope, Token, URL string }
	if err := json.Unmarshal(resp.Body, &out); err != nil || resp.Status != http.StatusCreated || out.Scope != "read-only" ||
		out.URL != f.srv.URL+"/portal#token="+out.Token {
		t.Fatalf("mint: %d %s", resp.Status, resp.Body)
	}
	// Plain HTTP, no https --public-url: no Secure (browsers would drop it).
	if ans := f.exchange(t, out.Token); ans.Status != http.StatusOK || !ans.Info.ReadOnly || ans.Info.Theme.ProductName != "Shop Mail" ||
		ans.SetCookie == nil || ans.SetCookie.Secure || ans.SetCookie.Name != "webhookd_portal" {
		t.Fatalf("exchange of the REST link: %d %+v", ans.Status, ans.Info)
	}
	for name, tc := range map[string]struct {
		key, body string
		status    int
		code      string
	}{
		"AccountKey":   {f.account.Key, `{"account": "acme"}`, http.StatusForbidden, "FORBIDDEN"},
		"NoKey":        {"", `{"account": "acme"}`, http.StatusUnauthorized, "UNAUTHENTICATED"},
		"NoAccount":    {f.admin.Key, `{"account": "nobody"}`, http.StatusNotFound, "NOT_FOUND"},
		"BadScope":     {f.admin.Key, `{"account": "acme", "scope": "owner"}`, http.StatusBadRequest, "INVALID"},
		"TTLTooLong":   {f.admin.Key, `{"account": "acme", "ttlSeconds": 90000}`, http.StatusBadRequest, "INVALID"},
		"BadColour":    {f.admin.Key, `{"account": "acme", "theme": {"brandColor": "red"}}`, http.StatusBadRequest, "INVALID"},
		"UnknownField": {f.admin.Key, `{"account": "acme", "role": "x"}`, http.StatusBadRequest, "INVALID"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := post(tc.key, tc.body)
			if resp.Status != tc.status || !strings.Contains(string(resp.Body), `"code":"`+tc.code+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.Status, resp.Body, tc.status, tc.code)
			}
		})
	}
	// A portal session, even a full one, may not mint sessions or manage keys.
	b := f.signIn(t, map[string]any{"account": "acme"})
	resp = b.gql(t, true, mintSession, map[string]any{"input": map[string]any{"account": "acme"}})
	if !resp.HasCode("FORBIDDEN") {
		t.Fatalf("session minted a session: %s", resp.Body)
	}
}

// TestPortalWebsocketNeedsCSRF subscribes with the cookie: the handshake
// carries it, connection_init must carry the CSRF token, and a handshake
// from another origin is not signed in at all.
func TestPortalWebsocketNeedsCSRF(t *testing.T) {
	f := newPortalFixture(t, gqltest.Options{})
	b := f.signIn(t, map[string]any{"account": "acme"})
	dial := func(origin string, payload map[string]any) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u, _ := url.Parse(f.srv.GraphQLURL())
		u.Scheme = "ws"
		ws, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
			Subprotocols: []string{gqltest.Subprotocol},
			HTTPHeader:   http.Header{"Cookie": {b.cookie}, "Origin": {origin}},
		})
		if err != nil {
			return err
		}
		defer ws.CloseNow()
		init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": payload})
		if err := ws.Write(ctx, websocket.MessageText, init); err != nil {
			return err
		}
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(string(msg), "connection_ack") {
			t.Fatalf("unexpected %s", msg)
		}
		return nil
	}
	if err := dial(f.srv.URL, map[string]any{"X-Webhookd-CSRF": b.csrf}); err != nil {
		t.Fatalf("same-origin handshake with the token: %v", err)
	}
	for name, tc := range map[string]struct {
		origin  string
		payload map[string]any
	}{
		"NoToken":     {f.srv.URL, nil},
		"OtherOrigin": {"http://evil.example", map[string]any{"X-Webhookd-CSRF": b.csrf}},
	} {
		t.Run(name, func(t *testing.T) {
			// Refused by connection_init (4403), or before it: the
			// websocket library refuses a cross-origin handshake (403).
			err := dial(tc.origin, tc.payload)
			if websocket.CloseStatus(err) != 4403 && (err == nil || !strings.Contains(err.Error(), "403")) {
				t.Fatalf("got %v, want close 4403 or a 403 handshake", err)
			}
		})
	}
}
