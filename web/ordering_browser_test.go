package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestBrowserOrdering drives the Order fieldset of the webhook form in
// Chromium: the key shows only with PER_KEY, a key outside the data comes
// back as a userError under the fieldset, a valid key is saved and shown,
// and an edit switches to PER_WEBHOOK.
func TestBrowserOrdering(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)

	do(t, ctx, "fill the new-webhook form",
		chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-url")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Ordered bounces"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/in"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.bounce"]`)))
	if visible(t, ctx, "#new-ordering-keybox") {
		t.Error("the key shows before PER_KEY is chosen")
	}
	do(t, ctx, "choose PER_KEY with a key outside the data",
		chromedp.Click(chromedp.CSS("#new-orderingMode-PER_KEY")),
		chromedp.WaitVisible(chromedp.CSS("#new-ordering-key")),
		chromedp.SendKeys(chromedp.CSS("#new-ordering-key"), "recipient"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
	waitJS(t, ctx, "the server's userError", `document.querySelector('#new-ordering-error').textContent.includes('dotted path')`, wait)
	if eval[string](t, ctx, `document.querySelector('#new-ordering').getAttribute('aria-invalid')`) != "true" {
		t.Error("the ordering fieldset is not marked invalid")
	}

	do(t, ctx, "save PER_KEY on data.recipient",
		chromedp.SetValue(chromedp.CSS("#new-ordering-key"), "data.recipient"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-ordering")))
	if got := text(t, ctx, "#webhook-ordering"); !strings.Contains(got, "one at a time per data.recipient") {
		t.Errorf("ordering line %q", got)
	}
	if view := onlyWebhook(t, s); view.Ordering != (domain.Ordering{Mode: domain.OrderingPerKey, Key: "data.recipient"}) {
		t.Fatalf("stored ordering %+v", view.Ordering)
	}

	do(t, ctx, "open the edit form", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#edit-ordering-key")))
	if got := eval[string](t, ctx, `document.querySelector('#edit-ordering-key').value`); got != "data.recipient" {
		t.Errorf("edit form shows key %q", got)
	}
	do(t, ctx, "switch to PER_WEBHOOK",
		chromedp.Click(chromedp.CSS("#edit-orderingMode-PER_WEBHOOK")),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "the new ordering", `document.querySelector('#webhook-ordering').textContent.includes('in publication order')`, wait)
	if view := onlyWebhook(t, s); view.Ordering != (domain.Ordering{Mode: domain.OrderingPerWebhook}) {
		t.Errorf("stored after the edit: %+v", view.Ordering)
	}
}
