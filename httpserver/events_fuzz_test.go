package httpserver

import (
	"errors"
	"testing"

	"github.com/webhookd/webhookd/domain"
)

// FuzzParseEvents checks that the /v1/events decoder never panics on any
// body, as a JSON array or as NDJSON, and refuses what it cannot read with
// INVALID rather than any other error.
func FuzzParseEvents(f *testing.F) {
	for _, seed := range []string{
		``, `[]`, `[{}]`, `{}`, `null`, `5`, `[{]`, "{\"account\":\n",
		`[{"id":"a1","account":"acme","type":"email.open","data":{"n":1}}]`,
		"{\"account\":\"acme\",\"type\":\"email.click\",\"data\":{}}\n\n{\"account\":\"acme\",\"type\":\"email.click\",\"data\":[1]}\n",
		`[{"data":"not an object"},{"id":5}]`, "\xef\xbb\xbf[]", "[\n" + `{"data":` + "\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		contentType := "application/json"
		if ndjson {
			contentType = "application/x-ndjson"
		}
		events, err := parseEvents(body, contentType)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID {
				t.Fatalf("refusal %#v, want INVALID", err)
			}
			return
		}
		if len(events) > len(body) {
			t.Fatalf("%d events from %d bytes", len(events), len(body))
		}
	})
}
