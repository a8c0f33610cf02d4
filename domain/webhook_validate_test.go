package domain

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestWebhookCallbackURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxCallbackURLLength-len("https://example.com/"))
	for _, ok := range []string{
		"https://example.com/hook",
		"http://example.com",
		"https://hooks.example.com:8443/in?tenant=1",
		"https://[2001:db8::1]/hook",
		"HTTPS://Example.COM/x",
		long,
	} {
		if err := ValidateCallbackURL(ok); err != nil {
			t.Errorf("ValidateCallbackURL(%.40q) = %v, want nil", ok, err)
		}
	}
	for _, tc := range []struct{ name, url, want string }{
		{"ErrEmpty", "", "required"},
		{"ErrTooLong", long + "a", "at most 2048"},
		{"ErrFTP", "ftp://example.com/x", "http or https"},
		{"ErrJavascript", "javascript:alert(1)", "http or https"},
		{"ErrRelative", "/hooks/in", "absolute"},
		{"ErrNoScheme", "example.com/hook", "absolute"},
		{"ErrNoHost", "https:///path", "host"},
		{"ErrPortOnly", "http://:8080/x", "host"},
		{"ErrOpaque", "http:example.com", "host"},
		{"ErrCredentials", "https://user:pass@example.com/", "credentials"},
		{"ErrUserOnly", "https://user@example.com/", "credentials"},
		{"ErrFragment", "https://example.com/#frag", "fragment"},
		{"ErrUnparsable", "https://exa mple.com/", "not a valid URL"},
		{"ErrControl", "https://example.com/\n", "not a valid URL"},
		{"ErrBadPort", "https://example.com:http/", "not a valid URL"},
		{"ErrInvalidUTF8", "https://example.com/\xff", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCallbackURL(tc.url)
			e := UserErrors(err)
			if len(e) != 1 || e[0].Code != EINVALID || e[0].Field != "url" || !strings.Contains(e[0].Message, tc.want) {
				t.Fatalf("ValidateCallbackURL(%q) = %v, want an INVALID url error mentioning %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestWebhookValidation(t *testing.T) {
	manyHeaders := map[string]string{}
	for i := range MaxWebhookHeaders + 1 {
		manyHeaders[fmt.Sprintf("X-H%d", i)] = "v"
	}
	tests := []struct {
		name  string
		edit  func(*CreateWebhook)
		field string
	}{
		{"ErrURLNotHTTP", func(c *CreateWebhook) { c.URL = "gopher://example.com" }, "url"},
		{"ErrURLCredentials", func(c *CreateWebhook) { c.URL = "https://a:b@example.com" }, "url"},
		{"ErrURLTooLong", func(c *CreateWebhook) { c.URL = "https://example.com/" + strings.Repeat("x", 2029) }, "url"},
		{"ErrNameEmpty", func(c *CreateWebhook) { c.Name = "" }, "name"},
		{"ErrNameBlank", func(c *CreateWebhook) { c.Name = "   " }, "name"},
		{"ErrNameTooLong", func(c *CreateWebhook) { c.Name = strings.Repeat("é", 101) }, "name"},
		{"ErrNameControl", func(c *CreateWebhook) { c.Name = "a\x00b" }, "name"},
		{"ErrDescriptionTooLong", func(c *CreateWebhook) { c.Description = strings.Repeat("d", 501) }, "description"},
		{"ErrTypesEmpty", func(c *CreateWebhook) { c.EventTypes = nil }, "eventTypes"},
		{"ErrTypeUnknown", func(c *CreateWebhook) { c.EventTypes = []string{"email.open", "email.opened"} }, "eventTypes"},
		{"ErrTypeDuplicate", func(c *CreateWebhook) { c.EventTypes = []string{"email.open", "email.open"} }, "eventTypes"},
		{"ErrHeaderHost", func(c *CreateWebhook) { c.Headers = map[string]string{"host": "evil"} }, "headers"},
		{"ErrHeaderContentType", func(c *CreateWebhook) { c.Headers = map[string]string{"Content-Type": "text/plain"} }, "headers"},
		{"ErrHeaderContentLength", func(c *CreateWebhook) { c.Headers = map[string]string{"CONTENT-LENGTH": "1"} }, "headers"},
		{"ErrHeaderTransferEncoding", func(c *CreateWebhook) { c.Headers = map[string]string{"Transfer-Encoding": "chunked"} }, "headers"},
		{"ErrHeaderConnection", func(c *CreateWebhook) { c.Headers = map[string]string{"connection": "close"} }, "headers"},
		{"ErrHeaderWebhookPrefix", func(c *CreateWebhook) { c.Headers = map[string]string{"Webhook-Signature": "v1,x"} }, "headers"},
		{"ErrHeaderNameSpace", func(c *CreateWebhook) { c.Headers = map[string]string{"X Tenant": "1"} }, "headers"},
		{"ErrHeaderNameColon", func(c *CreateWebhook) { c.Headers = map[string]string{"X-A:": "1"} }, "headers"},
		{"ErrHeaderNameEmpty", func(c *CreateWebhook) { c.Headers = map[string]string{"": "1"} }, "headers"},
		{"ErrHeaderValueCRLF", func(c *CreateWebhook) { c.Headers = map[string]string{"X-A": "1\r\nX-Injected: 2"} }, "headers"},
		{"ErrHeaderValueLF", func(c *CreateWebhook) { c.Headers = map[string]string{"X-A": "1\n"} }, "headers"},
		{"ErrHeaderValueNUL", func(c *CreateWebhook) { c.Headers = map[string]string{"X-A": "1\x00"} }, "headers"},
		{"ErrHeaderDuplicateCase", func(c *CreateWebhook) { c.Headers = map[string]string{"X-A": "1", "x-a": "2"} }, "headers"},
		{"ErrTooManyHeaders", func(c *CreateWebhook) { c.Headers = manyHeaders }, "headers"},
		{"ErrRateZeroWithBurst", func(c *CreateWebhook) { c.RateLimit = RateLimit{Burst: 5} }, "rateLimit"},
		{"ErrRateNegative", func(c *CreateWebhook) { c.RateLimit = RateLimit{PerSecond: -1} }, "rateLimit"},
		{"ErrRateTooHigh", func(c *CreateWebhook) { c.RateLimit = RateLimit{PerSecond: 10001} }, "rateLimit"},
		{"ErrBurstTooHigh", func(c *CreateWebhook) { c.RateLimit = RateLimit{PerSecond: 10, Burst: 10001} }, "rateLimit"},
		{"ErrConcurrencyTooHigh", func(c *CreateWebhook) { c.MaxConcurrency = 65 }, "maxConcurrency"},
		{"ErrConcurrencyNegative", func(c *CreateWebhook) { c.MaxConcurrency = -1 }, "maxConcurrency"},
		{"ErrSecret", func(c *CreateWebhook) { c.Secret = "plain" }, "secret"},
		{"ErrVerificationFile", func(c *CreateWebhook) { c.VerificationFile = VerificationFile{} }, "verificationFile"},
	}
	if err := validCreate(t).Validate(BuiltinCatalogue().Known); err != nil {
		t.Fatalf("the valid command is refused: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := validCreate(t)
			tc.edit(&cmd)
			errs := UserErrors(cmd.Validate(BuiltinCatalogue().Known))
			if len(errs) != 1 || errs[0].Field != tc.field || errs[0].Code != EINVALID {
				t.Fatalf("errors = %v, want one INVALID error on %q", errs, tc.field)
			}
			// The update command applies the same rule to the same field.
			upd := UpdateWebhook{Name: &cmd.Name, URL: &cmd.URL, EventTypes: cmd.EventTypes, Description: &cmd.Description,
				Headers: cmd.Headers, RateLimit: &cmd.RateLimit, MaxConcurrency: &cmd.MaxConcurrency}
			if cmd.EventTypes == nil {
				upd.EventTypes = []string{}
			}
			if tc.field == "secret" || tc.field == "verificationFile" {
				return
			}
			if cmd.MaxConcurrency == 0 {
				upd.MaxConcurrency = ptr(4)
			}
			errs = UserErrors(upd.Validate(BuiltinCatalogue().Known))
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("update errors = %v, want one on %q", errs, tc.field)
			}
		})
	}
	t.Run("AllErrorsAtOnce", func(t *testing.T) {
		cmd := validCreate(t)
		cmd.Name, cmd.URL, cmd.EventTypes = "", "ftp://x", nil
		var fields []string
		for _, e := range UserErrors(cmd.Validate(BuiltinCatalogue().Known)) {
			fields = append(fields, e.Field)
		}
		if strings.Join(fields, ",") != "name,url,eventTypes" {
			t.Fatalf("fields = %v", fields)
		}
	})
	t.Run("Limits", func(t *testing.T) {
		cmd := validCreate(t)
		cmd.Name, cmd.Description = strings.Repeat("n", 100), strings.Repeat("d", 500)
		cmd.RateLimit, cmd.MaxConcurrency = RateLimit{PerSecond: 10000, Burst: 1}, 64
		cmd.Headers = map[string]string{"X-Tab": "a\tb", "User-Agent": "ünïcode", "X-Webhook-Id": "allowed: not a webhook- prefix"}
		if err := cmd.Validate(BuiltinCatalogue().Known); err != nil {
			t.Fatalf("values at the limits refused: %v", err)
		}
	})
}

func TestWebhookUserErrors(t *testing.T) {
	if UserErrors(nil) != nil {
		t.Error("UserErrors(nil) is not nil")
	}
	if UserErrors(fmt.Errorf("plain")) != nil {
		t.Error("a plain error became a user error")
	}
	wrapped := fmt.Errorf("create: %w", Errorf(ENOTFOUND, "gone"))
	if e := UserErrors(wrapped); len(e) != 1 || e[0].Code != ENOTFOUND {
		t.Errorf("UserErrors(wrapped) = %v", e)
	}
}

func TestWebhookDisableReasonIsShortened(t *testing.T) {
	s := FoldWebhook(nil)
	s = decideAndFold(t, s, validCreate(t), t0)
	s = decideAndFold(t, s, DisableWebhook{Reason: strings.Repeat("r", 2000)}, t0.Add(time.Second))
	if n := len([]rune(s.DisabledReason)); n != MaxReasonLength || !strings.HasSuffix(s.DisabledReason, "…") {
		t.Fatalf("reason has %d characters", n)
	}
}
