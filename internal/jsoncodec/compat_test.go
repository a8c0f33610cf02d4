package jsoncodec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// TestSameAsEncodingJSON fills every registered event type and every
// read-model value type with random values (strings with HTML, quotes,
// control characters and non-ASCII, times with nanoseconds and zones, maps,
// zero fields for omitempty and omitzero) and checks, for each, that
// jsoncodec encodes the same bytes as encoding/json, and that what
// encoding/json wrote (the data already in logs and read models) decodes
// into the same value with jsoncodec as with encoding/json.
func TestSameAsEncodingJSON(t *testing.T) {
	codec := eventstore.NewCodec()
	domain.RegisterEvents(codec)
	samples := map[string]reflect.Type{}
	for _, name := range codec.Types() {
		ev, err := codec.Decode(eventstore.RecordedEvent{Type: name, Data: []byte(`{}`)})
		if err != nil {
			t.Fatalf("zero %s: %v", name, err)
		}
		samples[name] = reflect.TypeOf(ev)
	}
	for _, v := range []any{
		deliveries.DeliveryView{}, due.DueEntry{}, due.Health{}, webhooks.WebhookView{},
		domain.AccountState{}, domain.APIKey{}, domain.PortalSession{},
	} {
		samples[reflect.TypeOf(v).String()] = reflect.TypeOf(v)
	}
	if len(samples) < 30 {
		t.Fatalf("only %d types to check", len(samples))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for name, typ := range samples {
		for round := range 40 {
			v := reflect.New(typ)
			// Every fourth round leaves fields zero, for omitempty and omitzero.
			fill(rng, v.Elem(), round%4 == 0)
			want, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: encoding/json: %v", name, err)
			}
			got, err := jsoncodec.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: jsoncodec: %v", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: encoded differently\njsoncodec:     %s\nencoding/json: %s", name, got, want)
			}
			fromStd, fromCodec := reflect.New(typ), reflect.New(typ)
			if err := json.Unmarshal(want, fromStd.Interface()); err != nil {
				t.Fatalf("%s: encoding/json decode: %v", name, err)
			}
			if err := jsoncodec.Unmarshal(want, fromCodec.Interface()); err != nil {
				t.Fatalf("%s: jsoncodec decode of %s: %v", name, want, err)
			}
			if !reflect.DeepEqual(fromCodec.Interface(), fromStd.Interface()) {
				t.Errorf("%s: %s decoded differently\njsoncodec:     %#v\nencoding/json: %#v", name, want, fromCodec.Elem().Interface(), fromStd.Elem().Interface())
			}
		}
	}
}

// TestDecodesLikeEncodingJSON decodes hand-written JSON that encoding/json
// accepts but never writes (other key case, unknown fields, nulls,
// whitespace, escapes) and checks that jsoncodec reads it the same way.
func TestDecodesLikeEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		into func() any
		data string
	}{
		{"key case", func() any { return &domain.DeliveryScheduled{} }, `{"DELIVERYID":"d1","messageid":"m1","webhookId":"w1"}`},
		{"unknown fields", func() any { return &domain.DeliveryAttempted{} }, `{"deliveryId":"d1","future":{"a":[1,2,{"b":null}]},"attempt":2}`},
		{"nulls", func() any { return &domain.DeliveryAttempted{} }, `{"deliveryId":null,"requestHeaders":null,"at":null,"attempt":null}`},
		{"whitespace and escapes", func() any { return &domain.DeliveryAttempted{} }, " {\n\t\"errorMessage\" : \"a\\u003cb\\u0026\\\"c\\\\\\n\\ud83d\\ude00\\u2028\" ,\"attempt\":3 } "},
		{"raw data kept", func() any { return &domain.MessagePublished{} }, `{"messageId":"m1","data": {"z":1, "a":[true,null,"\u00e9"]} }`},
		{"embedded and tagged fields", func() any { return &deliveries.DeliveryView{} }, `{"ID":"d1","Attempts":3,"attemptLog":[{"number":1,"at":"2026-12-01T13:00:00.5+02:00"}],"CreatedPosition":7}`},
		{"duplicate keys, last wins", func() any { return &due.DueEntry{} }, `{"d":"first","d":"second","x":true}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, got := c.into(), c.into()
			if err := json.Unmarshal([]byte(c.data), want); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if err := jsoncodec.Unmarshal([]byte(c.data), got); err != nil {
				t.Fatalf("jsoncodec: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded differently\njsoncodec:     %#v\nencoding/json: %#v", got, want)
			}
		})
	}
}

// TestDecodedValuesOwnTheirBytes decodes from a buffer, overwrites the
// buffer and checks the value is unchanged: read models decode bbolt
// values that are only valid inside their transaction.
func TestDecodedValuesOwnTheirBytes(t *testing.T) {
	data := []byte(`{"messageId":"m-123","accountId":"acme","type":"order.created","data":{"k":"v"}}`)
	var m domain.MessagePublished
	if err := jsoncodec.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'X'
	}
	if m.MessageID != "m-123" || m.AccountID != "acme" || m.Type != "order.created" || string(m.Data) != `{"k":"v"}` {
		t.Errorf("decoded value changed with its input: %+v (data %s)", m, m.Data)
	}
}

var strs = []string{"", "a", "acme", "wh_0123", "<b>&amp;</b>", `quote " and \ backslash`, "tab\tnl\n\x01", "é ü 日本", "\u2028\u2029", "emoji 😀", "bad utf8 \xff\xfe", "https://example.com/hook?a=1&b=2"}

// fill sets v, recursively, to random values; sparse leaves about half of
// the fields zero.
func fill(rng *rand.Rand, v reflect.Value, sparse bool) {
	if sparse && rng.IntN(2) == 0 {
		return
	}
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -(5*3600 + 30*60))}
		v.Set(reflect.ValueOf(time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])))
		return
	case reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(fmt.Sprintf(`{"n":%d,"s":"<x>","l":[1,2.5,null,true]}`, rng.IntN(1000))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[rng.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.Uint64()) >> (64 - v.Type().Bits()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(rng.Uint64() >> (64 - v.Type().Bits()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(rng.NormFloat64() * 1e6)
	case reflect.Slice:
		n := rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), false)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(rng, v.Index(i), false)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(5) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k, false)
			fill(rng, e, false)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), sparse)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i), sparse)
			}
		}
	}
}
