package web_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/internal/testenv"
)

// TestBrowserOperationalTypesGrouped: the webhook form lists the
// platform's event types first and webhookd's own (operational) ones
// under a heading of their own; a webhook may subscribe to both.
func TestBrowserOperationalTypesGrouped(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)

	do(t, ctx, "open the new-webhook form",
		chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-operational-types")))
	grouped := eval[[]string](t, ctx, `[...document.querySelectorAll('#new-operational-types input')].map(i => i.value)`)
	for _, want := range []string{"webhook.disabled", "delivery.failed", "webhook.recovered"} {
		if !slices.Contains(grouped, want) {
			t.Errorf("%s is not under webhookd's own events: %v", want, grouped)
		}
	}
	if slices.Contains(grouped, "email.bounce") {
		t.Errorf("email.bounce is listed among webhookd's own events: %v", grouped)
	}
	do(t, ctx, "subscribe to a platform type and an operational one",
		chromedp.SendKeys(chromedp.CSS("#new-name"), "both"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/both"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.bounce"]`)),
		chromedp.Click(chromedp.CSS(`#new-operational-types input[value="delivery.failed"]`)),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-policy")))
	if got := onlyWebhook(t, s).EventTypes; !slices.Contains(got, "email.bounce") || !slices.Contains(got, "delivery.failed") {
		t.Fatalf("stored event types %v, want email.bounce and delivery.failed", got)
	}
}
