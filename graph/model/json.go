// Package model holds the GraphQL types: those gqlgen generates from
// schema.graphqls and a few scalars written by hand.
package model

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSON is a raw JSON value passed through GraphQL unchanged, used for event
// payloads whose shape depends on the event type.
type JSON json.RawMessage

// MarshalGQL writes the raw JSON.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// UnmarshalGQL accepts any GraphQL input value and keeps it as JSON.
func (j *JSON) UnmarshalGQL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	*j = b
	return nil
}
