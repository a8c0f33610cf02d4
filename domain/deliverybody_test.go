package domain

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// marshalledBody is the definition DeliveryBody's fast path must match.
func marshalledBody(t testing.TB, m MessagePublished) ([]byte, error) {
	t.Helper()
	return json.Marshal(DeliveryPayload{ID: m.MessageID, Type: m.Type, Timestamp: m.PublishedAt, Account: m.AccountID, Data: m.Data,
		Test: m.TestWebhookID != ""})
}

func checkBodyIsMarshal(t testing.TB, m MessagePublished) {
	t.Helper()
	want, wantErr := marshalledBody(t, m)
	got, err := m.DeliveryBody()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("message %+v: error %v, json.Marshal's %v", m, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("message %+v:\n got %s\nwant %s", m, got, want)
	}
}

func TestDeliveryBodyIsTheMarshalledPayload(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 456789000, time.UTC)
	plain := MessagePublished{MessageID: "msg_01", Type: "mail.delivered", AccountID: "acc_1", PublishedAt: at,
		Data: json.RawMessage(`{"to":"a@example.com","subject":"Your \"weekly\" digest \\ ","n":1,"tags":["x"]}`)}
	fast, ok := plain.appendDeliveryBody(nil)
	if !ok {
		t.Fatal("a plain message did not take the fast path")
	}
	if want, _ := marshalledBody(t, plain); !bytes.Equal(fast, want) {
		t.Fatalf("fast path:\n got %s\nwant %s", fast, want)
	}
	variants := map[string]func(*MessagePublished){
		"test send":                            func(m *MessagePublished) { m.TestWebhookID = "wh_1" },
		"whole seconds":                        func(m *MessagePublished) { m.PublishedAt = at.Truncate(time.Second) },
		"zero time":                            func(m *MessagePublished) { m.PublishedAt = time.Time{} },
		"year 10000":                           func(m *MessagePublished) { m.PublishedAt = at.AddDate(8000, 0, 0) },
		"other zone":                           func(m *MessagePublished) { m.PublishedAt = at.In(time.FixedZone("x", 5*3600+30*60)) },
		"offset of 25 hours":                   func(m *MessagePublished) { m.PublishedAt = at.In(time.FixedZone("y", 25*3600)) },
		"no data":                              func(m *MessagePublished) { m.Data = nil },
		"data with spaces":                     func(m *MessagePublished) { m.Data = json.RawMessage(`{ "a" : [1, 2] }`) },
		"space inside a string":                func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"b c"}`) },
		"space after a string":                 func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"b c" }`) },
		"space after an escaped quote":         func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"\\" ,"b":1}`) },
		"space after a string holding a quote": func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"\"" ,"b":1}`) },
		"escaped quote then space":             func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"\" ","b":1}`) },
		"html in data":                         func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"<b>&</b>"}`) },
		"ampersand in data":                    func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"x&y"}`) },
		"greater-than in data":                 func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"x>y"}`) },
		"tab between tokens":                   func(m *MessagePublished) { m.Data = json.RawMessage("{\"a\":\t1}") },
		"newline after data":                   func(m *MessagePublished) { m.Data = json.RawMessage("{\"a\":1}\n") },
		"line separator in data":               func(m *MessagePublished) { m.Data = json.RawMessage("{\"a\":\"x\u2028y\u2029\"}") },
		"other unicode in data":                func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"é€😀"}`) },
		"escapes in data":                      func(m *MessagePublished) { m.Data = json.RawMessage(`{"a":"q\"\\\n\u0001"}`) },
		"scalar data":                          func(m *MessagePublished) { m.Data = json.RawMessage(`42`) },
		"quote in type":                        func(m *MessagePublished) { m.Type = `a"b` },
		"html in account":                      func(m *MessagePublished) { m.AccountID = "a<b>&" },
		"unicode in ID":                        func(m *MessagePublished) { m.MessageID = "é" },
		"control in ID":                        func(m *MessagePublished) { m.MessageID = "a\tb" },
		"invalid UTF-8 in type":                func(m *MessagePublished) { m.Type = "a\xffb" },
		"empty strings":                        func(m *MessagePublished) { m.MessageID, m.Type, m.AccountID = "", "", "" },
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			m := plain
			change(&m)
			checkBodyIsMarshal(t, m)
		})
	}
}

// TestDeliveryBodyIsMarshalledForRandomMessages draws messages from an
// alphabet of the characters either path treats specially.
func TestDeliveryBodyIsMarshalledForRandomMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "0", "_", "-", ".", " ", "\"", "\\", "<", ">", "&", "\n", "\x01", "é", "\u2028", "\xff", "~", "\x7f"}
	word := func() string {
		var b []byte
		for range r.IntN(6) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	for range 5000 {
		// Unescaped HTML characters and separators reach the data as a
		// publisher may send them.
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(r.IntN(2) == 0)
		_ = e.Encode(map[string]any{word(): word(), "n": r.IntN(100), "l": []string{word()}})
		inner := bytes.TrimSpace(enc.Bytes())
		if r.IntN(4) == 0 {
			var spaced bytes.Buffer
			_ = json.Indent(&spaced, inner, "", " ")
			inner = spaced.Bytes()
		}
		m := MessagePublished{MessageID: word(), Type: word(), AccountID: word(), Data: inner,
			PublishedAt: time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()}
		if r.IntN(2) == 0 {
			m.TestWebhookID = "wh"
		}
		checkBodyIsMarshal(t, m)
	}
}

func FuzzDeliveryBodyIsMarshal(f *testing.F) {
	f.Add("msg_01", "mail.delivered", "acc_1", []byte(`{"a":1}`), int64(1_800_000_000), int64(5), false)
	f.Add("a<b", "t\"", "é", []byte(`{"a":"x y"}`), int64(0), int64(0), true)
	f.Fuzz(func(t *testing.T, id, typ, account string, data []byte, sec, nsec int64, test bool) {
		if !json.Valid(data) {
			t.Skip("the log holds only JSON data")
		}
		m := MessagePublished{MessageID: id, Type: typ, AccountID: account, Data: data, PublishedAt: time.Unix(sec, nsec).UTC()}
		if test {
			m.TestWebhookID = "wh"
		}
		checkBodyIsMarshal(t, m)
	})
}

// BenchmarkDeliveryBody compares the body's fast path with json.Marshal of
// the same payload, on the benchmarks' event data.
func BenchmarkDeliveryBody(b *testing.B) {
	m := MessagePublished{MessageID: "0190d7a4-1c9e-7b5e-9f0a-3c2d1e4f5a6b", Type: "mail.delivered", AccountID: "acc_bench",
		PublishedAt: time.Date(2026, 12, 2, 1, 2, 3, 456789000, time.UTC),
		Data:        json.RawMessage(`{"to":"someone@example.com","from":"news@example.org","subject":"Your weekly digest","messageId":"0190d7a4-1c9e-7b5e-9f0a-3c2d1e4f5a6b","tags":["digest","weekly"],"ip":"192.0.2.10"}`)}
	b.Run("fast-path", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.DeliveryBody(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalledBody(b, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestDeliveryBodyIsWrittenIntoOneAllocation(t *testing.T) {
	// The longest fields the fast path takes: nanoseconds, a test send.
	m := MessagePublished{MessageID: "msg_01", Type: "mail.delivered", AccountID: "acc_1", TestWebhookID: "wh",
		PublishedAt: time.Date(2026, 12, 2, 1, 2, 3, 456789123, time.UTC), Data: json.RawMessage(`{"a":"b c"}`)}
	if _, ok := m.appendDeliveryBody(nil); !ok {
		t.Fatal("the message did not take the fast path")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = m.DeliveryBody() }); n != 1 {
		t.Fatalf("%v allocations per body, want 1: deliveryBodySize is short", n)
	}
}
