package main

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPublicURLMakesAbsoluteLinks runs the real service with --public-url
// and checks that a webhook's verification file has an absolute download
// link on it, whose path the server itself serves; without --public-url
// the link is null and only the relative path is given.
func TestPublicURLMakesAbsoluteLinks(t *testing.T) {
	const public = "https://hooks.example.com/webhookd/"
	m := NewMain()
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--dev", "--public-url", public}); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.Run(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	waitReady(t, "http://"+m.HTTP.Addr())

	path, link := verificationLinks(t, m)
	if want := "https://hooks.example.com/webhookd" + path; link == nil || *link != want {
		t.Fatalf("downloadUrl = %v, want %q", link, want)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+m.HTTP.Addr()+path, nil)
	req.Header.Set("Authorization", "Bearer "+m.DemoKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d, want 200", path, resp.StatusCode)
	}

	t.Run("NullWithoutPublicURL", func(t *testing.T) {
		if _, link := verificationLinks(t, MustRunMain(t, t.TempDir())); link != nil {
			t.Errorf("downloadUrl without --public-url = %q, want null", *link)
		}
	})
}

// verificationLinks creates a webhook with the demo key and returns its
// verification file's downloadPath and downloadUrl.
func verificationLinks(t *testing.T, m *Main) (string, *string) {
	t.Helper()
	var out struct {
		CreateWebhook struct {
			Webhook struct {
				Verification struct {
					DownloadPath string  `json:"downloadPath"`
					DownloadURL  *string `json:"downloadUrl"`
				} `json:"verification"`
			} `json:"webhook"`
		} `json:"createWebhook"`
	}
	client(m, m.DemoKey()).MustData(t, `mutation { createWebhook(input: {name: "links", url: "http://127.0.0.1:1/in", eventTypes: ["email.bounce"]}) {
		webhook { verification { downloadPath downloadUrl } } userErrors { message } } }`, nil, &out)
	v := out.CreateWebhook.Webhook.Verification
	if !strings.HasPrefix(v.DownloadPath, "/webhooks/") {
		t.Fatalf("downloadPath = %q", v.DownloadPath)
	}
	return v.DownloadPath, v.DownloadURL
}
