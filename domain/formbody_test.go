package domain

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func formMessage(typ, data string) MessagePublished {
	return MessagePublished{MessageID: "msg-1", AccountID: "acme", Type: typ, Data: json.RawMessage(data),
		PublishedAt: time.Date(2024, 5, 14, 9, 31, 7, 0, time.UTC)}
}

// TestFormBodySMTPeterFields: each SMTPeter type sends exactly SMTPeter's
// field names first, in order, read from the data (with the catalogue's
// own spellings as fallbacks), then the envelope.
func TestFormBodySMTPeterFields(t *testing.T) {
	tests := []struct {
		typ, data string
		want      string // the SMTPeter part, before webhookd[...]
	}{
		{"email.delivery", `{"id":"d1","recipient":"a@x.nl","time":"2024-05-14T09:31:07Z","code":250,"extendedCode":"2.0.0","response":"250 OK","tags":["news","may"]}`,
			"id=d1&recipient=a%40x.nl&time=2024-05-14T09%3A31%3A07Z&timestamp=1715679067&code=250&extended=2.0.0&description=250+OK&tags%5B%5D=news&tags%5B%5D=may"},
		{"email.bounce", `{"id":"b1","recipient":"r@x.nl","from":"env@shop.nl","mime":"MIME-Version: 1.0","tags":[]}`,
			"id=b1&timestamp=1715679067&time=&recipient=r%40x.nl&envelope=env%40shop.nl&mime=MIME-Version%3A+1.0&tags="},
		{"email.failure", `{"id":"f1","recipient":"r@x.nl","action":"failed","type":"timeout","code":421,"extended":"4.4.2","description":"timed out"}`,
			"id=f1&recipient=r%40x.nl&action=failed&state=timeout&code=421&extended=4.4.2&description=timed+out&tags="},
		{"email.click", `{"id":"c1","recipient":"r@x.nl","ip":"198.51.100.7","url":"https://s.nl/?a=1&b=2","userAgent":"UA","tags":["t"]}`,
			"id=c1&recipient=r%40x.nl&ip=198.51.100.7&original=https%3A%2F%2Fs.nl%2F%3Fa%3D1%26b%3D2&useragent=UA&referer=&tags%5B%5D=t"},
		{"email.open", `{"id":"o1","recipient":"r@x.nl","ip":"1.2.3.4","time":"t","useragent":"UA","referer":"https://r.nl","tags":["t"]}`,
			"id=o1&recipient=r%40x.nl&ip=1.2.3.4&time=t&useragent=UA&referer=https%3A%2F%2Fr.nl&tags%5B%5D=t"},
		{"email.abuse", `{"id":"a1","recipient":"r@x.nl","mime":"m"}`, "id=a1&emailfrom=r%40x.nl&mime=m"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			body, err := formMessage(tt.typ, tt.data).FormBody()
			if err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(string(body), "&webhookd%5Bid%5D=")
			if head != tt.want {
				t.Errorf("got  %s\nwant %s", head, tt.want)
			}
			q, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			if q.Get("webhookd[type]") != tt.typ || q.Get("webhookd[id]") != "msg-1" || q.Get("webhookd[account]") != "acme" ||
				q.Get("webhookd[timestamp]") != "2024-05-14T09:31:07Z" {
				t.Errorf("envelope: %v", q)
			}
		})
	}
}

// TestFormBodyKeepsEverything: the whole data travels, nested as PHP
// reads it, so nothing published is left out of a FORM delivery.
func TestFormBodyKeepsEverything(t *testing.T) {
	data := `{"recipient":"r@x.nl","nested":{"b":true,"a":false,"z":null,"n":1.50},"list":[{"k":"v"},[1,2]],"empty":{},"tags":["x y"]}`
	body, err := formMessage("email.delivery", data).FormBody()
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"webhookd[data][recipient]":  {"r@x.nl"},
		"webhookd[data][nested][b]":  {"1"},
		"webhookd[data][nested][a]":  {"0"},
		"webhookd[data][nested][z]":  {""},
		"webhookd[data][nested][n]":  {"1.50"},
		"webhookd[data][list][0][k]": {"v"},
		"webhookd[data][list][1][]":  {"1", "2"},
		"webhookd[data][empty]":      {""},
		"webhookd[data][tags][]":     {"x y"},
		"tags[]":                     {"x y"},
		"recipient":                  {"r@x.nl"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(q[k], v) {
			t.Errorf("%s = %q, want %q", k, q[k], v)
		}
	}
}

// TestFormBodyOtherTypes: profile events and other types send their data's
// own fields at the top level, in the JSON's order, and no webhookd[data].
func TestFormBodyOtherTypes(t *testing.T) {
	body, err := formMessage("profile.updated", `{"profile":{"id":"8472","interests":["shoes"]},"time":"t"}`).FormBody()
	if err != nil {
		t.Fatal(err)
	}
	want := "profile%5Bid%5D=8472&profile%5Binterests%5D%5B%5D=shoes&time=t&webhookd%5Bid%5D=msg-1&webhookd%5Btype%5D=profile.updated&webhookd%5Btimestamp%5D=2024-05-14T09%3A31%3A07Z&webhookd%5Baccount%5D=acme"
	if string(body) != want {
		t.Errorf("got  %s\nwant %s", body, want)
	}
	scalar, err := formMessage("order.shipped", `"just text"`).FormBody()
	if err != nil || !strings.HasPrefix(string(scalar), "data=just+text&") {
		t.Errorf("scalar data: %s, %v", scalar, err)
	}
}

// TestDeliveryBodyAs: the format picks the variant; JSON stays the bytes
// DeliveryBody always gave, and the FORM body is the same on every call.
func TestDeliveryBodyAs(t *testing.T) {
	m := formMessage("email.open", `{"b":1,"a":2,"c":{"y":1,"x":2}}`)
	j, _ := m.DeliveryBody()
	for _, f := range []BodyFormat{"", BodyFormatJSON} {
		if got, _ := m.DeliveryBodyAs(f); string(got) != string(j) {
			t.Errorf("%q: %s", f, got)
		}
	}
	first, _ := m.DeliveryBodyAs(BodyFormatForm)
	for range 20 {
		if again, _ := m.DeliveryBodyAs(BodyFormatForm); string(again) != string(first) {
			t.Fatalf("not deterministic:\n%s\n%s", first, again)
		}
	}
	if BodyFormatForm.ContentType() != "application/x-www-form-urlencoded" || BodyFormat("").ContentType() != "application/json" {
		t.Error("content types")
	}
}

func FuzzFormBody(f *testing.F) {
	f.Add("email.bounce", `{"tags":["a"],"x":{"y":[1,{"z":null}]}}`)
	f.Add("profile.created", `[1,"2",true]`)
	f.Fuzz(func(t *testing.T, typ, data string) {
		if !json.Valid([]byte(data)) {
			return
		}
		body, err := formMessage(typ, data).FormBody()
		if err != nil {
			t.Fatalf("valid JSON refused: %v", err)
		}
		if _, err := url.ParseQuery(string(body)); err != nil {
			t.Fatalf("body does not parse: %v\n%s", err, body)
		}
	})
}

// TestFormBodyMarksTestSends: a test send says so, as the JSON body's
// "test": true does; a real delivery does not.
func TestFormBodyMarksTestSends(t *testing.T) {
	m := formMessage("email.open", `{"id":"o1"}`)
	real, _ := m.FormBody()
	m.TestWebhookID = "wh1"
	test, _ := m.FormBody()
	rq, _ := url.ParseQuery(string(real))
	tq, _ := url.ParseQuery(string(test))
	if rq.Has("webhookd[test]") || tq.Get("webhookd[test]") != "1" {
		t.Errorf("real %s\ntest %s", real, test)
	}
}
