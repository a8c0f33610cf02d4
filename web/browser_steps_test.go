package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// requestBody checks that the open delivery shows the body that was sent,
// byte for byte as the receiver got it.
func requestBody(t *testing.T, ctx context.Context, recv *testenv.Receiver, deliveryGID string) {
	t.Helper()
	msgID := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('tr[data-delivery-id=%q]').dataset.messageId`, deliveryGID))
	var sent string
	for _, r := range recv.Received() {
		if r.Header.Get("webhook-id") == msgID {
			sent = string(r.Body)
		}
	}
	if sent == "" {
		t.Fatalf("the receiver got no request for message %s", msgID)
	}
	waitJS(t, ctx, "the request body in the detail", `!!document.querySelector('#delivery-detail #request-body')`, wait)
	if got := eval[string](t, ctx, `document.querySelector('#request-body').textContent`); got != sent {
		t.Errorf("the detail shows the request body\n%s\nthe receiver got\n%s", got, sent)
	}
}

// filterClosesDetail switches the log to Failed while a succeeded delivery
// is open: the detail must not keep showing it.
func filterClosesDetail(t *testing.T, ctx context.Context) {
	t.Helper()
	setFilter := func(v string) {
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.querySelector('#status-filter'); s.value = %q; s.dispatchEvent(new Event('change')); return true; })()`, v))
	}
	waitJS(t, ctx, "a succeeded delivery open", `!!document.querySelector('#detail-status [data-status="succeeded"]')`, wait)
	setFilter("FAILED")
	waitJS(t, ctx, "the Failed list", `[...document.querySelectorAll('#delivery-rows tr')].every(tr => tr.dataset.status === 'FAILED') && !document.querySelector('#delivery-rows tr[data-status="SUCCEEDED"]')`, wait)
	waitJS(t, ctx, "the succeeded delivery's detail to close", `!document.querySelector('#delivery-detail [data-status="succeeded"]')`, wait)
	setFilter("")
	waitJS(t, ctx, "every delivery listed again", `!!document.querySelector('#delivery-rows tr[data-status="SUCCEEDED"]')`, wait)
}

// exportLog downloads the log as CSV and as NDJSON through the page; both
// must list the delivery.
func exportLog(t *testing.T, ctx context.Context, deliveryGID string) {
	t.Helper()
	dir := downloadsTo(t, ctx)
	do(t, ctx, "export as CSV", chromedp.Click(chromedp.CSS("#export-csv")))
	name, content := waitDownload(t, dir)
	if !strings.HasSuffix(name, ".csv") || !strings.HasPrefix(content, "id,messageId,eventType,status") || !strings.Contains(content, deliveryGID) {
		t.Errorf("CSV export %q:\n%s", name, content)
	}
	dir = downloadsTo(t, ctx)
	do(t, ctx, "export as NDJSON", chromedp.Click(chromedp.CSS("#export-ndjson")))
	name, content = waitDownload(t, dir)
	found := false
	for _, line := range strings.Split(strings.TrimSpace(content), "\n") {
		var row struct{ ID string }
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("NDJSON export line %q: %v", line, err)
		}
		found = found || row.ID == deliveryGID
	}
	if !strings.HasSuffix(name, ".ndjson") || !found {
		t.Errorf("NDJSON export %q does not list %s:\n%s", name, deliveryGID, content)
	}
}

// unverified covers a webhook whose URL is not verified yet: the testing
// tool is off with the reason, pausing says what really happens to its
// events, verifying turns the tool on, and the history lists it all.
func unverified(t *testing.T, s *uiServer, recv *testenv.Receiver) {
	ctx := browserCtx(t, 2*time.Minute)
	p, key := s.env.AccountKey(t, "gamma", domain.ScopeAccount)
	v, err := s.env.App.CreateWebhook(context.Background(), p, domain.CreateWebhook{Name: "Not yet verified", URL: recv.URL + "/gamma/in", EventTypes: []string{"email.bounce"}})
	if err != nil {
		t.Fatal(err)
	}
	gid := domain.EncodeGlobalID("Webhook", v.ID)
	signIn(t, ctx, s.srv.URL, key)
	do(t, ctx, "open the manage page",
		chromedp.Navigate(s.srv.URL+"/#/webhooks/"+gid),
		chromedp.WaitVisible(chromedp.CSS("#test-send")))

	t.Run("TesterDisabled", func(t *testing.T) {
		if !eval[bool](t, ctx, `document.querySelector('#test-send').disabled`) {
			t.Error("the testing tool can send to an unverified webhook")
		}
		reason := eval[string](t, ctx, `document.getElementById(document.querySelector('#test-send').getAttribute('aria-describedby') || 'none')?.textContent || ''`)
		if !strings.Contains(reason, "verified") {
			t.Errorf("the disabled tool does not say why: %q", reason)
		}
	})
	screenshot(t, ctx, "unverified", 1280)
	screenshot(t, ctx, "unverified", 390)
	t.Run("Pause", func(t *testing.T) {
		do(t, ctx, "pause", chromedp.Click(chromedp.CSS("#pause")))
		waitJS(t, ctx, "the pause notice", `!!document.querySelector('#actions-result .notice')`, wait)
		got := text(t, ctx, "#actions-result .notice")
		if strings.Contains(got, "sent once you resume") || !strings.Contains(got, "not verified") || !strings.Contains(got, "nothing is queued") {
			t.Errorf("pausing an unverified webhook says %q", got)
		}
		do(t, ctx, "resume", chromedp.Click(chromedp.CSS("#resume")))
		// The pause notice says "verified" too: wait for the resume's own
		// words, or the next step clicks a button the resume's re-render
		// replaces.
		waitJS(t, ctx, "the resume notice", `document.querySelector('#actions-result .notice')?.textContent.startsWith('Resumed') && document.querySelector('#actions-result .notice').textContent.includes('verify')`, wait)
	})
	t.Run("VerifyEnablesTester", func(t *testing.T) {
		recv.PlaceFile("/gamma/"+v.Verification.File.Name, v.Verification.File.Token)
		do(t, ctx, "verify", chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#verify-ok")))
		waitJS(t, ctx, "the testing tool to turn on", `!document.querySelector('#test-send').matches(':disabled') && !document.querySelector('#test-disabled-reason')`, wait)
	})
	t.Run("History", func(t *testing.T) {
		do(t, ctx, "open the history",
			chromedp.Click(chromedp.CSS(`nav.tabs a[href$="/history"]`)),
			chromedp.WaitVisible(chromedp.CSS("#history")))
		waitJS(t, ctx, "the audit trail", `document.querySelectorAll('#history li').length >= 4`, wait)
		types := eval[[]string](t, ctx, `[...document.querySelectorAll('#history li')].map(li => li.dataset.type)`)
		want := []string{"webhook.created.v1", "webhook.paused.v1", "webhook.resumed.v1", "webhook.verified.v1"}
		if strings.Join(types, " ") != strings.Join(want, " ") {
			t.Errorf("history %v, want %v", types, want)
		}
		do(t, ctx, "open an event's data", chromedp.Click(chromedp.CSS(`#history li[data-type="webhook.created.v1"] summary`)))
		data := text(t, ctx, `#history li[data-type="webhook.created.v1"] pre`)
		if !strings.Contains(data, recv.URL+"/gamma/in") || strings.Contains(data, "whsec_") {
			t.Errorf("the created event's data (the URL shown, the secret redacted): %s", data)
		}
		screenshot(t, ctx, "history", 1280)
		screenshot(t, ctx, "history", 390)
	})
}
