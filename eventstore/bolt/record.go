package bolt

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// A record is one event as stored in the log bucket, keyed by its global
// position. Layout (all integers big-endian):
//
//	[0:4)   CRC-32C of bytes [4:)
//	[4]     format version (1)
//	[5:13)  commit time, Unix nanoseconds
//	[13:21) stream revision
//	[21:37) event ID, 16 raw UUID bytes
//	then uvarint-length-prefixed type, stream, data and metadata.
//
// The checksum lets a read report a damaged record instead of returning
// garbage: bbolt does not checksum its pages.
const (
	recordVersion    = 1
	recordHeaderSize = 37
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadRecord is wrapped into a CorruptionError by the caller, which knows
// the file and offset.
var errBadRecord = errors.New("bad record")

// recordSize returns the encoded size of an event, for sizing buffers.
func recordSize(stream string, e *eventstore.EventData) int {
	return recordHeaderSize + 4*binary.MaxVarintLen32 + len(e.Type) + len(stream) + len(e.Data) + len(e.Metadata)
}

// appendRecord encodes one event onto buf and returns the extended slice.
func appendRecord(buf []byte, stream string, rev uint64, id uuid.UUID, at time.Time, e *eventstore.EventData) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, recordVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(at.UnixNano()))
	buf = binary.BigEndian.AppendUint64(buf, rev)
	buf = append(buf, id[:]...)
	buf = appendBytes(buf, []byte(e.Type))
	buf = appendBytes(buf, []byte(stream))
	buf = appendBytes(buf, e.Data)
	buf = appendBytes(buf, e.Metadata)
	binary.BigEndian.PutUint32(buf[start:], crc32.Checksum(buf[start+4:], castagnoli))
	return buf
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// recordView is a decoded record whose byte fields still point into the
// encoded value (and so into bbolt's mmap): valid only inside the
// transaction that read it. copyOut turns it into a RecordedEvent.
type recordView struct {
	at       int64
	revision uint64
	id       [16]byte
	typ      []byte
	stream   []byte
	data     []byte
	metadata []byte
}

// decodeRecord verifies the checksum and splits a record into its fields.
func decodeRecord(v []byte) (recordView, error) {
	var r recordView
	if len(v) < recordHeaderSize {
		return r, errBadRecord
	}
	if binary.BigEndian.Uint32(v) != crc32.Checksum(v[4:], castagnoli) {
		return r, errors.New("checksum mismatch")
	}
	if v[4] != recordVersion {
		return r, errors.New("unknown record version")
	}
	r.at = int64(binary.BigEndian.Uint64(v[5:]))
	r.revision = binary.BigEndian.Uint64(v[13:])
	copy(r.id[:], v[21:37])
	rest := v[recordHeaderSize:]
	var ok bool
	for _, f := range []*[]byte{&r.typ, &r.stream, &r.data, &r.metadata} {
		if *f, rest, ok = takeBytes(rest); !ok {
			return r, errBadRecord
		}
	}
	if len(rest) != 0 {
		return r, errBadRecord
	}
	return r, nil
}

func takeBytes(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// copyOut copies the record out of the transaction's memory.
func (r *recordView) copyOut(pos eventstore.Position) eventstore.RecordedEvent {
	ev := eventstore.RecordedEvent{
		ID:       uuid.UUID(r.id).String(),
		Type:     string(r.typ),
		Stream:   string(r.stream),
		Revision: r.revision,
		Position: pos,
		Time:     time.Unix(0, r.at).UTC(),
	}
	// One allocation for both payloads; nil stays nil so callers can tell
	// "no metadata" apart from an empty document.
	if len(r.data)+len(r.metadata) > 0 {
		buf := make([]byte, len(r.data)+len(r.metadata))
		n := copy(buf, r.data)
		copy(buf[n:], r.metadata)
		if len(r.data) > 0 {
			ev.Data = buf[:n:n]
		}
		if len(r.metadata) > 0 {
			ev.Metadata = buf[n:]
		}
	}
	return ev
}
