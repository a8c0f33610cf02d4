package httpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// maxEventsBody bounds a POST /v1/events body: a full batch of maximal
// events.
const maxEventsBody = app.MaxPublishBatch*1024 + 4*app.MaxEventDataSize

// eventIn is one event of a POST /v1/events body.
type eventIn struct {
	ID      string          `json:"id"`
	Account string          `json:"account"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// eventStatus is the per-event answer of POST /v1/events.
type eventStatus struct {
	Index     int           `json:"index"`
	Status    string        `json:"status"` // accepted, duplicate or rejected
	MessageID string        `json:"messageId,omitempty"`
	Error     *domain.Error `json:"error,omitempty"`
}

// EventsHandler serves POST /v1/events, the high-volume publishing route:
// a JSON array or NDJSON (Content-Type application/x-ndjson) of up to 1,000
// events, answered with a status per event. Every accepted event is durable
// when the response is sent. The publisher scope is required.
func EventsHandler(a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r.Context(), app.BearerToken(r.Header.Get("Authorization")))
		if err != nil {
			writeJSONError(w, http.StatusUnauthorized, err)
			return
		}
		if err := app.Require(p, domain.ScopePublisher, domain.ScopeAdmin); err != nil {
			writeJSONError(w, http.StatusForbidden, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventsBody))
		if err != nil {
			writeReadError(w, err)
			return
		}
		events, err := parseEvents(body, r.Header.Get("Content-Type"))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		in := make([]app.PublishInput, len(events))
		for i, e := range events {
			in[i] = app.PublishInput{ID: e.ID, Account: e.Account, Type: e.Type, Data: e.Data}
		}
		// A publisher that traces sends its traceparent: the publish spans
		// continue its trace.
		results, err := a.Publish(a.WithTraceparent(r.Context(), r.Header.Get("traceparent")), in)
		if err != nil {
			writeJSONError(w, publishErrorStatus(w, err), err)
			return
		}
		out := make([]eventStatus, len(results))
		for i, res := range results {
			out[i] = eventStatus{Index: i, MessageID: res.MessageID, Status: "accepted"}
			switch {
			case res.Err != nil:
				out[i].Status, out[i].Error = "rejected", res.Err
			case res.Duplicate:
				out[i].Status = "duplicate"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"results": out})
	})
}

// publishErrorStatus maps a failed publish to its HTTP status. A store
// that refuses writes is 503 with Retry-After: the caller did nothing
// wrong and the same request may succeed later.
func publishErrorStatus(w http.ResponseWriter, err error) int {
	switch domain.ErrorCode(err) {
	case domain.ESTOREUNAVAILABLE:
		w.Header().Set("Retry-After", strconv.Itoa(domain.StoreRetryAfter))
		return http.StatusServiceUnavailable
	case domain.EINTERNAL:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

func parseEvents(body []byte, contentType string) ([]eventIn, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var events []eventIn
		if err := json.Unmarshal(trimmed, &events); err != nil {
			return nil, domain.Errorf(domain.EINVALID, "the body is not a JSON array of events: %v", err)
		}
		return events, nil
	}
	if !strings.Contains(contentType, "ndjson") && len(trimmed) > 0 && trimmed[0] != '{' {
		return nil, domain.Errorf(domain.EINVALID, "send a JSON array of events, or NDJSON with Content-Type application/x-ndjson")
	}
	var events []eventIn
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 0, 64<<10), 2*app.MaxEventDataSize)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e eventIn
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, domain.Errorf(domain.EINVALID, "NDJSON line %d is not a JSON event: %v", line, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "reading NDJSON: %v", err)
	}
	return events, nil
}

// writeReadError answers a body that could not be read: too large (413),
// too slow (408) or cut off (400).
func writeReadError(w http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSONError(w, http.StatusRequestEntityTooLarge, domain.Errorf(domain.ETOOLARGE, "request body exceeds %d bytes", maxEventsBody))
	case isBodyTimeout(err):
		writeJSONError(w, http.StatusRequestTimeout, domain.Errorf("TIMEOUT", "the request body did not arrive in time"))
	default:
		writeJSONError(w, http.StatusBadRequest, domain.Errorf(domain.EINVALID, "could not read the request body"))
	}
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": domain.ErrorCode(err), "message": domain.ErrorMessage(err),
	}})
}
