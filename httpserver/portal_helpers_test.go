package httpserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// portalFixture is the production server with an account acme (one
// webhook), an admin client and a clock the test moves.
type portalFixture struct {
	srv     *gqltest.Server
	admin   *gqltest.Client
	account *gqltest.Client
	hook    gqltest.Webhook
	now     atomic.Int64 // unix nanoseconds
}

func newPortalFixture(t *testing.T, opts gqltest.Options) *portalFixture {
	t.Helper()
	f := &portalFixture{srv: gqltest.NewServerWith(t, opts)}
	f.now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	f.srv.Env.App.Now = func() time.Time { return time.Unix(0, f.now.Load()).UTC() }
	f.admin = f.srv.AccountClient(t, "platform", domain.ScopeAdmin)
	f.account = f.srv.AccountClient(t, "acme", domain.ScopeAccount)
	f.hook = f.account.MustCreateWebhook(t, "orders", "https://example.com/hooks")
	return f
}

func (f *portalFixture) advance(d time.Duration) { f.now.Add(int64(d)) }

const mintSession = `mutation($input: CreatePortalSessionInput!) {
	createPortalSession(input: $input) { token path url session { id account scope expiresAt exchangedAt } userErrors { field message code } }
}`

type minted struct {
	Token, Path string
	URL         *string
	Session     struct {
		ID, Account, Scope string
		ExpiresAt          time.Time
	}
	UserErrors []gqltest.UserError
}

// mint creates a portal session through GraphQL with an admin key.
func (f *portalFixture) mint(t *testing.T, input map[string]any) minted {
	t.Helper()
	var out struct{ CreatePortalSession minted }
	f.admin.MustData(t, mintSession, map[string]any{"input": input}, &out)
	if len(out.CreatePortalSession.UserErrors) > 0 {
		t.Fatalf("createPortalSession: %v", out.CreatePortalSession.UserErrors)
	}
	return out.CreatePortalSession
}

// browser is what a browser tab of the portal holds: the cookie (as the
// browser keeps it) and the CSRF token the page learnt.
type browser struct {
	f      *portalFixture
	cookie string
	csrf   string
}

type exchangeAnswer struct {
	Status    int
	SetCookie *http.Cookie
	Info      exchangeInfo
	Error     struct{ Code, Message string }
}

// exchange posts a link token to /portal/exchange as the portal page
// does: JSON, from the server's own origin.
func (f *portalFixture) exchange(t *testing.T, token string) exchangeAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/portal/exchange", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", f.srv.URL)
	resp, err := f.srv.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out exchangeAnswer
	out.Status = resp.StatusCode
	var decoded struct {
		exchangeInfo
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatalf("exchange answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	out.Info, out.Error = decoded.exchangeInfo, decoded.Error
	for _, c := range resp.Cookies() {
		out.SetCookie = c
	}
	return out
}

type exchangeInfo struct {
	Account   string             `json:"account"`
	ReadOnly  bool               `json:"readOnly"`
	CSRFToken string             `json:"csrfToken"`
	Theme     domain.PortalTheme `json:"theme"`
}

// signIn mints and exchanges a session and returns the browser holding it.
func (f *portalFixture) signIn(t *testing.T, input map[string]any) *browser {
	t.Helper()
	m := f.mint(t, input)
	ans := f.exchange(t, m.Token)
	if ans.Status != http.StatusOK || ans.SetCookie == nil {
		t.Fatalf("exchange: %d %+v", ans.Status, ans.Error)
	}
	return &browser{f: f, cookie: ans.SetCookie.Name + "=" + ans.SetCookie.Value, csrf: ans.Info.CSRFToken}
}

// gql posts a GraphQL request with the cookie; withCSRF sends the header
// the page sets.
func (b *browser) gql(t *testing.T, withCSRF bool, query string, vars map[string]any) *gqltest.Response {
	t.Helper()
	body, _ := json.Marshal(gqltest.Request{Query: query, Variables: vars})
	req, _ := http.NewRequest(http.MethodPost, b.f.srv.GraphQLURL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", b.cookie)
	req.Header.Set("Origin", b.f.srv.URL)
	if withCSRF {
		req.Header.Set("X-Webhookd-CSRF", b.csrf)
	}
	return do(t, b.f.srv.HTTPClient, req)
}

func do(t *testing.T, hc *http.Client, req *http.Request) *gqltest.Response {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &gqltest.Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, out)
	}
	return out
}
