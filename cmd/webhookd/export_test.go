package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// exported is the part of an export row these tests read.
type exported struct {
	MessageID string    `json:"messageId"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	Payload   *struct {
		ID      string         `json:"id"`
		Type    string         `json:"type"`
		Account string         `json:"account"`
		Data    map[string]any `json:"data"`
	} `json:"payload"`
}

func getExport(t *testing.T, base, key string, q url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/deliveries/export?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func exportRows(t *testing.T, base, key string, q url.Values) []exported {
	t.Helper()
	status, body := getExport(t, base, key, q)
	if status != http.StatusOK {
		t.Fatalf("export %s: %d %s", q.Encode(), status, body)
	}
	var rows []exported
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if line == "" {
			continue
		}
		var r exported
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// TestExportThroughServe publishes three events on the real service to a
// verified loopback receiver that answers the last 410 Gone, then exports: the
// payload is the body the receiver got, and the status and until filters
// narrow the rows.
func TestExportThroughServe(t *testing.T) {
	m := MustRunMain(t, t.TempDir())
	base := "http://" + m.HTTP.Addr()
	owner := client(m, m.DemoKey())
	recv := testenv.NewReceiver(t)
	hook, ue := owner.CreateWebhook(t, map[string]any{"name": "pull", "url": recv.URL + "/hooks/in", "eventTypes": []string{"email.bounce"}})
	if hook == nil || len(ue) > 0 {
		t.Fatalf("createWebhook: %v", ue)
	}
	recv.PlaceFile(hook.Verification.FileName, hook.Verification.FileContent)
	var verified struct {
		VerifyWebhook struct{ Verified bool } `json:"verifyWebhook"`
	}
	owner.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified } }`, map[string]any{"id": hook.ID}, &verified)
	if !verified.VerifyWebhook.Verified {
		t.Fatal("webhook not verified")
	}
	pub, err := m.Core.App.CreateAPIKey(t.Context(), "platform", domain.ScopePublisher, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, status := range []int{200, 200, 410} {
		recv.Respond(status, 0)
		body := fmt.Sprintf(`{"id":"evt-%d","account":"demo","type":"email.bounce","data":{"n":%d}}`+"\n", i, i)
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pub.Secret)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("publish: %d", res.StatusCode)
		}
		recv.WaitFor(t, i+1, 30*time.Second)
	}
	all := url.Values{"webhook": {hook.ID}}
	// The receiver has answered; wait until the read model says so too.
	waitUntil(t, 30*time.Second, func() bool {
		rows := exportRows(t, base, m.DemoKey(), all)
		return len(rows) == 3 && rows[0].Status == "succeeded" && rows[1].Status == "succeeded" && rows[2].Status == "failed"
	})
	rows := exportRows(t, base, m.DemoKey(), all)

	t.Run("Payload", func(t *testing.T) {
		got := exportRows(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "include": {"payload"}})
		sent := recv.Received()
		if len(got) != 3 {
			t.Fatalf("%d rows", len(got))
		}
		for i, r := range got {
			if r.Payload == nil || r.Payload.ID != r.MessageID || r.Payload.Type != "email.bounce" || r.Payload.Account != "demo" || r.Payload.Data["n"] != float64(i) {
				t.Fatalf("row %d payload: %+v", i, r.Payload)
			}
			var body struct{ ID string }
			if err := json.Unmarshal(sent[i].Body, &body); err != nil || body.ID != r.MessageID {
				t.Errorf("row %d is message %s, the receiver's POST %d was %s", i, r.MessageID, i, sent[i].Body)
			}
		}
		if rows[0].Payload != nil {
			t.Errorf("payload exported without include=payload: %+v", rows[0].Payload)
		}
	})
	t.Run("PayloadCSV", func(t *testing.T) {
		_, body := getExport(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "include": {"payload"}, "format": {"csv"}})
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][len(recs[0])-1] != "payload" {
			t.Fatalf("csv (%v):\n%s", err, body)
		}
		if p := recs[1][len(recs[1])-1]; !strings.Contains(p, `"data":{"n":0}`) {
			t.Errorf("payload cell %q", p)
		}
	})
	t.Run("Status", func(t *testing.T) {
		got := exportRows(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "status": {"succeeded"}})
		if len(got) != 2 || got[0].MessageID != rows[0].MessageID || got[1].MessageID != rows[1].MessageID {
			t.Fatalf("succeeded: %+v", got)
		}
		got = exportRows(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "status": {"failed"}})
		if len(got) != 1 || got[0].MessageID != rows[2].MessageID {
			t.Fatalf("failed: %+v", got)
		}
	})
	t.Run("Until", func(t *testing.T) {
		got := exportRows(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "until": {rows[2].CreatedAt.Format(time.RFC3339Nano)}})
		if len(got) != 2 || got[0].MessageID != rows[0].MessageID || got[1].MessageID != rows[1].MessageID {
			t.Fatalf("until the third: %+v", got)
		}
		got = exportRows(t, base, m.DemoKey(), url.Values{"webhook": {hook.ID}, "since": {rows[1].CreatedAt.Format(time.RFC3339Nano)}, "until": {rows[2].CreatedAt.Format(time.RFC3339Nano)}})
		if len(got) != 1 || got[0].MessageID != rows[1].MessageID {
			t.Fatalf("since the second until the third: %+v", got)
		}
	})
	t.Run("ErrBadRequest", func(t *testing.T) {
		for name, q := range map[string]url.Values{
			"Include": {"webhook": {hook.ID}, "include": {"secrets"}},
			"Status":  {"webhook": {hook.ID}, "status": {"lost"}},
		} {
			if status, body := getExport(t, base, m.DemoKey(), q); status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, status, body)
			}
		}
	})
}
