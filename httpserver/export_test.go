package httpserver_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/testenv"
)

var exportT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// exportFixture is a running core with a webhook of account acme, an
// export server in front of it, and keys of acme and of another account.
type exportFixture struct {
	env                *testenv.Env
	srv                *httptest.Server
	webhookID, hookGID string
	key, otherKey      string
	last               eventstore.Position
}

func newExportFixture(t *testing.T, handler func(http.Handler) http.Handler) *exportFixture {
	t.Helper()
	env := testenv.New(t)
	p, key := env.AccountKey(t, "acme", domain.ScopeAccount)
	_, otherKey := env.AccountKey(t, "other", domain.ScopeAccount)
	hook, err := env.App.CreateWebhook(context.Background(), p, domain.CreateWebhook{
		Name: "exported", URL: "https://example.com/hook", EventTypes: []string{"email.bounce"},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var h http.Handler = httpserver.ExportHandler(env.App)
	if handler != nil {
		h = handler(h)
	}
	mux.Handle("GET /v1/deliveries/export", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &exportFixture{env: env, srv: srv, webhookID: hook.ID, hookGID: domain.EncodeGlobalID("Webhook", hook.ID), key: key, otherKey: otherKey}
}

// deliver decides and appends cmds on delivery id in order, at now.
func (f *exportFixture) deliver(t *testing.T, id string, now time.Time, cmds ...domain.DeliveryCommand) {
	t.Helper()
	var state domain.DeliveryState
	for _, cmd := range cmds {
		events, err := domain.DecideDelivery(state, cmd, now)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]eventstore.EventData, len(events))
		for i, e := range events {
			if data[i], err = f.env.Codec.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.env.Store.Append(context.Background(), domain.DeliveryStream(id), state.ExpectedRevision(), data...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			state = domain.EvolveDelivery(state, e)
		}
		f.last = res.Position
	}
}

func (f *exportFixture) schedule(id string, test bool) domain.ScheduleDelivery {
	return domain.ScheduleDelivery{DeliveryID: id, MessageID: "msg_" + id, WebhookID: f.webhookID, AccountID: "acme", EventType: "email.bounce", Test: test}
}

func (f *exportFixture) sync(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.env.Runner.WaitFor(ctx, f.last); err != nil {
		t.Fatal(err)
	}
}

func (f *exportFixture) get(t *testing.T, key string, query url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/deliveries/export?"+query.Encode(), nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

type exportedRow struct {
	ID             string     `json:"id"`
	MessageID      string     `json:"messageId"`
	EventType      string     `json:"eventType"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastAttemptAt  *time.Time `json:"lastAttemptAt"`
	LastStatusCode *int       `json:"lastStatusCode"`
	Test           bool       `json:"test"`
	FailureReason  string     `json:"failureReason"`
}

func TestExport(t *testing.T) {
	f := newExportFixture(t, nil)
	ok := domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 200}, Latency: 30 * time.Millisecond}
	gone := domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 410}, Latency: 5 * time.Millisecond}
	f.deliver(t, "d1", exportT0, f.schedule("d1", false), ok)
	f.deliver(t, "d2", exportT0.Add(time.Minute), f.schedule("d2", false), gone)
	f.deliver(t, "d3", exportT0.Add(2*time.Minute), f.schedule("d3", true))
	f.sync(t)
	q := func(kv ...string) url.Values {
		v := url.Values{"webhook": {f.hookGID}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	t.Run("NDJSON", func(t *testing.T) {
		res, body := f.get(t, f.key, q())
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("status %d, type %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines:\n%s", len(lines), body)
		}
		var rows []exportedRow
		for _, l := range lines {
			var r exportedRow
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			rows = append(rows, r)
		}
		d1, d2, d3 := rows[0], rows[1], rows[2]
		if kind, id, _ := domain.DecodeGlobalID(d1.ID); kind != "Delivery" || id != "d1" {
			t.Errorf("first row id %q decodes to %s %s", d1.ID, kind, id)
		}
		if d1.Status != "succeeded" || d1.Attempts != 1 || d1.MessageID != "msg_d1" || d1.EventType != "email.bounce" ||
			d1.LastStatusCode == nil || *d1.LastStatusCode != 200 || d1.LastAttemptAt == nil || !d1.CreatedAt.Equal(exportT0) || d1.Test {
			t.Errorf("d1 = %+v", d1)
		}
		if d2.Status != "failed" || d2.FailureReason == "" || *d2.LastStatusCode != 410 {
			t.Errorf("d2 = %+v", d2)
		}
		if d3.Status != "pending" || !d3.Test || d3.LastAttemptAt != nil || d3.LastStatusCode != nil || d3.Attempts != 0 {
			t.Errorf("d3 = %+v", d3)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		res, body := f.get(t, f.key, q("format", "csv", "since", exportT0.Add(time.Minute).Format(time.RFC3339)))
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("status %d, type %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || strings.Join(recs[0], ",") != "id,messageId,eventType,status,attempts,createdAt,lastAttemptAt,lastStatusCode,test,failureReason" {
			t.Fatalf("csv:\n%s", body)
		}
		if got := recs[1]; got[1] != "msg_d2" || got[3] != "failed" || got[4] != "1" || got[7] != "410" || got[8] != "false" || got[9] == "" {
			t.Errorf("d2 row = %q", got)
		}
		if got := recs[2]; got[1] != "msg_d3" || got[6] != "" || got[7] != "" || got[8] != "true" {
			t.Errorf("d3 row = %q", got)
		}
	})
	t.Run("Window", func(t *testing.T) {
		_, body := f.get(t, f.key, q("since", exportT0.Add(30*time.Second).Format(time.RFC3339), "until", exportT0.Add(2*time.Minute).Format(time.RFC3339)))
		if n := strings.Count(body, "\n"); n != 1 || !strings.Contains(body, `"msg_d2"`) {
			t.Fatalf("window export:\n%s", body)
		}
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		for name, key := range map[string]string{"NoKey": "", "BadKey": "whk_nope_nope"} {
			if res, body := f.get(t, key, q()); res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "msg_") {
				t.Errorf("%s: status %d", name, res.StatusCode)
			}
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		_, pub := f.env.AccountKey(t, "acme", domain.ScopePublisher)
		if res, _ := f.get(t, pub, q()); res.StatusCode != http.StatusForbidden {
			t.Errorf("publisher key: status %d", res.StatusCode)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		other, _ := f.get(t, f.otherKey, q())
		missing, _ := f.get(t, f.key, url.Values{"webhook": {domain.EncodeGlobalID("Webhook", "wh_missing")}})
		wrongKind, _ := f.get(t, f.key, url.Values{"webhook": {domain.EncodeGlobalID("Delivery", "d1")}})
		for name, res := range map[string]*http.Response{"OtherAccount": other, "Missing": missing, "WrongKind": wrongKind} {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", name, res.StatusCode)
			}
		}
	})
	t.Run("ErrBadRequest", func(t *testing.T) {
		for name, c := range map[string]struct {
			query url.Values
			want  string
		}{
			"Format":        {q("format", "xml"), "format"},
			"Since":         {q("since", "yesterday"), "since"},
			"Until":         {q("until", "2026-03-01"), "until"},
			"UntilBefore":   {q("since", "2026-03-02T00:00:00Z", "until", "2026-03-01T00:00:00Z"), "until must be after since"},
			"WebhookNeeded": {url.Values{}, "webhook"},
		} {
			res, body := f.get(t, f.key, c.query)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Errorf("%s: status %d %q", name, res.StatusCode, body)
			}
		}
	})
}

// writeRecorder wraps a ResponseWriter and records the size of every write
// reaching it, so a test can see whether a response was streamed.
type writeRecorder struct {
	http.ResponseWriter
	mu     sync.Mutex
	writes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, len(p))
	w.mu.Unlock()
	return w.ResponseWriter.Write(p)
}

func (w *writeRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestExportStreams exports 20,000 deliveries and checks every row arrives,
// in creation order, in many small writes rather than one response built
// in memory.
func TestExportStreams(t *testing.T) {
	rec := &writeRecorder{}
	f := newExportFixture(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec.ResponseWriter = w
			next.ServeHTTP(rec, r)
		})
	})
	n := 20_000
	if testing.Short() {
		n = 6_000 // still ~23 flushes; the race detector makes setup slow
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("s%05d", i)
		f.deliver(t, id, exportT0.Add(time.Duration(i)*time.Millisecond), f.schedule(id, false))
	}
	f.sync(t)

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/deliveries/export?webhook="+f.hookGID+"&format=ndjson", nil)
	req.Header.Set("Authorization", "Bearer "+f.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	rows, total := 0, 0
	for sc.Scan() {
		total += len(sc.Bytes()) + 1
		if want := fmt.Sprintf(`"messageId":"msg_s%05d"`, rows); !strings.Contains(sc.Text(), want) {
			t.Fatalf("row %d = %s, want %s", rows, sc.Text(), want)
		}
		rows++
	}
	if err := sc.Err(); err != nil || rows != n {
		t.Fatalf("read %d rows of %d: %v", rows, n, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	largest := 0
	for _, w := range rec.writes {
		largest = max(largest, w)
	}
	if len(rec.writes) < 20 || largest > 64<<10 {
		t.Fatalf("%d bytes reached the client in %d writes, the largest %d bytes; want many small writes", total, len(rec.writes), largest)
	}
}
