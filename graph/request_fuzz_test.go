package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/webhookd/webhookd/domain"
)

// FuzzDecodeRequest checks that decodeRequest never panics, that every
// refusal is a short BAD_REQUEST, and that whatever it accepts gqlgen's own
// decoder accepts with the same result (so checkRequest never lets through
// a body gqlgen then fails on).
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `null`, `5`, `"x"`, `[]`, `[{"query":"{ a }"}]`, `{`, `{}`,
		`{"query":"{ viewer { keyId } }"}`,
		`{"query":"query($n: Int) { a(n: $n) }","variables":{"n":12345678901234567890},"operationName":"q"}`,
		`{"query":5}`, `{"query":null}`, `{"variables":[1]}`, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":"{ a }"} trailing`, `{"query":"{ a }"}{"query":"{ b }"}`, "{\"query\":\"\\ud800\"}", "\xff\xfe{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeRequest(body)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != codeBadRequest || len(de.Message) > maxDecodeMessage {
				t.Fatalf("refusal %#v, want a BAD_REQUEST of at most %d bytes", err, maxDecodeMessage)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var theirs graphql.RawParams
		if err := dec.Decode(&theirs); err != nil {
			t.Fatalf("accepted %q, which gqlgen's decoding refuses: %v", body, err)
		}
		if theirs.Query != p.Query || theirs.OperationName != p.OperationName || mustJSON(t, theirs.Variables) != mustJSON(t, p.Variables) {
			t.Fatalf("decoded %+v, gqlgen %+v", p, theirs)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
