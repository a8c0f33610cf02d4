package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/testenv"
)

func TestEventsRoute(t *testing.T) {
	env := testenv.New(t)
	srv := httptest.NewServer(httpserver.EventsHandler(env.App))
	defer srv.Close()
	_, publisher := env.AccountKey(t, "platform", domain.ScopePublisher)
	_, account := env.AccountKey(t, "acme", domain.ScopeAccount)

	post := func(key, contentType, body string) (int, []map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Results []map[string]any }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Results
	}

	t.Run("JSONArrayWithStatusPerEvent", func(t *testing.T) {
		code, res := post(publisher, "application/json", `[
			{"id":"a1","account":"acme","type":"email.open","data":{"n":1}},
			{"account":"acme","type":"no.such.type","data":{}},
			{"id":"a1","account":"acme","type":"email.open","data":{"n":1}}]`)
		if code != http.StatusOK || len(res) != 3 {
			t.Fatalf("status %d, %d results", code, len(res))
		}
		if res[0]["status"] != "accepted" || res[1]["status"] != "rejected" || res[2]["status"] != "duplicate" || res[0]["messageId"] != res[2]["messageId"] {
			t.Fatalf("results = %v", res)
		}
		if e, _ := res[1]["error"].(map[string]any); e == nil || e["code"] != domain.EINVALID {
			t.Fatalf("rejection carries no INVALID code: %v", res[1])
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		code, res := post(publisher, "application/x-ndjson", "{\"account\":\"acme\",\"type\":\"email.click\",\"data\":{}}\n\n{\"account\":\"acme\",\"type\":\"email.click\",\"data\":[1]}\n")
		if code != http.StatusOK || len(res) != 2 || res[0]["status"] != "accepted" || res[1]["status"] != "accepted" {
			t.Fatalf("status %d, results %v", code, res)
		}
	})
	t.Run("ErrMalformedBody", func(t *testing.T) {
		if code, _ := post(publisher, "application/x-ndjson", "{\"account\":\n"); code != http.StatusBadRequest {
			t.Fatalf("status %d", code)
		}
		if code, _ := post(publisher, "application/json", "[{]"); code != http.StatusBadRequest {
			t.Fatalf("status %d", code)
		}
	})
	t.Run("ErrTooManyEvents", func(t *testing.T) {
		body := "[" + strings.Repeat(`{"account":"acme","type":"email.open","data":{}},`, 1000) + `{"account":"acme","type":"email.open","data":{}}]`
		if code, _ := post(publisher, "application/json", body); code != http.StatusBadRequest {
			t.Fatalf("1,001 events: status %d", code)
		}
	})
	t.Run("ErrAuth", func(t *testing.T) {
		if code, _ := post("whk_nope_nope", "application/json", "[]"); code != http.StatusUnauthorized {
			t.Fatalf("bad key: status %d", code)
		}
		if code, _ := post(account, "application/json", "[]"); code != http.StatusForbidden {
			t.Fatalf("account key: status %d", code)
		}
	})
}
