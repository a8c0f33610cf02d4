package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/webhooks"
)

const wait = 15 * time.Second

// TestBrowser drives the Webhooks tab in headless Chromium against a real
// core: bad input first, then the whole journey from sign-in to
// redelivery, saving screenshots on the way.
func TestBrowser(t *testing.T) {
	chromiumPath(t)
	s := newUIServer(t)
	recv := testenv.NewReceiver(t)

	t.Run("BadInput", func(t *testing.T) {
		ctx := browserCtx(t, 2*time.Minute)
		do(t, ctx, "bad key",
			chromedp.Navigate(s.srv.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS("#api-key")),
			chromedp.SendKeys(chromedp.CSS("#api-key"), "whk_not_a_key"),
			chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
		waitJS(t, ctx, "the refused key's error", `document.querySelector('#api-key-error').textContent.includes('not accepted')`, wait)
		t.Run("NavHiddenOnSignIn", func(t *testing.T) {
			if visible(t, ctx, "#nav") {
				t.Error("the main navigation shows on the sign-in page")
			}
		})
		screenshot(t, ctx, "signin", 390)

		signIn(t, ctx, s.srv.URL, s.key)
		if !visible(t, ctx, "#nav") {
			t.Error("the main navigation is hidden after signing in")
		}
		do(t, ctx, "open the form", chromedp.Navigate(s.srv.URL+"/#/new"), chromedp.WaitVisible(chromedp.CSS("#new-url")))

		t.Run("InvalidURL", func(t *testing.T) {
			do(t, ctx, "submit an invalid URL",
				chromedp.SendKeys(chromedp.CSS("#new-name"), "Bad URL"),
				chromedp.SendKeys(chromedp.CSS("#new-url"), "not a url"),
				chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.delivery"]`)),
				chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
			waitJS(t, ctx, "the URL error", `document.querySelector('#new-url-error').textContent !== ''`, wait)
			assertFieldError(t, ctx, "url", "eventTypes")
		})
		t.Run("NoEventTypes", func(t *testing.T) {
			do(t, ctx, "submit without event types",
				chromedp.SetValue(chromedp.CSS("#new-url"), recv.URL+"/hooks/in"),
				chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.delivery"]`)),
				chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
			waitJS(t, ctx, "the event types error", `document.querySelector('#new-eventTypes-error').textContent !== ''`, wait)
			assertFieldError(t, ctx, "eventTypes", "url")
		})
		t.Run("TestTypeNotOffered", func(t *testing.T) {
			got := eval[struct {
				Disabled bool
				Note     string
			}](t, ctx, `(() => {
				const box = document.querySelector('#new-eventTypes input[value="webhook.test"]');
				const note = box && document.getElementById((box.getAttribute('aria-describedby') || '').trim());
				return { Disabled: !box || box.disabled, Note: note ? note.textContent : '' };
			})()`)
			if !got.Disabled || !strings.Contains(got.Note, "testing tool") {
				t.Errorf("webhook.test can be subscribed to (disabled %v, explanation %q)", got.Disabled, got.Note)
			}
		})
		t.Run("Settings", func(t *testing.T) {
			do(t, ctx, "open the settings and enter wrong ones",
				chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.delivery"]`)),
				chromedp.Click(chromedp.CSS("#new-add-header")),
				chromedp.SendKeys(chromedp.CSS("#new-header-rows .header-row:last-child input[name=headerName]"), "webhook-id"),
				chromedp.SendKeys(chromedp.CSS("#new-header-rows .header-row:last-child input[name=headerValue]"), "mine"),
				chromedp.SendKeys(chromedp.CSS("#new-rateLimit-burst"), "5"),
				chromedp.SendKeys(chromedp.CSS("#new-maxConcurrency"), "100"),
				chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
			waitJS(t, ctx, "the settings errors", `document.querySelector('#new-maxConcurrency-error')?.textContent !== ''`, wait)
			for _, f := range []string{"headers", "rateLimit", "maxConcurrency"} {
				assertFieldError(t, ctx, f, "url")
			}
			if got := text(t, ctx, "#new-headers-error"); !strings.Contains(got, "webhook-id") {
				t.Errorf("the header error does not name the header: %q", got)
			}
		})
		t.Run("StatusBadge", func(t *testing.T) {
			// Failing is derived in the page from stats: active, with
			// recent attempts mostly failing.
			got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import('/ui/js/status.js').then(m => [
				m.webhookState({ status: 'ACTIVE' }, { attempts: 4, successRate: 0.25 }),
				m.webhookState({ status: 'ACTIVE' }, { attempts: 4, successRate: 0.5 }),
				m.webhookState({ status: 'ACTIVE' }, { attempts: 0, successRate: 0 }),
				m.webhookState({ status: 'DISABLED' }, { attempts: 4, successRate: 0 }),
				m.webhookState({ status: 'UNVERIFIED' }, null),
			])`, chromedp.EvalAwaitPromise))
			want := []string{"failing", "active", "active", "disabled", "unverified"}
			if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("states %v (%v), want %v", got, err, want)
			}
		})
		page, err := s.env.App.Webhooks(context.Background(), s.principal, webhooks.WebhookFilter{}, 10, "")
		if err != nil || len(page.Webhooks) != 0 {
			t.Errorf("bad input created webhooks: %v %v", page.Webhooks, err)
		}
	})

	t.Run("Manage", func(t *testing.T) {
		manage(t, s, recv)
	})
	t.Run("Unverified", func(t *testing.T) {
		unverified(t, s, recv)
	})
	t.Run("Journey", func(t *testing.T) {
		journey(t, s, recv)
	})
}

// assertFieldError checks that field's error is shown beside it, marked
// invalid, and that other's is empty.
func assertFieldError(t *testing.T, ctx context.Context, field, other string) {
	t.Helper()
	got := eval[struct {
		Msg, OtherMsg string
		Invalid       string
		Beside        bool
	}](t, ctx, fmt.Sprintf(`(() => {
		const err = document.querySelector('#new-%[1]s-error');
		const input = document.querySelector('#new-%[1]s');
		return { Msg: err.textContent, OtherMsg: document.querySelector('#new-%[2]s-error').textContent,
			Invalid: input.getAttribute('aria-invalid') || '',
			Beside: input.closest('.field, fieldset') === err.closest('.field, fieldset') };
	})()`, field, other))
	if got.Msg == "" || got.Invalid != "true" || !got.Beside {
		t.Errorf("%s: error %q, aria-invalid %q, beside the field %v", field, got.Msg, got.Invalid, got.Beside)
	}
	if got.OtherMsg != "" {
		t.Errorf("%s also shows an error: %q", other, got.OtherMsg)
	}
	t.Logf("%s error shown: %q", field, got.Msg)
}

func journey(t *testing.T, s *uiServer, recv *testenv.Receiver) {
	ctx := browserCtx(t, 3*time.Minute)
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	signIn(t, ctx, s.srv.URL, s.key)

	// Create a webhook to the loopback receiver.
	do(t, ctx, "create a webhook",
		chromedp.Click(chromedp.CSS(`main a[href="#/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-url")),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Order mails"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv.URL+"/hooks/receive.php"),
		chromedp.Click(chromedp.CSS(`#new-eventTypes input[value="email.delivery"]`)),
		chromedp.Click(chromedp.CSS("#new-add-header")),
		chromedp.SendKeys(chromedp.CSS("#new-header-rows input[name=headerName]"), "X-Shop"),
		chromedp.SendKeys(chromedp.CSS("#new-header-rows input[name=headerValue]"), "demo"),
		chromedp.SendKeys(chromedp.CSS("#new-rateLimit-perSecond"), "50"),
		chromedp.SendKeys(chromedp.CSS("#new-rateLimit-burst"), "100"),
		chromedp.SendKeys(chromedp.CSS("#new-maxConcurrency"), "2"))
	screenshot(t, ctx, "new", 1280)
	screenshot(t, ctx, "new", 390)
	do(t, ctx, "submit the form",
		chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#verification-download")))
	waitJS(t, ctx, "the unverified badge", `document.querySelector('#webhook-status [data-status]').dataset.status === 'unverified'`, wait)
	if urls := text(t, ctx, "#checked-urls"); !strings.Contains(urls, recv.URL+"/hooks/webhookd-") {
		t.Errorf("checked URLs do not name the callback's directory: %q", urls)
	}
	if page, err := s.env.App.Webhooks(context.Background(), s.principal, webhooks.WebhookFilter{}, 10, ""); err != nil || len(page.Webhooks) != 1 {
		t.Fatalf("webhooks after creating one: %v %v", page.Webhooks, err)
	} else if w := page.Webhooks[0]; w.Headers["X-Shop"] != "demo" || w.RateLimit.PerSecond != 50 || w.RateLimit.Burst != 100 || w.MaxConcurrency != 2 {
		t.Errorf("the form's settings were not saved: headers %v, rate limit %+v, max concurrency %d", w.Headers, w.RateLimit, w.MaxConcurrency)
	}

	// Download the verification file through the page and place it.
	do(t, ctx, "download the verification file", chromedp.Click(chromedp.CSS("#verification-download")))
	name, content := waitDownload(t, downloads)
	if !strings.HasPrefix(name, "webhookd-") || !strings.HasSuffix(name, ".txt") || content == "" {
		t.Fatalf("downloaded %q with %q", name, content)
	}
	do(t, ctx, "verify before placing the file", chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#verify-failed")))
	if got := text(t, ctx, "#verify-failed"); !strings.Contains(got, "404") {
		t.Errorf("the failure does not say what went wrong: %q", got)
	}
	recv.PlaceFile("/hooks/"+name, content)
	do(t, ctx, "verify", chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#verify-ok")))
	waitJS(t, ctx, "the active badge", `document.querySelector('#webhook-status [data-status]').dataset.status === 'active'`, wait)

	// The testing tool.
	do(t, ctx, "send a test event",
		chromedp.WaitVisible(chromedp.CSS("#test-send")),
		chromedp.Click(chromedp.CSS("#test-send")))
	waitJS(t, ctx, "the test result", `document.querySelector('#test-status')?.textContent === '200'`, wait)
	if got := recv.Received(); len(got) != 1 || got[0].Header.Get("webhook-signature") == "" {
		t.Fatalf("receiver got %d requests (want 1 signed test)", len(got))
	} else if got[0].Header.Get("X-Shop") != "demo" {
		t.Errorf("the custom header was not sent: %v", got[0].Header)
	}
	screenshot(t, ctx, "manage", 1280)
	screenshot(t, ctx, "manage", 390)

	// The live log: a published event appears without a reload.
	do(t, ctx, "open the delivery log",
		chromedp.Click(chromedp.CSS(`nav.tabs a[href$="/log"]`)),
		chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	waitJS(t, ctx, "the live subscription", `document.querySelector('#live-state').dataset.state === 'live'`, wait)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	id := publish(t, s)
	waitJS(t, ctx, "the published delivery to succeed live", rowWith(id, "SUCCEEDED"), wait)

	// A failing receiver: the attempt shows as retrying, live.
	recv.Respond(http.StatusInternalServerError, 0)
	failing := publish(t, s)
	waitJS(t, ctx, "the failed attempt, live", rowWith(failing, "RETRYING")+` && `+rowSel(failing)+`.textContent.includes('500')`, wait)

	// A failed delivery (a test send gives up after one attempt) is
	// redelivered from the page once the receiver is back.
	checks, err := s.env.App.CheckWebhooks(context.Background(), s.principal)
	if err != nil || len(checks) != 1 || checks[0].Result.Succeeded {
		t.Fatalf("check webhooks: %+v %v", checks, err)
	}
	failedID := checks[0].Result.DeliveryID
	waitJS(t, ctx, "the failed test delivery, live", `!!document.querySelector('tr[data-status="FAILED"]')`, wait)
	recv.Respond(http.StatusOK, 0)
	deliveryGID := eval[string](t, ctx, `document.querySelector('tr[data-status="FAILED"]').dataset.deliveryId`)
	do(t, ctx, "open the failed delivery",
		chromedp.Click(chromedp.CSS(`tr[data-status="FAILED"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#redeliver")))
	waitJS(t, ctx, "the attempt with its request headers", `[...document.querySelectorAll('#delivery-detail .headers td')].some(td => td.textContent.toLowerCase() === 'webhook-id')`, wait)
	do(t, ctx, "redeliver", chromedp.Click(chromedp.CSS("#redeliver")))
	waitJS(t, ctx, "the redelivery to succeed", fmt.Sprintf(`document.querySelector('tr[data-delivery-id=%q]')?.dataset.status === 'SUCCEEDED'`, deliveryGID), wait)
	waitJS(t, ctx, "the second attempt in the detail", `document.querySelector('#detail-status [data-status]')?.dataset.status === 'succeeded' && !!document.querySelector('#delivery-detail details[data-attempt="2"]')`, wait)
	t.Logf("redelivered %s (%s)", failedID, deliveryGID)
	requestBody(t, ctx, recv, deliveryGID)
	screenshot(t, ctx, "delivery", 1280)
	screenshot(t, ctx, "delivery", 390)
	filterClosesDetail(t, ctx)
	exportLog(t, ctx, deliveryGID)

	do(t, ctx, "recover failed deliveries", chromedp.Click(chromedp.CSS("#recover")))
	waitJS(t, ctx, "the recovery count", `/sent again/.test(document.querySelector('#recover-result')?.textContent)`, wait)

	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Error("the page reloaded; the log should update live")
	}
	screenshot(t, ctx, "log", 1280)
	screenshot(t, ctx, "log", 390)

	// The list, with the badge, rate and chart filled in.
	do(t, ctx, "open the list", chromedp.Click(chromedp.CSS(`a.brand`)), chromedp.WaitVisible(chromedp.CSS("#webhook-list")))
	waitJS(t, ctx, "the statistics", `!!document.querySelector('#webhook-list svg.spark rect')`, wait)
	do(t, ctx, "check now", chromedp.Click(chromedp.CSS("#check-now")))
	waitJS(t, ctx, "the check results", `document.querySelector('#check-summary').textContent.includes('1 succeeded')`, wait)
	screenshot(t, ctx, "list", 1280)
	screenshot(t, ctx, "list", 390)
}

// rowSel is a JS expression for the log row of a message.
func rowSel(messageID string) string {
	return fmt.Sprintf(`document.querySelector('tr[data-message-id=%q]')`, messageID)
}

func rowWith(messageID, status string) string {
	return fmt.Sprintf(`%s?.dataset.status === %q`, rowSel(messageID), status)
}

// publish publishes an email.delivery event for the test account, as the
// platform would, and returns its message ID.
func publish(t *testing.T, s *uiServer) string {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"to": "jane@example.com", "subject": "Your order"})
	res, err := s.env.App.Publish(context.Background(), []app.PublishInput{{Account: "acme", Type: "email.delivery", Data: data}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("publish: %v %v", err, res[0].Err)
	}
	return res[0].MessageID
}

// manage covers the other actions: reveal and rotate the secret, pause
// and resume, edit, and delete behind a confirmation.
func manage(t *testing.T, s *uiServer, recv *testenv.Receiver) {
	ctx := browserCtx(t, 2*time.Minute)
	bg := context.Background()
	// An account of its own, so this test's webhooks don't meet the journey's.
	p, key := s.env.AccountKey(t, "beta", domain.ScopeAccount)
	v := s.env.VerifiedWebhook(t, p, recv, "/manage/hook", "email.delivery")
	signIn(t, ctx, s.srv.URL, key)
	do(t, ctx, "open the manage page",
		chromedp.Navigate(s.srv.URL+"/#/webhooks/"+domain.EncodeGlobalID("Webhook", v.ID)),
		chromedp.WaitVisible(chromedp.CSS("#secret-reveal")))
	badge := `document.querySelector('#webhook-status [data-status]').dataset.status`

	t.Run("RevealSecret", func(t *testing.T) {
		if eval[bool](t, ctx, `document.body.innerText.includes('whsec_')`) {
			t.Fatal("the secret is shown before it is asked for")
		}
		do(t, ctx, "reveal", chromedp.Click(chromedp.CSS("#secret-reveal")))
		waitJS(t, ctx, "the secret", `document.querySelector('#secret-value code')?.textContent === `+strconv.Quote(v.Secret), wait)
	})
	t.Run("RotateSecret", func(t *testing.T) {
		do(t, ctx, "ask to rotate", chromedp.Click(chromedp.CSS("#secret-rotate")), chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")))
		if got := text(t, ctx, "#confirm-dialog"); !strings.Contains(got, "24 hours") || !strings.Contains(got, "two signatures") {
			t.Errorf("the rotation dialog does not explain the overlap: %q", got)
		}
		// Escape cancels, from the keyboard.
		do(t, ctx, "cancel with Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS("#confirm-dialog")))
		if w, _ := s.env.App.Webhook(bg, p, v.ID); w.Secret != v.Secret {
			t.Fatal("cancelling rotated the secret")
		}
		do(t, ctx, "rotate", chromedp.Click(chromedp.CSS("#secret-rotate")), chromedp.Click(chromedp.CSS("#confirm-ok")))
		waitJS(t, ctx, "the overlap notice", `document.querySelector('#secret-overlap').textContent.includes('previous secret')`, wait)
		if w, _ := s.env.App.Webhook(bg, p, v.ID); w.Secret == v.Secret || w.PreviousSecret != v.Secret {
			t.Error("the secret was not rotated with the old one kept")
		}
	})
	t.Run("PauseResume", func(t *testing.T) {
		do(t, ctx, "pause", chromedp.Click(chromedp.CSS("#pause")))
		waitJS(t, ctx, "the paused badge", badge+` === 'paused'`, wait)
		do(t, ctx, "resume", chromedp.Click(chromedp.CSS("#resume")))
		waitJS(t, ctx, "the active badge", badge+` === 'active'`, wait)
	})
	t.Run("Edit", func(t *testing.T) {
		do(t, ctx, "edit the name and settings",
			chromedp.Click(chromedp.CSS("#edit")),
			chromedp.WaitVisible(chromedp.CSS("#edit-name")),
			chromedp.SetValue(chromedp.CSS("#edit-name"), "Renamed hook"))
		if got := eval[string](t, ctx, `document.querySelector('#edit-maxConcurrency').value`); got != strconv.Itoa(v.MaxConcurrency) {
			t.Errorf("the edit form shows max concurrency %q, the webhook has %d", got, v.MaxConcurrency)
		}
		do(t, ctx, "change the settings",
			chromedp.SetValue(chromedp.CSS("#edit-maxConcurrency"), "8"),
			chromedp.Click(chromedp.CSS("#edit-add-header")),
			chromedp.SendKeys(chromedp.CSS("#edit-header-rows input[name=headerName]"), "Authorization"),
			chromedp.SendKeys(chromedp.CSS("#edit-header-rows input[name=headerValue]"), "Bearer abc"),
			chromedp.SendKeys(chromedp.CSS("#edit-rateLimit-perSecond"), "10"),
			chromedp.Click(chromedp.CSS(`#edit-form button[type=submit]`)))
		waitJS(t, ctx, "the new name", `document.querySelector('main h1').textContent === 'Renamed hook'`, wait)
		w, _ := s.env.App.Webhook(bg, p, v.ID)
		if w.Name != "Renamed hook" || w.MaxConcurrency != 8 || w.Headers["Authorization"] != "Bearer abc" || w.RateLimit.PerSecond != 10 {
			t.Errorf("after the edit: name %q, max concurrency %d, headers %v, rate limit %+v", w.Name, w.MaxConcurrency, w.Headers, w.RateLimit)
		}
		if got := text(t, ctx, "#webhook-settings"); !strings.Contains(got, "10/s") || !strings.Contains(got, "Authorization") {
			t.Errorf("the settings summary is not updated: %q", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		do(t, ctx, "ask to delete and cancel",
			chromedp.Click(chromedp.CSS("#delete")),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			// Cancel has the focus, so Enter keeps the webhook.
			chromedp.KeyEvent("\r"),
			chromedp.WaitNotPresent(chromedp.CSS("#confirm-dialog")))
		if _, err := s.env.App.Webhook(bg, p, v.ID); err != nil {
			t.Fatalf("cancelled delete removed the webhook: %v", err)
		}
		do(t, ctx, "delete",
			chromedp.Click(chromedp.CSS("#delete")),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			chromedp.WaitVisible(chromedp.CSS("#webhook-list")))
		if _, err := s.env.App.Webhook(bg, p, v.ID); err == nil {
			t.Error("the webhook still exists")
		}
	})
}
