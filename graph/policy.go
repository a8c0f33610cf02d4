package graph

import (
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// The per-webhook delivery settings (body format, retry policy) between
// GraphQL and the domain. Domain values are the lowercase GraphQL names.

func bodyFormatIn(in *model.BodyFormat) *domain.BodyFormat {
	if in == nil {
		return nil
	}
	f := domain.BodyFormat(strings.ToLower(string(*in)))
	return &f
}

func retrySettingsIn(in *model.RetryPolicyInput) *domain.RetrySettings {
	if in == nil {
		return nil
	}
	return &domain.RetrySettings{
		Schedule:              domain.RetrySchedule(strings.ToLower(string(in.Schedule))),
		DelaysSeconds:         in.DelaysSeconds,
		AttemptTimeoutSeconds: deref(in.AttemptTimeoutSeconds),
	}
}

// setDeliverySettings fills w's bodyFormat and retryPolicy from v: the
// policy as it applies over the server's default base, so the UI shows
// the real schedule whatever was chosen.
func setDeliverySettings(w *model.Webhook, v app.WebhookView, base domain.RetryPolicy) {
	w.BodyFormat = model.BodyFormatJSON
	if v.BodyFormat == domain.BodyFormatForm {
		w.BodyFormat = model.BodyFormatForm
	}
	schedule := model.RetrySchedule(strings.ToUpper(string(v.Retry.Schedule)))
	if v.Retry.Schedule == "" {
		schedule = model.RetryScheduleDefault
	}
	p := v.RetryPolicy(base)
	out := &model.RetryPolicy{Schedule: schedule, MaxAttempts: p.MaxAttempts(), DelaysSeconds: []int{},
		AttemptTimeoutSeconds: int(v.Retry.AttemptTimeout() / time.Second)}
	for _, d := range p.Schedule[1:] {
		out.DelaysSeconds = append(out.DelaysSeconds, int(d/time.Second))
		out.TotalSeconds += int(d / time.Second)
	}
	w.RetryPolicy = out
	w.SendTraceparent = v.SendTraceparent
}
