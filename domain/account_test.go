package domain

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

func TestAccountDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	hash := HashKeySecret("s3cr3t-s3cr3t-s3cr3t")
	acct := AccountCreated{AccountID: "acc1", Name: "Shop", At: t0}
	key := APIKeyCreated{KeyID: "0123456789abcdef", AccountID: "acc1", Scope: ScopeAccount, SecretHash: hash, CreatedAt: t0}
	revoked := APIKeyRevoked{KeyID: key.KeyID, AccountID: "acc1", At: t0}
	expiry := t1.Add(30 * 24 * time.Hour)
	newKey := CreateAPIKey{KeyID: "fedcba9876543210", Scope: ScopePublisher, SecretHash: hash, Label: "platform", ExpiresAt: expiry}

	tests := []struct {
		name     string
		given    []eventstore.Event
		when     AccountCommand
		then     []eventstore.Event
		wantCode string
	}{
		{"CreateAccount", nil, CreateAccount{AccountID: "acc1", Name: "Shop"}, []eventstore.Event{AccountCreated{AccountID: "acc1", Name: "Shop", At: t1}}, ""},
		{"ErrCreateAccountTwice", []eventstore.Event{acct}, CreateAccount{AccountID: "acc1", Name: "Shop"}, nil, ECONFLICT},
		{"ErrCreateAccountNoID", nil, CreateAccount{Name: "Shop"}, nil, EINVALID},
		{"ErrCreateAccountNoName", nil, CreateAccount{AccountID: "acc1", Name: " "}, nil, EINVALID},
		{"ErrCreateAccountLongName", nil, CreateAccount{AccountID: "acc1", Name: strings.Repeat("n", 101)}, nil, EINVALID},

		{"CreateKey", []eventstore.Event{acct}, newKey, []eventstore.Event{APIKeyCreated{
			KeyID: newKey.KeyID, AccountID: "acc1", Scope: ScopePublisher, SecretHash: hash, Label: "platform", CreatedAt: t1, ExpiresAt: &expiry,
		}}, ""},
		{"CreateKeyNoExpiry", []eventstore.Event{acct}, CreateAPIKey{KeyID: "aaaaaaaa", Scope: ScopeAdmin, SecretHash: hash},
			[]eventstore.Event{APIKeyCreated{KeyID: "aaaaaaaa", AccountID: "acc1", Scope: ScopeAdmin, SecretHash: hash, CreatedAt: t1}}, ""},
		{"ErrCreateKeyNoAccount", nil, newKey, nil, ENOTFOUND},
		{"ErrCreateKeyBadScope", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.Scope = "root"; return k }(), nil, EINVALID},
		{"ErrCreateKeyEmptyScope", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.Scope = ""; return k }(), nil, EINVALID},
		{"ErrCreateKeyBadHash", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.SecretHash = "s3cr3t"; return k }(), nil, EINVALID},
		{"ErrCreateKeyBadID", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.KeyID = "has_underscore"; return k }(), nil, EINVALID},
		{"ErrCreateKeyLongLabel", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.Label = strings.Repeat("l", 101); return k }(), nil, EINVALID},
		{"ErrCreateKeyExpired", []eventstore.Event{acct}, func() CreateAPIKey { k := newKey; k.ExpiresAt = t1; return k }(), nil, EINVALID},
		{"ErrCreateKeyDuplicateID", []eventstore.Event{acct, key}, func() CreateAPIKey { k := newKey; k.KeyID = key.KeyID; return k }(), nil, ECONFLICT},
		{"ErrCreateKeyReuseRevokedID", []eventstore.Event{acct, key, revoked}, func() CreateAPIKey { k := newKey; k.KeyID = key.KeyID; return k }(), nil, ECONFLICT},

		{"RevokeKey", []eventstore.Event{acct, key}, RevokeAPIKey{KeyID: key.KeyID}, []eventstore.Event{APIKeyRevoked{KeyID: key.KeyID, AccountID: "acc1", At: t1}}, ""},
		{"ErrRevokeUnknownKey", []eventstore.Event{acct, key}, RevokeAPIKey{KeyID: "nope0000"}, nil, ENOTFOUND},
		{"ErrRevokeRevokedKey", []eventstore.Event{acct, key, revoked}, RevokeAPIKey{KeyID: key.KeyID}, nil, EINVALID},
		{"ErrRevokeNoAccount", nil, RevokeAPIKey{KeyID: key.KeyID}, nil, ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecideAccount(FoldAccount(tc.given), tc.when, t1)
			if code := ErrorCode(err); code != tc.wantCode {
				t.Fatalf("error = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events:\n got %#v\nwant %#v", got, tc.then)
			}
		})
	}
}

func TestAccountKeyValidity(t *testing.T) {
	expiry := t0.Add(24 * time.Hour)
	given := []eventstore.Event{
		AccountCreated{AccountID: "acc1", Name: "Shop", At: t0},
		APIKeyCreated{KeyID: "forever00", AccountID: "acc1", Scope: ScopeAccount, SecretHash: HashKeySecret("a"), CreatedAt: t0},
		APIKeyCreated{KeyID: "expiring0", AccountID: "acc1", Scope: ScopeAccount, SecretHash: HashKeySecret("b"), CreatedAt: t0, ExpiresAt: &expiry},
	}
	s := FoldAccount(given)
	if s.Version != 3 || s.ExpectedRevision() != eventstore.Exact(2) || len(s.Keys) != 2 || !s.CreatedAt.Equal(t0) {
		t.Fatalf("state = %+v", s)
	}
	for _, tc := range []struct {
		name string
		key  string
		at   time.Time
		want bool
	}{
		{"NoExpiry", "forever00", t0.Add(10 * 365 * 24 * time.Hour), true},
		{"BeforeExpiry", "expiring0", expiry.Add(-time.Nanosecond), true},
		{"AtExpiry", "expiring0", expiry, false},
		{"AfterExpiry", "expiring0", expiry.Add(time.Hour), false},
		{"Unknown", "unknown00", t0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.KeyValidAt(tc.key, tc.at); got != tc.want {
				t.Fatalf("KeyValidAt(%s, %v) = %v, want %v", tc.key, tc.at, got, tc.want)
			}
		})
	}
	t.Run("Revoked", func(t *testing.T) {
		events, err := DecideAccount(s, RevokeAPIKey{KeyID: "forever00"}, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		after := EvolveAccount(s, events[0])
		if after.KeyValidAt("forever00", t0.Add(2*time.Hour)) || !after.Keys["forever00"].Revoked() {
			t.Fatal("a revoked key is still valid")
		}
		if !s.KeyValidAt("forever00", t0.Add(2*time.Hour)) {
			t.Fatal("revoking changed the earlier state's keys")
		}
	})
	if (AccountState{}).ExpectedRevision() != eventstore.NoStream {
		t.Fatal("a new account must be appended with NoStream")
	}
}

func TestAPIKeyFormat(t *testing.T) {
	id, secret, err := NewAPIKey(bytes.NewReader(bytes.Repeat([]byte{0xfb}, 44)))
	if err != nil {
		t.Fatal(err)
	}
	if id != strings.Repeat("fb", 12) || len(secret) != 43 || !strings.ContainsAny(secret, "_-") {
		t.Fatalf("id %q secret %q", id, secret) // 0xfb bytes give '-' and '_' in base64url
	}
	raw := FormatAPIKey(id, secret)
	if !strings.HasPrefix(raw, "whk_"+id+"_") {
		t.Fatalf("formatted key %q", raw)
	}
	gotID, gotSecret, err := ParseAPIKey(raw)
	if err != nil || gotID != id || gotSecret != secret {
		t.Fatalf("ParseAPIKey(%q) = %q, %q, %v", raw, gotID, gotSecret, err)
	}
	if _, _, err := NewAPIKey(bytes.NewReader(nil)); err == nil {
		t.Fatal("NewAPIKey from an empty reader succeeded")
	}
}

func TestAPIKeyParseErrors(t *testing.T) {
	good := "abcdef0123456789"
	sec := "0123456789abcdefXYZ_-"
	for _, tc := range []struct{ name, raw string }{
		{"Empty", ""},
		{"NoPrefix", good + "_" + sec},
		{"WrongPrefix", "whx_" + good + "_" + sec},
		{"NoSecret", "whk_" + good},
		{"EmptySecret", "whk_" + good + "_"},
		{"ShortSecret", "whk_" + good + "_short"},
		{"ShortID", "whk_abc_" + sec},
		{"UppercaseID", "whk_ABCDEF0123_" + sec},
		{"BadSecretChars", "whk_" + good + "_" + sec + "!"},
		{"Space", "whk_" + good + "_" + sec + " "},
		{"Bearer", "Bearer whk_" + good + "_" + sec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseAPIKey(tc.raw)
			if ErrorCode(err) != EUNAUTHENTICATED || strings.Contains(ErrorMessage(err), sec) {
				t.Fatalf("ParseAPIKey(%q) = %v", tc.raw, err)
			}
		})
	}
}

func TestAPIKeyHash(t *testing.T) {
	// SHA-256("abc"), the FIPS 180-2 test vector.
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashKeySecret("abc"); got != abc {
		t.Fatalf("HashKeySecret(abc) = %s", got)
	}
	if !KeyMatches(abc, "abc") {
		t.Fatal("the right secret does not match")
	}
	for _, wrong := range []string{"abd", "", "abc "} {
		if KeyMatches(abc, wrong) {
			t.Fatalf("secret %q matches", wrong)
		}
	}
	if KeyMatches("", "abc") || KeyMatches(abc[:63], "abc") || KeyMatches(strings.ToUpper(abc), "abc") {
		t.Fatal("a malformed stored hash matched")
	}
}
