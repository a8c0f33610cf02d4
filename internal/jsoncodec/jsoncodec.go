// Package jsoncodec is the one place that chooses the JSON implementation
// for what webhookd stores: event payloads (eventstore.Codec) and the read
// models' values (projections/...). It is github.com/goccy/go-json, a
// drop-in for encoding/json that produces the same bytes (sorted map keys,
// HTML-safe escaping, the same struct-field rules including omitzero) and
// decodes what encoding/json wrote, with a fraction of its CPU and
// allocations per value. The compatibility test beside it holds it to that
// for every registered event type and the read models' value types, so the
// log stays JSON that encoding/json (and history readers) decode as before.
//
// Everything else (the HTTP and GraphQL wire, request bodies, config) keeps
// encoding/json: those paths are not where the CPU goes.
package jsoncodec

import json "github.com/goccy/go-json"

// Marshal encodes v exactly as encoding/json.Marshal does.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes data into v as encoding/json.Unmarshal does. The
// decoder works on its own copy of data, so data may be a bbolt value that
// is only valid inside its transaction.
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
