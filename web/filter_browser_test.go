package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// TestBrowserFilter drives the payload filter in headless Chromium: a bad
// filter is refused beside its field, a good one is saved and shown again
// in the edit form, the testing tool says whether the event passes it, and
// clearing the field removes it.
func TestBrowserFilter(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)
	ctx := browserCtx(t, 2*time.Minute)
	signIn(t, ctx, s.srv.URL, s.key)
	do(t, ctx, "open the form", chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-filter")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Soft bounces"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/soft/in"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.bounce"]`)))

	submitFilter := func(filter, wantErr string) {
		t.Helper()
		do(t, ctx, "submit filter "+filter,
			chromedp.SetValue(chromedp.CSS("#new-filter"), filter),
			chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
		waitJS(t, ctx, "the filter error", `document.querySelector('#new-filter-error').textContent !== ''`, wait)
		assertFieldError(t, ctx, "filter", "url")
		if got := text(t, ctx, "#new-filter-error"); !strings.Contains(strings.ToLower(got), strings.ToLower(wantErr)) {
			t.Errorf("filter %s: error %q, want it to mention %q", filter, got, wantErr)
		}
	}
	t.Run("NotJSON", func(t *testing.T) { submitFilter(`{"data.severity": `, "not valid JSON") })
	t.Run("BadPath", func(t *testing.T) { submitFilter(`{"severity": "soft"}`, `"severity" must start with "data."`) })
	t.Run("BadOperator", func(t *testing.T) {
		submitFilter(`{"data.code": {"$regex": "^5"}}`, `unknown operator "$regex" at data.code`)
	})
	page, err := s.env.App.Webhooks(context.Background(), s.principal, webhooks.WebhookFilter{}, 10, "")
	if err != nil || len(page.Webhooks) != 0 {
		t.Fatalf("bad filters created webhooks: %v %v", page.Webhooks, err)
	}

	do(t, ctx, "create with a good filter",
		chromedp.SetValue(chromedp.CSS("#new-filter"), `{"data.severity": "soft"}`),
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#verify")))
	page, err = s.env.App.Webhooks(context.Background(), s.principal, webhooks.WebhookFilter{}, 10, "")
	if err != nil || len(page.Webhooks) != 1 || page.Webhooks[0].Filter != `{"data.severity":"soft"}` {
		t.Fatalf("webhooks after creating one: %+v %v", page.Webhooks, err)
	}
	hook := page.Webhooks[0]
	recv.PlaceFile("/soft/"+hook.Verification.File.Name, hook.Verification.File.Token)
	do(t, ctx, "verify", chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#verify-ok")))
	waitJS(t, ctx, "the testing tool to turn on", `!document.querySelector('#test-send').matches(':disabled')`, wait)

	t.Run("TesterSaysFilteredOut", func(t *testing.T) {
		do(t, ctx, "send the sample (a hard bounce)", chromedp.Click(chromedp.CSS("#test-send")))
		waitJS(t, ctx, "the verdict", `!!document.querySelector('#test-filter')`, wait)
		if got := eval[string](t, ctx, `document.querySelector('#test-filter').dataset.passes`); got != "false" {
			t.Errorf("a hard bounce passes a soft-only filter: %s (%q)", got, text(t, ctx, "#test-filter"))
		}
		if got := text(t, ctx, "#test-filter"); !strings.Contains(got, "would not be delivered") {
			t.Errorf("verdict %q", got)
		}
	})
	t.Run("TesterSaysPasses", func(t *testing.T) {
		do(t, ctx, "send a soft bounce",
			chromedp.SetValue(chromedp.CSS("#test-payload"), `{"severity": "soft"}`),
			chromedp.Click(chromedp.CSS("#test-send")))
		waitJS(t, ctx, "the new verdict", `document.querySelector('#test-filter')?.dataset.passes === 'true'`, wait)
		got := recv.WaitFor(t, 2, wait)
		if got[1].Header.Get(domain.TestHeader) != "true" {
			t.Errorf("the test send lacks %s: true (headers %v)", domain.TestHeader, got[1].Header)
		}
	})
	screenshot(t, ctx, "filter-tester", 1280)

	t.Run("EditShowsAndClears", func(t *testing.T) {
		do(t, ctx, "open the edit form", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#edit-filter")))
		shown := eval[string](t, ctx, `JSON.stringify(JSON.parse(document.querySelector('#edit-filter').value))`)
		if shown != `{"data.severity":"soft"}` {
			t.Errorf("the edit form shows filter %q", shown)
		}
		screenshot(t, ctx, "filter-edit", 390)
		eval[string](t, ctx, `document.querySelector('#edit-filter').value = ''`)
		do(t, ctx, "save without a filter", chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
		waitJS(t, ctx, "saved", `document.querySelector('#actions-result .notice')?.textContent.includes('Saved')`, wait)
		v, err := s.env.App.Webhook(context.Background(), s.principal, hook.ID)
		if err != nil || v.Filter != "" {
			t.Errorf("after clearing, filter %q (%v)", v.Filter, err)
		}
	})
}
