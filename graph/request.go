package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/webhookd/webhookd/domain"
)

// codeBadRequest is the extensions.code of a POST body that is not a
// GraphQL request at all (not JSON, not one object, wrong member types):
// the client's mistake, answered with 400 before the GraphQL engine runs.
const codeBadRequest = "BAD_REQUEST"

// maxDecodeMessage bounds the error message of a refused body, which is
// also what gets logged: it never quotes the body.
const maxDecodeMessage = 200

// decodeRequest decodes a POST /graphql body into the parameters the
// GraphQL engine runs. It accepts exactly one JSON object whose query and
// operationName are strings and whose variables and extensions are objects
// (or null), with nothing after it; anything else is a *domain.Error with
// code BAD_REQUEST whose message is at most maxDecodeMessage bytes. A body
// it accepts is one gqlgen's own decoder accepts too.
func decodeRequest(body []byte) (*graphql.RawParams, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, badRequest("the request body is empty; send a JSON object with a query")
	case trimmed[0] == '[':
		return nil, badRequest("batched requests are not supported; send one JSON object per request")
	case trimmed[0] != '{':
		return nil, badRequest("the request body must be a JSON object with a query")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber() // as gqlgen decodes: integers stay exact
	var p graphql.RawParams
	if err := dec.Decode(&p); err != nil {
		return nil, badRequest("the request body is not a GraphQL request: " + describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("the request body has data after its JSON object")
	}
	return &p, nil
}

// describeJSONError says what is wrong with a body in words that never
// quote it.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		want := "an object"
		if typ.Type.Kind().String() == "string" {
			want = "a string"
		}
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, want, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	default:
		return "invalid JSON"
	}
}

func badRequest(msg string) *domain.Error {
	if len(msg) > maxDecodeMessage {
		msg = msg[:maxDecodeMessage]
	}
	return domain.Errorf(codeBadRequest, "%s", msg)
}
