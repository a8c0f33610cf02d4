package deliveries

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// A delivery's stored summary is binary: every attempt rewrites it, and
// its JSON (field names, RFC 3339 times) was about 590 bytes a summary,
// five to a page, so a commit's attempts rarely shared one. The binary
// form holds the same fields in a fixed order. A summary with an inline
// attempt log (stored by an earlier version, and only until its next
// event), or with a time that is not UTC, stays JSON; DecodeSummary reads
// both, so a read model written before needs no rebuild.
const summaryBinary = 1 // the first byte of a binary summary; JSON starts with '{'

// EncodeSummary is v as stored.
func EncodeSummary(v DeliveryView) ([]byte, error) {
	s := v.DeliveryState
	if len(v.Attempts) > 0 || !allUTC(s.NextAttemptAt, s.LastAttemptAt, s.CreatedAt, s.UpdatedAt) {
		return jsoncodec.Marshal(v)
	}
	b := make([]byte, 0, 96+len(s.ID)+len(s.MessageID)+len(s.WebhookID)+len(s.AccountID)+len(s.EventType)+
		len(s.Status)+len(s.LastErrClass)+len(s.FailureReason))
	b = append(b, summaryBinary)
	for _, str := range []string{s.ID, s.MessageID, s.WebhookID, s.AccountID, s.EventType, string(s.Status), s.LastErrClass, s.FailureReason} {
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	test := byte(0)
	if s.Test {
		test = 1
	}
	b = append(b, test)
	for _, n := range []int{s.Attempts, s.RoundAttempts, s.LastStatusCode} {
		b = binary.AppendVarint(b, int64(n))
	}
	for _, t := range []time.Time{s.NextAttemptAt, s.LastAttemptAt, s.CreatedAt, s.UpdatedAt} {
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	for _, n := range []uint64{s.Version, uint64(v.CreatedPosition), v.Revision} {
		b = binary.AppendUvarint(b, n)
	}
	return b, nil
}

func allUTC(ts ...time.Time) bool {
	for _, t := range ts {
		if t.Location() != time.UTC {
			return false
		}
	}
	return true
}

var errShortSummary = errors.New("summary ends early")

// DecodeSummary reads a summary EncodeSummary (or an earlier version's
// JSON) stored.
func DecodeSummary(raw []byte) (DeliveryView, error) {
	var v DeliveryView
	if len(raw) == 0 || raw[0] != summaryBinary {
		err := jsoncodec.Unmarshal(raw, &v)
		return v, err
	}
	r := summaryReader{b: raw[1:]}
	s := &v.DeliveryState
	var status string
	for _, str := range []*string{&s.ID, &s.MessageID, &s.WebhookID, &s.AccountID, &s.EventType, &status, &s.LastErrClass, &s.FailureReason} {
		*str = r.string()
	}
	s.Status = domain.DeliveryStatus(status)
	s.Test = r.byte() == 1
	for _, n := range []*int{&s.Attempts, &s.RoundAttempts, &s.LastStatusCode} {
		*n = int(r.varint())
	}
	for _, t := range []*time.Time{&s.NextAttemptAt, &s.LastAttemptAt, &s.CreatedAt, &s.UpdatedAt} {
		sec := r.varint()
		*t = time.Unix(sec, int64(r.uvarint())).UTC()
	}
	s.Version = r.uvarint()
	v.CreatedPosition = eventstore.Position(r.uvarint())
	v.Revision = r.uvarint()
	if r.err != nil {
		return DeliveryView{}, fmt.Errorf("binary summary: %w", r.err)
	}
	return v, nil
}

type summaryReader struct {
	b   []byte
	err error
}

func (r *summaryReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }
func (r *summaryReader) varint() int64   { return readVarint(r, binary.Varint) }

func readVarint[T uint64 | int64](r *summaryReader, read func([]byte) (T, int)) T {
	n, size := read(r.b)
	if size <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[size:]
	return n
}

func (r *summaryReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *summaryReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *summaryReader) fail() {
	if r.err == nil {
		r.err = errShortSummary
	}
	r.b = nil
}
