package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/webhooks"
	"github.com/webhookd/webhookd/signature"
)

// errWebhookNotFound is what every caller sees for a webhook that does not
// exist, was deleted, or belongs to another account: the three must be
// indistinguishable.
var errWebhookNotFound = domain.FieldErrorf(domain.ENOTFOUND, "id", "webhook not found")

// ownedBy refuses a webhook that the principal's account does not own, or
// that does not exist.
func ownedBy(p Principal) func(domain.WebhookState) error {
	return func(s domain.WebhookState) error {
		if !s.Exists() || s.AccountID != p.AccountID {
			return errWebhookNotFound
		}
		return nil
	}
}

// CreateWebhook registers a webhook for the principal's account. IDs, the
// signing secret and the verification file are generated here; the rest of
// cmd comes from the caller.
func (a *App) CreateWebhook(ctx context.Context, p Principal, cmd domain.CreateWebhook) (webhooks.WebhookView, error) {
	var err error
	cmd.WebhookID = uuid.NewString()
	cmd.AccountID = p.AccountID
	if cmd.Secret, err = signature.NewSecret(a.Random); err != nil {
		return webhooks.WebhookView{}, err
	}
	if cmd.VerificationFile, err = domain.NewVerificationFile(a.Random); err != nil {
		return webhooks.WebhookView{}, err
	}
	if err := cmd.Validate(a.Catalogue.Known); err != nil {
		return webhooks.WebhookView{}, err
	}
	if err := a.checkURL(ctx, cmd.URL); err != nil {
		return webhooks.WebhookView{}, err
	}
	if _, err := a.webhookCommand(ctx, cmd.WebhookID, nil, nil, cmd); err != nil {
		return webhooks.WebhookView{}, err
	}
	return a.Webhook(ctx, p, cmd.WebhookID)
}

// UpdateWebhook changes a webhook's settings. A new URL gets a new
// verification file and makes the webhook unverified.
func (a *App) UpdateWebhook(ctx context.Context, p Principal, id string, expectedRevision *uint64, cmd domain.UpdateWebhook) (webhooks.WebhookView, error) {
	if err := cmd.Validate(a.Catalogue.Known); err != nil {
		return webhooks.WebhookView{}, err
	}
	if cmd.URL != nil {
		if err := a.checkURL(ctx, *cmd.URL); err != nil {
			return webhooks.WebhookView{}, err
		}
		file, err := domain.NewVerificationFile(a.Random)
		if err != nil {
			return webhooks.WebhookView{}, err
		}
		cmd.VerificationFile = file
	}
	return a.runWebhookCommand(ctx, p, id, expectedRevision, cmd)
}

// DeleteWebhook deletes a webhook for good.
func (a *App) DeleteWebhook(ctx context.Context, p Principal, id string) error {
	_, err := a.webhookCommand(ctx, id, nil, ownedBy(p), domain.DeleteWebhook{})
	return err
}

// PauseWebhook stops deliveries until ResumeWebhook.
func (a *App) PauseWebhook(ctx context.Context, p Principal, id string) (webhooks.WebhookView, error) {
	return a.runWebhookCommand(ctx, p, id, nil, domain.PauseWebhook{})
}

// ResumeWebhook restarts deliveries to a paused webhook, or to one that
// webhookd disabled after failures: to the account holder both are "off".
func (a *App) ResumeWebhook(ctx context.Context, p Principal, id string) (webhooks.WebhookView, error) {
	view, err := a.Webhook(ctx, p, id)
	if err != nil {
		return view, err
	}
	var cmd domain.WebhookCommand = domain.ResumeWebhook{}
	if view.Status == domain.WebhookStatusDisabled {
		cmd = domain.EnableWebhook{}
	}
	return a.runWebhookCommand(ctx, p, id, nil, cmd)
}

// RotateWebhookSecret issues a new signing secret; the old one keeps
// signing alongside it for overlap (0 means the default, 24 h).
func (a *App) RotateWebhookSecret(ctx context.Context, p Principal, id string, overlap time.Duration) (webhooks.WebhookView, error) {
	secret, err := signature.NewSecret(a.Random)
	if err != nil {
		return webhooks.WebhookView{}, err
	}
	return a.runWebhookCommand(ctx, p, id, nil, domain.RotateWebhookSecret{Secret: secret, Overlap: overlap})
}

// VerifyWebhook fetches the webhook's verification file from the callback
// URL's directory, then the site root, and records the outcome. It returns
// the updated webhook, whether it is verified, and the failure reason.
func (a *App) VerifyWebhook(ctx context.Context, p Principal, id string) (webhooks.WebhookView, bool, string, error) {
	view, err := a.Webhook(ctx, p, id)
	if err != nil {
		return view, false, "", err
	}
	if view.Verification.Status == domain.VerificationVerified {
		return view, true, "", nil // proven ownership is never taken back by a later miss
	}
	ok, reason := a.Verifier.Fetch(ctx, view.URL, view.Verification.File)
	var cmd domain.WebhookCommand = domain.RecordVerificationSucceeded{URL: view.URL, FileName: view.Verification.File.Name}
	if !ok {
		cmd = domain.RecordVerificationFailed{URL: view.URL, FileName: view.Verification.File.Name, Reason: reason}
	}
	view, err = a.runWebhookCommand(ctx, p, id, nil, cmd)
	return view, ok && err == nil, reason, err
}

func (a *App) runWebhookCommand(ctx context.Context, p Principal, id string, expectedRevision *uint64, cmd domain.WebhookCommand) (webhooks.WebhookView, error) {
	if _, err := a.webhookCommand(ctx, id, expectedRevision, ownedBy(p), cmd); err != nil {
		return webhooks.WebhookView{}, err
	}
	return a.Webhook(ctx, p, id)
}

// Webhook returns one of the principal's webhooks from the read model.
func (a *App) Webhook(ctx context.Context, p Principal, id string) (webhooks.WebhookView, error) {
	view, ok, err := a.Read.Webhook(p.AccountID, id)
	if err != nil {
		return view, err
	}
	if !ok {
		return view, errWebhookNotFound
	}
	return view, nil
}

// Webhooks pages through the principal's webhooks.
func (a *App) Webhooks(ctx context.Context, p Principal, f webhooks.WebhookFilter, first int, after string) (webhooks.WebhookPage, error) {
	return a.Read.Webhooks(p.AccountID, f, first, after)
}

// checkURL runs the SSRF guard, reporting a refusal as a user error on the
// url field.
func (a *App) checkURL(ctx context.Context, raw string) error {
	if a.Guard == nil {
		return nil
	}
	if err := a.Guard.CheckURL(ctx, raw); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return err
		}
		return domain.FieldErrorf(domain.EINVALID, "url", "%s", err.Error())
	}
	return nil
}
