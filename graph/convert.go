package graph

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// Global ID kinds.
const (
	kindWebhook = "Webhook"
	kindAccount = "Account"
)

// maxPage caps `first` on every connection.
const maxPage = 100

func pageSize(first *int, def int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 1 || *first > maxPage {
		return 0, domain.FieldErrorf(domain.EINVALID, "first", "first must be between 1 and %d", maxPage)
	}
	return *first, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func accountNode(id string) *model.Account {
	return &model.Account{ID: domain.EncodeGlobalID(kindAccount, id), Name: id}
}

func webhookStatus(v app.WebhookView) model.WebhookStatus {
	switch {
	case v.Status == domain.WebhookStatusPaused:
		return model.WebhookStatusPaused
	case v.Status == domain.WebhookStatusDeleted:
		return model.WebhookStatusDeleted
	case v.Status == domain.WebhookStatusDisabled:
		return model.WebhookStatusDisabled
	case v.Verification.Status != domain.VerificationVerified:
		return model.WebhookStatusUnverified
	default:
		return model.WebhookStatusActive
	}
}

// toWebhook is the API's view of a webhook; its retry policy is shown
// over the server's default.
func (r *Resolver) toWebhook(v app.WebhookView) *model.Webhook {
	gid := domain.EncodeGlobalID(kindWebhook, v.ID)
	w := &model.Webhook{
		ID: gid, Account: accountNode(v.AccountID), Name: v.Name, Description: v.Description,
		URL: v.URL, EventTypes: slices.Clone(v.EventTypes), Status: webhookStatus(v),
		RateLimit:      &model.RateLimit{PerSecond: v.RateLimit.PerSecond, Burst: v.RateLimit.Burst},
		MaxConcurrency: v.MaxConcurrency, Secret: v.Secret,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Revision: int(v.Revision),
		Verification: toVerification(v, gid),
	}
	if v.DisabledReason != "" {
		w.DisabledReason = &v.DisabledReason
	}
	if !v.PreviousSecretExpiresAt.IsZero() && v.PreviousSecret != "" {
		t := v.PreviousSecretExpiresAt
		w.PreviousSecretExpiresAt = &t
	}
	w.Headers = toHeaders(v.Headers)
	if v.Filter != "" {
		w.Filter = model.JSON(v.Filter)
	}
	setDeliverySettings(w, v, r.App.RetryPolicy)
	w.Ordering = toOrdering(v)
	w.Batching = toBatching(v)
	return w
}

// toHeaders lists headers sorted by name, so answers are stable; never nil.
func toHeaders(m map[string]string) []model.Header {
	out := make([]model.Header, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, model.Header{Name: name, Value: m[name]})
	}
	return out
}

// pageArgs resolves a connection's caller and page size (first, or def).
func pageArgs(ctx context.Context, first *int, def int) (app.Principal, int, error) {
	p, err := principal(ctx)
	if err != nil {
		return p, 0, err
	}
	n, err := pageSize(first, def)
	return p, n, err
}

func toVerification(v app.WebhookView, gid string) *model.Verification {
	ver := v.Verification
	out := &model.Verification{
		Status:       model.VerificationStatus(map[domain.VerificationStatus]string{domain.VerificationVerified: "VERIFIED", domain.VerificationFailed: "FAILED"}[ver.Status]),
		FileName:     ver.File.Name,
		FileContent:  ver.File.Token,
		DownloadPath: "/webhooks/" + gid + "/verification-file",
		CheckedUrls:  []string{},
	}
	if out.Status == "" {
		out.Status = model.VerificationStatusUnverified
	}
	if urls, err := domain.VerificationFileLocations(v.URL, ver.File); err == nil {
		out.CheckedUrls = urls
	}
	if ver.FailureReason != "" && ver.Status == domain.VerificationFailed {
		out.FailureReason = &ver.FailureReason
	}
	if !ver.At.IsZero() && ver.Status != domain.VerificationUnverified {
		t := ver.At
		out.LastCheckedAt = &t
		if ver.Status == domain.VerificationVerified {
			out.VerifiedAt = &t
		}
	}
	return out
}

func toAPIKey(k domain.APIKey) model.APIKey {
	out := model.APIKey{ID: k.ID, Account: k.AccountID, Scope: model.Scope(toUpper(string(k.Scope))), Label: k.Label, CreatedAt: k.CreatedAt}
	if !k.ExpiresAt.IsZero() {
		t := k.ExpiresAt
		out.ExpiresAt = &t
	}
	if !k.RevokedAt.IsZero() {
		t := k.RevokedAt
		out.RevokedAt = &t
	}
	return out
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func toHistoryEvent(e app.HistoryEntry) model.HistoryEvent {
	return model.HistoryEvent{
		Type: e.Type, Stream: e.Stream, Revision: int(e.Revision),
		Position: strconv.FormatUint(uint64(e.Position), 10), Time: e.Time.UTC().Truncate(time.Millisecond),
		Data: model.JSON(e.Data),
	}
}

// webhookID decodes a global webhook ID. A malformed one, or one of another
// kind, is reported as not found: it names no webhook the caller has.
func webhookID(gid string) (string, bool) {
	kind, id, err := domain.DecodeGlobalID(gid)
	if err != nil || kind != kindWebhook {
		return "", false
	}
	return id, true
}
