package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestBrowserBatching drives the Batching fieldset of the webhook form in
// Chromium: its numbers show only once batching is ticked, an
// out-of-bounds size comes back as a userError under the fieldset, a valid
// choice is saved and shown, the FORM body is refused beside it (under the
// body fieldset), and an edit turns batching off.
func TestBrowserBatching(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)

	do(t, ctx, "fill the new-webhook form",
		chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-url")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Batched opens"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/in"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.open"]`)))
	if visible(t, ctx, "#new-batching-box") {
		t.Error("the batch sizes show before batching is ticked")
	}
	do(t, ctx, "tick batching with 500 events per POST",
		chromedp.Click(chromedp.CSS("#new-batching-on")),
		chromedp.WaitVisible(chromedp.CSS("#new-batching-maxEvents")),
		chromedp.SetValue(chromedp.CSS("#new-batching-maxEvents"), "500"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
	waitJS(t, ctx, "the server's userError", `document.querySelector('#new-batching-error').textContent.includes('1 to 100')`, wait)
	if eval[string](t, ctx, `document.querySelector('#new-batching').getAttribute('aria-invalid')`) != "true" {
		t.Error("the batching fieldset is not marked invalid")
	}

	do(t, ctx, "save 20 events, waiting 250 ms",
		chromedp.SetValue(chromedp.CSS("#new-batching-maxEvents"), "20"),
		chromedp.SetValue(chromedp.CSS("#new-batching-maxWaitMs"), "250"),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-batching")))
	if got := text(t, ctx, "#webhook-batching"); !strings.Contains(got, "up to 20 events per POST") || !strings.Contains(got, "250 ms") {
		t.Errorf("batching line %q", got)
	}
	if view := onlyWebhook(t, s); view.Batching != (domain.Batching{MaxEvents: 20, MaxWaitMs: 250}) {
		t.Fatalf("stored batching %+v", view.Batching)
	}

	do(t, ctx, "open the edit form", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#edit-batching-maxEvents")))
	if got := eval[string](t, ctx, `document.querySelector('#edit-batching-maxEvents').value`); got != "20" {
		t.Errorf("edit form shows %q events per POST", got)
	}
	do(t, ctx, "choose the form body beside batching",
		chromedp.Click(chromedp.CSS("#edit-bodyFormat-FORM")),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "the combination refused", `document.querySelector('#edit-bodyFormat-error').textContent.includes('JSON array')`, wait)

	do(t, ctx, "turn batching off, body back to JSON",
		chromedp.Click(chromedp.CSS("#edit-bodyFormat-JSON")),
		chromedp.Click(chromedp.CSS("#edit-batching-on")),
		chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
	waitJS(t, ctx, "batching off", `document.querySelector('#webhook-batching').textContent.includes('off')`, wait)
	if view := onlyWebhook(t, s); view.Batching.On() {
		t.Errorf("stored after the edit: %+v", view.Batching)
	}
}
