package httpserver

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// exportFlushRows is how many rows are written between flushes: often
// enough that a client sees progress and the server holds little, rarely
// enough that flushing costs nothing noticeable.
const exportFlushRows = 256

// exportColumns are the export's fields, in CSV column order.
var exportColumns = []string{"id", "messageId", "eventType", "status", "attempts", "createdAt", "lastAttemptAt", "lastStatusCode", "test", "failureReason"}

// exportRow is one delivery in an export. id is the delivery's global ID,
// as the GraphQL API takes it (redeliver, delivery); messageId is the raw
// message ID, which receivers see as the webhook-id header.
type exportRow struct {
	ID             string     `json:"id"`
	MessageID      string     `json:"messageId"`
	EventType      string     `json:"eventType"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastAttemptAt  *time.Time `json:"lastAttemptAt"`  // null before the first attempt
	LastStatusCode *int       `json:"lastStatusCode"` // null when no response arrived
	Test           bool       `json:"test"`
	FailureReason  string     `json:"failureReason"`
	// Payload is the JSON body the delivery's POSTs carry, with
	// include=payload; null when the message has left the log.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// payloadOf is the body a delivery of m carries, as the dispatcher sends it.
func payloadOf(m *domain.MessagePublished) (json.RawMessage, error) {
	if m == nil {
		return json.RawMessage("null"), nil
	}
	body, err := m.DeliveryBody()
	return json.RawMessage(body), err
}

func newExportRow(v app.DeliveryView) exportRow {
	r := exportRow{
		ID: domain.EncodeGlobalID("Delivery", v.ID), MessageID: v.MessageID, EventType: v.EventType,
		Status: string(v.Status), Attempts: v.DeliveryState.Attempts, CreatedAt: v.CreatedAt,
		Test: v.Test, FailureReason: v.FailureReason,
	}
	if !v.LastAttemptAt.IsZero() {
		at := v.LastAttemptAt
		r.LastAttemptAt = &at
	}
	if v.LastStatusCode != 0 {
		code := v.LastStatusCode
		r.LastStatusCode = &code
	}
	return r
}

func (r exportRow) record() []string {
	var last, code string
	if r.LastAttemptAt != nil {
		last = r.LastAttemptAt.Format(time.RFC3339Nano)
	}
	if r.LastStatusCode != nil {
		code = strconv.Itoa(*r.LastStatusCode)
	}
	rec := []string{r.ID, r.MessageID, r.EventType, r.Status, strconv.Itoa(r.Attempts),
		r.CreatedAt.Format(time.RFC3339Nano), last, code, strconv.FormatBool(r.Test), r.FailureReason}
	if r.Payload != nil {
		rec = append(rec, string(r.Payload))
	}
	return rec
}

// exportRequest is a validated export query.
type exportRequest struct {
	webhookGID string
	query      app.ExportQuery
	format     string // "ndjson" or "csv"
}

func parseExportRequest(r *http.Request) (exportRequest, error) {
	q := r.URL.Query()
	req := exportRequest{webhookGID: q.Get("webhook"), format: q.Get("format")}
	if req.webhookGID == "" {
		return req, errors.New("the webhook parameter is required: the webhook's global ID")
	}
	switch include := q.Get("include"); include {
	case "":
	case "payload":
		req.query.WithMessage = true
	default:
		return req, fmt.Errorf("include must be payload, not %q", include)
	}
	switch st := domain.DeliveryStatus(q.Get("status")); st {
	case "", domain.DeliveryStatusPending, domain.DeliveryStatusRetrying, domain.DeliveryStatusSucceeded, domain.DeliveryStatusFailed:
		req.query.Status = st
	default:
		return req, fmt.Errorf("status must be pending, retrying, succeeded or failed, not %q", st)
	}
	switch req.format {
	case "":
		req.format = "ndjson"
	case "ndjson", "csv":
	default:
		return req, fmt.Errorf("format must be ndjson or csv, not %q", req.format)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &req.query.Since}, {"until", &req.query.Until}} {
		raw := q.Get(p.name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return req, fmt.Errorf("%s must be an RFC 3339 time such as 2026-03-01T12:00:00Z, not %q", p.name, raw)
		}
		*p.dst = t
	}
	if since, until := req.query.Since, req.query.Until; !since.IsZero() && !until.IsZero() && !until.After(since) {
		return req, errors.New("until must be after since")
	}
	return req, nil
}

// ExportHandler serves GET /v1/deliveries/export?webhook=<global id>
// &since=<RFC 3339>&until=<RFC 3339>&status=<status>&include=payload
// &format=ndjson|csv: the deliveries of one of the caller's webhooks
// created in [since, until), optionally only those in one status, oldest
// first, as NDJSON (the default) or CSV. include=payload adds each
// delivery's body as sent, so a receiver can pull events instead of being
// pushed them. Rows are streamed as they are read and
// flushed every few hundred, so an export of any size holds only a chunk in
// memory. Another account's webhook is not found, exactly like a missing
// one.
func ExportHandler(a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.AuthenticateRequest(r) // a key, or the portal cookie with its CSRF header
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="webhookd"`)
			http.Error(w, "a valid API key is required", http.StatusUnauthorized)
			return
		}
		if err := app.Require(p, domain.ScopeAccount, domain.ScopeAdmin); err != nil {
			http.Error(w, domain.ErrorMessage(err), http.StatusForbidden)
			return
		}
		req, err := parseExportRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		kind, id, err := domain.DecodeGlobalID(req.webhookGID)
		if err != nil || kind != "Webhook" {
			http.Error(w, "webhook not found", http.StatusNotFound)
			return
		}
		if _, err := a.Webhook(r.Context(), p, id); err != nil {
			http.Error(w, "webhook not found", http.StatusNotFound)
			return
		}
		if err := writeExport(w, r, a, p, id, req); err != nil && r.Context().Err() == nil {
			// The status line is gone; all that is left is to cut the
			// response short, which clients see as a truncated body.
			a.Logger.Error("delivery export failed", "webhook", id, "err", err)
			panic(http.ErrAbortHandler)
		}
	})
}

// writeExport streams the rows. An error after the first byte cannot
// change the status any more; it is returned so the caller aborts the
// response rather than let it look complete.
func writeExport(w http.ResponseWriter, r *http.Request, a *app.App, p app.Principal, webhookID string, req exportRequest) error {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="deliveries-%s.%s"`, webhookID, req.format))
	if req.format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	rc := http.NewResponseController(w)
	buf := bufio.NewWriterSize(w, 32<<10)
	var encode func(exportRow) error
	var cw *csv.Writer
	if req.format == "csv" {
		cw = csv.NewWriter(buf)
		columns := exportColumns
		if req.query.WithMessage {
			columns = append(columns[:len(columns):len(columns)], "payload")
		}
		if err := cw.Write(columns); err != nil {
			return err
		}
		encode = func(row exportRow) error { return cw.Write(row.record()) }
	} else {
		enc := json.NewEncoder(buf)
		encode = func(row exportRow) error { return enc.Encode(row) }
	}
	flush := func() error {
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if err := buf.Flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	rows := 0
	err := a.ExportDeliveries(r.Context(), p, webhookID, req.query, func(d app.ExportedDelivery) error {
		row := newExportRow(d.DeliveryView)
		if req.query.WithMessage {
			var err error
			if row.Payload, err = payloadOf(d.Message); err != nil {
				return err
			}
		}
		if err := encode(row); err != nil {
			return err
		}
		if rows++; rows%exportFlushRows == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export webhook %s after %d rows: %w", webhookID, rows, err)
	}
	return flush()
}
