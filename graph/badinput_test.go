package graph_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/netguard"
)

// TestBadInput sends each kind of bad input and checks that it is refused
// with a clear code, and that nothing of the account changed.
func TestBadInput(t *testing.T) {
	srv := gqltest.NewServer(t)
	srv.AllowLoopback()
	c := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	hook := c.MustCreateWebhook(t, "existing", "http://127.0.0.1:1/hooks")

	// snapshot is the account's listing and the existing webhook's whole
	// history; a refused input must change neither.
	snapshot := func() []byte {
		var buf bytes.Buffer
		buf.Write(c.Do(t, `{ webhooks(first: 100) { totalCount nodes { id revision } } }`, nil).Body)
		buf.Write(c.Do(t, `query($id: ID!) { history(subject: $id, first: 100) { nodes { type revision } } }`, map[string]any{"id": hook.ID}).Body)
		buf.Write(c.Do(t, `query($id: ID!) { history(subject: $id, first: 100) { nodes { type } } }`, map[string]any{"id": domain.EncodeGlobalID("Account", "acct-a")}).Body)
		return buf.Bytes()
	}
	before := snapshot()
	unchanged := func(t *testing.T) {
		t.Helper()
		if after := snapshot(); !bytes.Equal(before, after) {
			t.Errorf("refused input changed the account:\n before %s\n after  %s", before, after)
		}
	}

	valid := func() map[string]any {
		return map[string]any{"name": "new", "url": "http://127.0.0.1:1/in", "eventTypes": []string{"email.open"}}
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	headers := func(name string) []map[string]any { return []map[string]any{{"name": name, "value": "v"}} }
	for _, tc := range []struct {
		name  string
		set   string // input field changed from the valid input
		value any
	}{
		{"URLNotHTTP", "url", "ftp://127.0.0.1/in"},
		{"URLJavascript", "url", "javascript:alert(1)"},
		{"URLCredentials", "url", "http://user:pass@127.0.0.1:1/in"},
		{"URLTooLong", "url", "http://127.0.0.1:1/" + long(2048)},
		{"EventTypesEmpty", "eventTypes", []string{}},
		{"EventTypeUnknown", "eventTypes", []string{"email.open", "no.such.type"}},
		{"NameTooLong", "name", long(domain.MaxWebhookNameLength + 1)},
		{"NameBlank", "name", "   "},
		{"DescriptionTooLong", "description", long(domain.MaxWebhookDescriptionLength + 1)},
		{"HeaderHost", "headers", headers("Host")},
		{"HeaderContentLength", "headers", headers("content-length")},
		{"HeaderWebhookID", "headers", headers("webhook-id")},
		{"HeaderMalformedName", "headers", headers("Bad Header:")},
		{"HeaderValueCRLF", "headers", []map[string]any{{"name": "X-Ok", "value": "a\r\nInjected: 1"}}},
		{"RateLimitTooHigh", "rateLimit", map[string]any{"perSecond": domain.MaxRateLimitPerSecond + 1}},
		{"MaxConcurrencyZero", "maxConcurrency", -1},
	} {
		t.Run("Create"+tc.name, func(t *testing.T) {
			input := valid()
			input[tc.set] = tc.value
			w, ue := c.CreateWebhook(t, input)
			wantUserError(t, w != nil, ue, tc.set)
			unchanged(t)
		})
		t.Run("Update"+tc.name, func(t *testing.T) {
			input := map[string]any{"id": hook.ID, tc.set: tc.value}
			r := c.Do(t, `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { webhook { id } userErrors { field message code } } }`, map[string]any{"input": input})
			var out struct {
				UpdateWebhook struct {
					Webhook    *gqltest.Webhook
					UserErrors []gqltest.UserError
				} `json:"updateWebhook"`
			}
			if err := r.Decode(&out); err != nil {
				t.Fatal(err)
			}
			wantUserError(t, out.UpdateWebhook.Webhook != nil, out.UpdateWebhook.UserErrors, tc.set)
			unchanged(t)
		})
	}

	t.Run("SSRFGuard", func(t *testing.T) {
		guarded := srv.Env.App.Guard
		srv.Env.App.Guard = &netguard.Guard{} // no allow-list: production defaults
		defer func() { srv.Env.App.Guard = guarded }()
		for _, u := range []string{"http://10.0.0.1/x", "http://127.0.0.1/x", "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data", "http://[::ffff:10.0.0.1]/x", "http://100.64.0.1/x"} {
			input := valid()
			input["url"] = u
			w, ue := c.CreateWebhook(t, input)
			wantUserError(t, w != nil, ue, "url")
			r := c.Do(t, `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { userErrors { field message code } } }`, map[string]any{"input": map[string]any{"id": hook.ID, "url": u}})
			if !strings.Contains(string(r.Body), `"field":["input","url"]`) || !strings.Contains(string(r.Body), `"code":"INVALID"`) {
				t.Errorf("updateWebhook to %s: %s, want INVALID on url", u, r.Body)
			}
		}
		unchanged(t)
	})

	t.Run("PageSize", func(t *testing.T) {
		for _, q := range []string{
			`{ webhooks(first: 101) { totalCount } }`,
			`{ webhooks(first: 0) { totalCount } }`,
			`{ webhooks(first: -1) { totalCount } }`,
			`query($id: ID!) { history(subject: $id, first: 101) { nodes { type } } }`,
		} {
			r := c.Do(t, q, map[string]any{"id": hook.ID})
			if !r.HasCode(domain.EINVALID) || !strings.Contains(string(r.Body), "first must be between 1 and 100") {
				t.Errorf("%s: %s, want an INVALID error about first", q, r.Body)
			}
		}
		r := c.Do(t, `{ webhooks(after: "!!not a cursor!!") { totalCount } }`, nil)
		if !r.HasCode(domain.EINVALID) {
			t.Errorf("a forged cursor: %s, want INVALID", r.Body)
		}
	})

	t.Run("BodyTooLarge", func(t *testing.T) {
		big := `{"query":"{ viewer { keyId } }","variables":{"pad":"` + long(graph.MaxBodyBytes) + `"}}`
		for name, body := range map[string]io.Reader{
			"WithLength": strings.NewReader(big),
			"Chunked":    io.MultiReader(strings.NewReader(big)), // hides the length
		} {
			r, err := c.PostRaw(t.Context(), "application/json", body)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if r.Status != http.StatusRequestEntityTooLarge || !r.HasCode(domain.ETOOLARGE) {
				t.Errorf("%s: %d %s, want 413 TOO_LARGE", name, r.Status, r.Body)
			}
		}
		// Exactly the limit is still accepted.
		pad := graph.MaxBodyBytes - len(`{"query":"{ viewer { keyId } }","variables":{"pad":""}}`)
		r, err := c.PostRaw(t.Context(), "application/json", strings.NewReader(`{"query":"{ viewer { keyId } }","variables":{"pad":"`+long(pad)+`"}}`))
		if err != nil || r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("a body of exactly 1 MiB: %v %d %.200s", err, r.Status, r.Body)
		}
		unchanged(t)
	})

	t.Run("Malformed", func(t *testing.T) {
		for _, body := range []string{
			`{"query":"{ webhooks { totalCount "}`,
			`{"query":"mutation { createWebhook(input: {name: \"x\"}) { userErrors { code } } }"}`,
			`{"query":"{ noSuchField }"}`,
			`{"query": 42}`,
			`not json at all`,
		} {
			r, err := c.PostRaw(t.Context(), "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status < 400 || r.Status > 499 || len(r.Errors) == 0 || r.Errors[0].Code() == "" {
				t.Errorf("%s: %d %s, want a 4xx with a coded error", body, r.Status, r.Body)
			}
		}
		r, _ := c.PostRaw(t.Context(), "application/json", strings.NewReader(`{"query":"{ webhooks { totalCount "}`))
		if !r.HasCode("GRAPHQL_PARSE_FAILED") {
			t.Errorf("a syntax error: %s, want GRAPHQL_PARSE_FAILED", r.Body)
		}
		unchanged(t)
	})

	t.Run("ComplexityLimit", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("{")
		for i := range 20 {
			q.WriteString(" a" + string(rune('a'+i)) + ": webhooks(first: 100) { nodes { " + gqltest.WebhookFields + " } }")
		}
		q.WriteString(" }")
		r := c.Do(t, q.String(), nil)
		if !r.HasCode("COMPLEXITY_LIMIT_EXCEEDED") || len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("20 pages of 100 webhooks in one request: %d %.300s, want refused with COMPLEXITY_LIMIT_EXCEEDED", r.Status, r.Body)
		}
		// One full page is an ordinary request and stays allowed.
		c.MustData(t, `{ webhooks(first: 100) { totalCount nodes { `+gqltest.WebhookFields+` } edges { cursor } pageInfo { hasNextPage endCursor } } }`, nil, nil)
	})
}

// wantUserError checks a payload refused the input with INVALID on field.
func wantUserError(t *testing.T, gotObject bool, ue []gqltest.UserError, field string) {
	t.Helper()
	if gotObject || len(ue) != 1 || ue[0].Code != domain.EINVALID || !slices.Equal(ue[0].Field, []string{"input", field}) || ue[0].Message == "" {
		t.Errorf("userErrors %v (object returned: %v), want one INVALID on input.%s", ue, gotObject, field)
	}
}
