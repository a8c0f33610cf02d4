package httpserver_test

import (
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

const verifyMutation = `mutation($id: ID!) {
	verifyWebhook(input: {id: $id}) {
		verified reason userErrors { field message code }
		webhook { ` + gqltest.WebhookFields + ` }
	}
}`

type verifyResult struct {
	Verified   bool                `json:"verified"`
	Reason     *string             `json:"reason"`
	UserErrors []gqltest.UserError `json:"userErrors"`
	Webhook    *gqltest.Webhook    `json:"webhook"`
}

func verify(t *testing.T, c *gqltest.Client, id string) verifyResult {
	t.Helper()
	var out struct {
		VerifyWebhook verifyResult `json:"verifyWebhook"`
	}
	c.MustData(t, verifyMutation, map[string]any{"id": id}, &out)
	if len(out.VerifyWebhook.UserErrors) > 0 || out.VerifyWebhook.Webhook == nil {
		t.Fatalf("verifyWebhook: %v", out.VerifyWebhook.UserErrors)
	}
	return out.VerifyWebhook
}

// TestVerificationFlow proves ownership of a callback URL end to end: the
// file is downloaded from webhookd, served by a real HTTP server, and
// checked through GraphQL, failing first for a missing file and for wrong
// content.
func TestVerificationFlow(t *testing.T) {
	srv := gqltest.NewServer(t)
	srv.AllowLoopback()
	c := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	other := srv.AccountClient(t, "acct-b", domain.ScopeAccount)

	site := t.TempDir()
	if err := os.Mkdir(filepath.Join(site, "hooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(http.FileServer(http.Dir(site)))
	t.Cleanup(receiver.Close)
	hook := c.MustCreateWebhook(t, "verified one", receiver.URL+"/hooks/receive")
	v := hook.Verification
	if v.Status != "UNVERIFIED" || hook.Status != "UNVERIFIED" || !strings.HasPrefix(v.FileName, "webhookd-") || v.FileContent == "" {
		t.Fatalf("a new webhook's verification: %+v, status %s", v, hook.Status)
	}
	wantURLs := []string{receiver.URL + "/hooks/" + v.FileName, receiver.URL + "/" + v.FileName}
	if !slices.Equal(v.CheckedURLs, wantURLs) {
		t.Errorf("checkedUrls %v, want %v", v.CheckedURLs, wantURLs)
	}

	t.Run("Download", func(t *testing.T) {
		status, header, body := get(t, srv.URL+v.DownloadPath, c.Key)
		if status != http.StatusOK || body != v.FileContent {
			t.Fatalf("download: %d %q, want 200 with the file content", status, body)
		}
		_, params, err := mime.ParseMediaType(header.Get("Content-Disposition"))
		if err != nil || params["filename"] != v.FileName {
			t.Errorf("Content-Disposition %q, want filename %q", header.Get("Content-Disposition"), v.FileName)
		}
		for name, key := range map[string]string{"OtherAccount": other.Key} {
			if status, _, body := get(t, srv.URL+v.DownloadPath, key); status != http.StatusNotFound || strings.Contains(body, v.FileContent) {
				t.Errorf("%s: %d %q, want 404", name, status, body)
			}
		}
		missing := "/webhooks/" + domain.EncodeGlobalID("Webhook", "00000000-0000-0000-0000-000000000000") + "/verification-file"
		for _, path := range []string{missing, "/webhooks/not-an-id/verification-file"} {
			if status, _, _ := get(t, srv.URL+path, c.Key); status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, status)
			}
		}
	})

	t.Run("FileMissing", func(t *testing.T) {
		r := verify(t, c, hook.ID)
		if r.Verified || r.Reason == nil || !strings.Contains(*r.Reason, "404") {
			t.Fatalf("verified %v, reason %v; want false with a reason naming the 404", r.Verified, deref(r.Reason))
		}
		ver := r.Webhook.Verification
		if ver.Status != "FAILED" || ver.FailureReason == nil || *ver.FailureReason != *r.Reason || r.Webhook.Status != "UNVERIFIED" {
			t.Errorf("after a failed check: verification %s, failureReason %v, status %s", ver.Status, deref(ver.FailureReason), r.Webhook.Status)
		}
	})

	t.Run("WrongContent", func(t *testing.T) {
		writeFile(t, filepath.Join(site, "hooks", v.FileName), "not the token\n")
		r := verify(t, c, hook.ID)
		if r.Verified || r.Reason == nil || !strings.Contains(*r.Reason, "content did not match") {
			t.Fatalf("verified %v, reason %v; want false, content did not match", r.Verified, deref(r.Reason))
		}
		if strings.Contains(*r.Reason, v.FileContent) {
			t.Errorf("the reason quotes the token: %s", *r.Reason)
		}
	})

	t.Run("FileInCallbackDirectory", func(t *testing.T) {
		writeFile(t, filepath.Join(site, "hooks", v.FileName), v.FileContent+"\n")
		r := verify(t, c, hook.ID)
		if !r.Verified || r.Reason != nil || r.Webhook.Status != "ACTIVE" || r.Webhook.Verification.Status != "VERIFIED" || r.Webhook.Verification.FailureReason != nil {
			t.Fatalf("verified %v, reason %v, status %s, verification %s; want verified and ACTIVE", r.Verified, deref(r.Reason), r.Webhook.Status, r.Webhook.Verification.Status)
		}
		history := c.History(t, hook.ID)
		var outcomes []string
		for _, e := range history {
			if strings.HasPrefix(e.Type, "webhook.verif") {
				outcomes = append(outcomes, e.Type)
			}
		}
		want := []string{"webhook.verification_failed.v1", "webhook.verification_failed.v1", "webhook.verified.v1"}
		if !slices.Equal(outcomes, want) {
			t.Errorf("verification history %v, want %v", outcomes, want)
		}
	})

	t.Run("FileAtSiteRoot", func(t *testing.T) {
		second := c.MustCreateWebhook(t, "root file", receiver.URL+"/hooks/receive?source=x")
		if second.Verification.FileName == v.FileName || second.Verification.FileContent == v.FileContent {
			t.Fatal("two webhooks share a verification file")
		}
		writeFile(t, filepath.Join(site, second.Verification.FileName), second.Verification.FileContent)
		r := verify(t, c, second.ID)
		if !r.Verified || r.Webhook.Status != "ACTIVE" {
			t.Fatalf("verified %v, reason %v, status %s; want verified from the site root", r.Verified, deref(r.Reason), r.Webhook.Status)
		}
	})

	t.Run("OtherAccountCannotVerify", func(t *testing.T) {
		var out struct {
			VerifyWebhook verifyResult `json:"verifyWebhook"`
		}
		other.MustData(t, verifyMutation, map[string]any{"id": hook.ID}, &out)
		if ue := out.VerifyWebhook.UserErrors; len(ue) != 1 || ue[0].Code != domain.ENOTFOUND || out.VerifyWebhook.Webhook != nil {
			t.Errorf("another account verifying: %+v, want NOT_FOUND", out.VerifyWebhook)
		}
	})
}

func get(t *testing.T, url, key string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
