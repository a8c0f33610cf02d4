package domain

import (
	"encoding/base64"
	"strings"
)

// Stream categories. A stream's category is the part of its name before the
// first '-', which is what retention (eventstore.Store.SetMaxAge) and
// EventStoreDB's $by_category projection key on.
const (
	WebhookStreamCategory = "webhook"
	AccountStreamCategory = "account"
)

// WebhookStream names the event stream of one webhook aggregate.
func WebhookStream(id string) string { return WebhookStreamCategory + "-" + id }

// AccountStream names the event stream of one account aggregate (the
// account and its API keys).
func AccountStream(id string) string { return AccountStreamCategory + "-" + id }

// WebhookIDFromStream returns the webhook ID of a webhook stream name, and
// false for any other stream; projections use it to route recorded events.
func WebhookIDFromStream(stream string) (string, bool) {
	return idFromStream(stream, WebhookStreamCategory)
}

// AccountIDFromStream returns the account ID of an account stream name, and
// false for any other stream.
func AccountIDFromStream(stream string) (string, bool) {
	return idFromStream(stream, AccountStreamCategory)
}

func idFromStream(stream, category string) (string, bool) {
	id, ok := strings.CutPrefix(stream, category+"-")
	return id, ok && id != ""
}

// EncodeGlobalID builds the opaque ID the GraphQL API exposes for an object:
// the unpadded base64url encoding of "Kind:id". Clients must treat it as
// opaque; encoding the kind lets node(id) find the right resolver.
func EncodeGlobalID(kind, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id))
}

// DecodeGlobalID reverses EncodeGlobalID. Malformed input is an EINVALID
// error on the field "id"; it never panics, since IDs come from clients.
// Padded base64url is accepted too, for clients that add padding.
func DecodeGlobalID(gid string) (kind, id string, err error) {
	bad := FieldErrorf(EINVALID, "id", "malformed ID")
	if gid == "" || len(gid) > 512 {
		return "", "", bad
	}
	raw, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(gid, "="))
	if derr != nil {
		return "", "", bad
	}
	kind, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" || !isGlobalIDKind(kind) {
		return "", "", bad
	}
	return kind, id, nil
}

// isGlobalIDKind accepts GraphQL type names (letters and digits, starting
// with a letter), which is what kinds are.
func isGlobalIDKind(kind string) bool {
	if kind == "" {
		return false
	}
	for i, r := range kind {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
