// Package gqltest is a small GraphQL client for webhookd's tests: plain
// POST requests, raw bodies for bad-input checks, and graphql-transport-ws
// subscriptions over a websocket. It also builds a test server over a real
// core (internal/testenv), so every test talks to the API the way a client
// does rather than calling resolvers directly.
package gqltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// Client sends GraphQL requests to one endpoint with one API key.
type Client struct {
	// URL is the /graphql endpoint.
	URL string
	// Key is the raw API key sent as a bearer token; empty sends none.
	Key string
	// HTTP defaults to http.DefaultClient.
	HTTP *http.Client
}

// Error is one entry of a response's top-level errors.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Code returns extensions.code, or "" when there is none.
func (e Error) Code() string {
	s, _ := e.Extensions["code"].(string)
	return s
}

// Response is a decoded GraphQL response. Body keeps the exact bytes, so
// tests can compare two responses byte for byte.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Codes lists the extensions.code of every top-level error, in order.
func (r *Response) Codes() []string {
	out := make([]string, 0, len(r.Errors))
	for _, e := range r.Errors {
		out = append(out, e.Code())
	}
	return out
}

// HasCode reports whether some top-level error carries code.
func (r *Response) HasCode(code string) bool {
	for _, e := range r.Errors {
		if e.Code() == code {
			return true
		}
	}
	return false
}

// Decode unmarshals the data member into v.
func (r *Response) Decode(v any) error {
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return fmt.Errorf("response has no data (status %d): %s", r.Status, r.Body)
	}
	return json.Unmarshal(r.Data, v)
}

// Request is the JSON body of a GraphQL request.
type Request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Post sends a query with variables.
func (c *Client) Post(ctx context.Context, query string, vars map[string]any) (*Response, error) {
	body, err := json.Marshal(Request{Query: query, Variables: vars})
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return c.PostRaw(ctx, "application/json", bytes.NewReader(body))
}

// PostRaw sends body as is, for requests a well-behaved client would never
// make (oversized, malformed).
func (c *Client) PostRaw(ctx context.Context, contentType string, body io.Reader) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		return out, fmt.Errorf("response is not JSON (status %d): %.200s", resp.StatusCode, raw)
	}
	return out, nil
}

// Do sends a query and fails the test on a transport error. The response is
// returned whatever its errors, for tests about errors.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) *Response {
	t.Helper()
	resp, err := c.Post(context.Background(), query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// MustData sends a query, fails the test on any top-level error, and
// decodes the data into out (which may be nil).
func (c *Client) MustData(t testing.TB, query string, vars map[string]any, out any) *Response {
	t.Helper()
	resp := c.Do(t, query, vars)
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("query failed (status %d): %s\nquery: %s", resp.Status, resp.Body, query)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp
}
