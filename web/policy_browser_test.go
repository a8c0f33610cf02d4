package web_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// TestBrowserDeliveryPolicy drives the body format and retry fieldsets of
// the webhook form in Chromium: a malformed delay is caught in the page, a
// custom schedule and the form body are saved and shown, an out-of-bounds
// delay comes back as a userError under the retry fieldset, and an edit
// switches to the short schedule.
func TestBrowserDeliveryPolicy(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)

	do(t, ctx, "fill the new-webhook form",
		chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-url")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "SMTPeter bounces"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/bounce.php"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.bounce"]`)),
		chromedp.Click(chromedp.CSS("#new-bodyFormat-FORM")))
	if visible(t, ctx, "#new-retry-custom") {
		t.Error("the custom delays show before CUSTOM is chosen")
	}
	do(t, ctx, "choose a malformed custom schedule",
		chromedp.Click(chromedp.CSS("#new-retrySchedule-CUSTOM")),
		chromedp.WaitVisible(chromedp.CSS("#new-retry-delays")),
		chromedp.SendKeys(chromedp.CSS("#new-retry-delays"), "30s, soon"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
	waitJS(t, ctx, "the delay error", `document.querySelector('#new-retryPolicy-error').textContent.includes('soon')`, wait)
	if got := eval[string](t, ctx, `document.activeElement.id`); got != "new-retryPolicy" && !strings.HasPrefix(got, "new-retry") {
		t.Errorf("focus on %q, not the retry fieldset", got)
	}

	do(t, ctx, "save a custom schedule",
		chromedp.SetValue(chromedp.CSS("#new-retry-delays"), "30s, 5m"),
		chromedp.SetValue(chromedp.CSS("#new-retry-timeout"), "10"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-policy")))
	policy := text(t, ctx, "#webhook-policy")
	for _, want := range []string{"form-encoded", "Custom retries: at once, 30 s, 5 min", "3 attempts over 5 min 30 s", "timeout 10 s"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy line %q lacks %q", policy, want)
		}
	}
	view := onlyWebhook(t, s)
	if view.BodyFormat != domain.BodyFormatForm || view.Retry.Schedule != domain.RetryScheduleCustom ||
		!reflect.DeepEqual(view.Retry.DelaysSeconds, []int{30, 300}) || view.Retry.AttemptTimeoutSeconds != 10 {
		t.Fatalf("stored settings %+v %+v", view.BodyFormat, view.Retry)
	}

	do(t, ctx, "open the edit form", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#edit-retry-delays")))
	got := eval[[]any](t, ctx, `[document.querySelector('#edit-bodyFormat-FORM').checked, document.querySelector('#edit-retrySchedule-CUSTOM').checked,
		document.querySelector('#edit-retry-delays').value, document.querySelector('#edit-retry-timeout').value]`)
	if !reflect.DeepEqual(got, []any{true, true, "30s, 5m", "10"}) {
		t.Errorf("edit form shows %v", got)
	}
	do(t, ctx, "submit a delay over a day",
		chromedp.SetValue(chromedp.CSS("#edit-retry-delays"), "2d"),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "the server's userError", `document.querySelector('#edit-retryPolicy-error').textContent.includes('between 1 and 86400 seconds')`, wait)
	if eval[string](t, ctx, `document.querySelector('#edit-retryPolicy').getAttribute('aria-invalid')`) != "true" {
		t.Error("the retry fieldset is not marked invalid")
	}

	do(t, ctx, "switch to the short schedule",
		chromedp.Click(chromedp.CSS("#edit-retrySchedule-SHORT")),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "the short schedule", `document.querySelector('#webhook-policy').textContent.includes('Short retries')`, wait)
	if p := text(t, ctx, "#webhook-policy"); !strings.Contains(p, "7 attempts over 18 min 35 s") || !strings.Contains(p, "form-encoded") {
		t.Errorf("policy line after the edit: %q", p)
	}
	if view := onlyWebhook(t, s); view.Retry.Schedule != domain.RetryScheduleShort || view.Retry.DelaysSeconds != nil || view.BodyFormat != domain.BodyFormatForm {
		t.Errorf("stored after the edit: %+v %+v", view.BodyFormat, view.Retry)
	}
}

// onlyWebhook reads the account's one webhook from the read model.
func onlyWebhook(t *testing.T, s *uiServer) domain.WebhookState {
	t.Helper()
	page, err := s.env.App.Webhooks(context.Background(), s.principal, webhooks.WebhookFilter{}, 10, "")
	if err != nil || len(page.Webhooks) != 1 {
		t.Fatalf("webhooks: %d, %v", len(page.Webhooks), err)
	}
	return page.Webhooks[0].WebhookState
}

// TestBrowserSendTraceparent drives the tracing checkbox of the webhook
// form in Chromium: off by default, saved on, shown on the manage page and
// in the edit form, and saved off again.
func TestBrowserSendTraceparent(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)

	do(t, ctx, "fill the new-webhook form",
		chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-sendTraceparent")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "traced"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/traced"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.bounce"]`)))
	if eval[bool](t, ctx, `document.querySelector('#new-sendTraceparent').checked`) {
		t.Fatal("the traceparent checkbox is on by default")
	}
	do(t, ctx, "save with the traceparent header on",
		chromedp.Click(chromedp.CSS("#new-sendTraceparent")),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-policy")))
	if p := text(t, ctx, "#webhook-policy"); !strings.Contains(p, "traceparent header sent") {
		t.Errorf("policy line %q does not say the traceparent header is sent", p)
	}
	if !onlyWebhook(t, s).SendTraceparent {
		t.Fatal("the stored webhook does not send traceparent")
	}

	do(t, ctx, "open the edit form", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#edit-sendTraceparent")))
	if !eval[bool](t, ctx, `document.querySelector('#edit-sendTraceparent').checked`) {
		t.Fatal("the edit form shows the traceparent header off")
	}
	do(t, ctx, "turn it off",
		chromedp.Click(chromedp.CSS("#edit-sendTraceparent")),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "the policy line without traceparent", `!document.querySelector('#webhook-policy').textContent.includes('traceparent')`, wait)
	if onlyWebhook(t, s).SendTraceparent {
		t.Fatal("the stored webhook still sends traceparent")
	}
}
