package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

func TestPortalSessionDecide(t *testing.T) {
	t1 := t0.Add(time.Minute)
	tokenHash := HashKeySecret("link-secret-link-secret")
	cookieHash := HashKeySecret("cookie-secret-cookie")
	acct := AccountCreated{AccountID: "acc1", Name: "Shop", At: t0}
	theme := PortalTheme{BrandColor: "#0a7d4f", LogoURL: "https://platform.example/logo.svg", ProductName: "Shop Mail"}
	created := PortalSessionCreated{SessionID: "sess00001", AccountID: "acc1", Scope: PortalReadOnly, SecretHash: tokenHash, Theme: theme, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	exchanged := PortalSessionExchanged{SessionID: "sess00001", AccountID: "acc1", SecretHash: cookieHash, At: t0}
	revoked := PortalSessionRevoked{SessionID: "sess00001", AccountID: "acc1", At: t0}
	mint := CreatePortalSession{SessionID: "sess00002", Scope: PortalFull, SecretHash: tokenHash, Theme: theme, TTL: 15 * time.Minute}
	exchange := ExchangePortalSession{SessionID: "sess00001", Secret: "link-secret-link-secret", CookieHash: cookieHash}
	with := func(f func(*CreatePortalSession)) CreatePortalSession { c := mint; f(&c); return c }

	tests := []struct {
		name    string
		given   []eventstore.Event
		when    AccountCommand
		then    []eventstore.Event
		wantErr error // or wantCode
		code    string
	}{
		{"Create", []eventstore.Event{acct}, mint, []eventstore.Event{PortalSessionCreated{
			SessionID: "sess00002", AccountID: "acc1", Scope: PortalFull, SecretHash: tokenHash, Theme: theme, CreatedAt: t1, ExpiresAt: t1.Add(15 * time.Minute),
		}}, nil, ""},
		{"ErrCreateNoAccount", nil, mint, nil, nil, ENOTFOUND},
		{"ErrCreateBadScope", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.Scope = "admin" }), nil, nil, EINVALID},
		{"ErrCreateTTLTooLong", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.TTL = 25 * time.Hour }), nil, nil, EINVALID},
		{"ErrCreateTTLTooShort", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.TTL = time.Second }), nil, nil, EINVALID},
		{"ErrCreateBadHash", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.SecretHash = "x" }), nil, nil, EINVALID},
		{"ErrCreateBadColour", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.Theme.BrandColor = "red;}" }), nil, nil, EINVALID},
		{"ErrCreateHTTPLogo", []eventstore.Event{acct}, with(func(c *CreatePortalSession) { c.Theme.LogoURL = "http://x.example/l.png" }), nil, nil, EINVALID},
		{"ErrCreateDuplicate", []eventstore.Event{acct, created}, with(func(c *CreatePortalSession) { c.SessionID = "sess00001" }), nil, nil, ECONFLICT},

		{"Exchange", []eventstore.Event{acct, created}, exchange, []eventstore.Event{PortalSessionExchanged{SessionID: "sess00001", AccountID: "acc1", SecretHash: cookieHash, At: t1}}, nil, ""},
		{"ErrExchangeTwice", []eventstore.Event{acct, created, exchanged}, exchange, nil, ErrPortalLinkUsed, ""},
		{"ErrExchangeWrongSecret", []eventstore.Event{acct, created}, ExchangePortalSession{SessionID: "sess00001", Secret: "guess", CookieHash: cookieHash}, nil, ErrPortalLinkInvalid, ""},
		{"ErrExchangeUnknown", []eventstore.Event{acct, created}, ExchangePortalSession{SessionID: "nope00000", Secret: "link-secret-link-secret", CookieHash: cookieHash}, nil, ErrPortalLinkInvalid, ""},
		{"ErrExchangeRevoked", []eventstore.Event{acct, created, revoked}, exchange, nil, ErrPortalLinkRevoked, ""},

		{"Revoke", []eventstore.Event{acct, created, exchanged}, RevokePortalSession{SessionID: "sess00001"}, []eventstore.Event{PortalSessionRevoked{SessionID: "sess00001", AccountID: "acc1", At: t1}}, nil, ""},
		{"ErrRevokeTwice", []eventstore.Event{acct, created, revoked}, RevokePortalSession{SessionID: "sess00001"}, nil, nil, EINVALID},
		{"ErrRevokeUnknown", []eventstore.Event{acct}, RevokePortalSession{SessionID: "sess00001"}, nil, nil, ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecideAccount(FoldAccount(tc.given), tc.when, t1)
			if tc.wantErr != nil && err != tc.wantErr {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if code := ErrorCode(err); tc.wantErr == nil && code != tc.code {
				t.Fatalf("error = %v (code %q), want code %q", err, code, tc.code)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events:\n got %#v\nwant %#v", got, tc.then)
			}
		})
	}
}

func TestPortalSessionExpiry(t *testing.T) {
	created := PortalSessionCreated{SessionID: "sess00001", AccountID: "acc1", Scope: PortalFull, SecretHash: HashKeySecret("link-secret-link-secret"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	s := FoldAccount([]eventstore.Event{AccountCreated{AccountID: "acc1", Name: "Shop", At: t0}, created})
	exchange := ExchangePortalSession{SessionID: "sess00001", Secret: "link-secret-link-secret", CookieHash: HashKeySecret("c")}
	if _, err := DecideAccount(s, exchange, t0.Add(time.Hour)); err != ErrPortalLinkExpired {
		t.Fatalf("exchange at expiry: %v, want %v", err, ErrPortalLinkExpired)
	}
	if s.Sessions["sess00001"].ValidAt(t0) {
		t.Fatal("a session whose link was never used authenticates")
	}
	events, err := DecideAccount(s, exchange, t0.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	after := EvolveAccount(s, events[0])
	ps := after.Sessions["sess00001"]
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(59 * time.Minute), true}, {t0.Add(time.Hour - time.Nanosecond), true}, {t0.Add(time.Hour), false}} {
		if got := ps.ValidAt(tc.at); got != tc.want {
			t.Errorf("ValidAt(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if s.Sessions["sess00001"].Exchanged() {
		t.Fatal("evolving changed the earlier state's sessions")
	}
	if ps.ReadOnly() || !(PortalSession{Scope: PortalReadOnly}).ReadOnly() {
		t.Fatal("ReadOnly is wrong")
	}
	revoked := EvolveAccount(after, PortalSessionRevoked{SessionID: "sess00001", AccountID: "acc1", At: t0.Add(time.Minute)})
	if revoked.Sessions["sess00001"].ValidAt(t0.Add(2 * time.Minute)) {
		t.Fatal("a revoked session authenticates")
	}
}

func TestPortalTheme(t *testing.T) {
	for _, tc := range []struct {
		name  string
		theme PortalTheme
		field string
	}{
		{"Empty", PortalTheme{}, ""},
		{"Full", PortalTheme{BrandColor: "#AABBCC", LogoURL: "https://cdn.example/logo.png?v=2", ProductName: "Mail"}, ""},
		{"LocalLogo", PortalTheme{LogoURL: "/ui/logo.svg"}, ""},
		{"ShortColour", PortalTheme{BrandColor: "#abc"}, "theme.brandColor"},
		{"CSSInjection", PortalTheme{BrandColor: "#abcdef;background:url(x)"}, "theme.brandColor"},
		{"ProtocolRelativeLogo", PortalTheme{LogoURL: "//evil.example/l.png"}, "theme.logoUrl"},
		{"JavascriptLogo", PortalTheme{LogoURL: "javascript:alert(1)"}, "theme.logoUrl"},
		{"QuoteInLogo", PortalTheme{LogoURL: "https://x.example/a'b.png"}, "theme.logoUrl"},
		{"LongName", PortalTheme{ProductName: strings.Repeat("n", 101)}, "theme.productName"},
		{"TwoLineName", PortalTheme{ProductName: "a\nb"}, "theme.productName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.theme.Validate()
			var field string
			if e, ok := err.(*Error); ok {
				field = e.Field
			}
			if field != tc.field || (tc.field == "") != (err == nil) {
				t.Fatalf("Validate() = %v, want field %q", err, tc.field)
			}
		})
	}
	merged := PortalTheme{ProductName: "Session"}.Merge(PortalTheme{ProductName: "Config", BrandColor: "#000000"})
	if merged != (PortalTheme{ProductName: "Session", BrandColor: "#000000"}) {
		t.Fatalf("Merge = %+v", merged)
	}
}

func TestParsePortalTheme(t *testing.T) {
	got, err := ParsePortalTheme([]byte("brandColor: '#112233'\nproductName: Shop Mail\n"))
	if err != nil || got != (PortalTheme{BrandColor: "#112233", ProductName: "Shop Mail"}) {
		t.Fatalf("YAML: %+v %v", got, err)
	}
	got, err = ParsePortalTheme([]byte(`{"logoUrl": "https://cdn.example/l.svg"}`))
	if err != nil || got.LogoURL != "https://cdn.example/l.svg" {
		t.Fatalf("JSON: %+v %v", got, err)
	}
	for _, bad := range []string{"brandcolor: '#112233'", "brandColor: red", "- a"} {
		if _, err := ParsePortalTheme([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
