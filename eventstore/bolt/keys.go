package bolt

import (
	"bytes"
	"encoding/binary"
	"math"
)

// The streams bucket holds, for every stream, one key per event revision
// (value: the event's global position) and one head key (value: the
// stream's last revision). Keys are uvarint(len(stream)) + stream + a
// big-endian revision; the head key uses the largest revision, so it sorts
// right after the stream's newest event and an append usually dirties one
// leaf page per stream, not two. The length prefix keeps each stream's keys
// contiguous even when one name is a prefix of another.
const headRevision = math.MaxUint64

// appendStreamKey builds the key of one revision of stream.
func appendStreamKey(b []byte, stream string, rev uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(stream)))
	b = append(b, stream...)
	return binary.BigEndian.AppendUint64(b, rev)
}

// streamHeadKey is the key of stream's head entry.
func streamHeadKey(stream string) []byte { return appendStreamKey(nil, stream, headRevision) }

// streamPrefix is what every key of stream starts with.
func streamPrefix(stream string) []byte {
	k := appendStreamKey(nil, stream, 0)
	return k[:len(k)-8]
}

// revisionOf returns the revision a key of the stream with this prefix
// holds, and false for keys of other streams and for the head key.
func revisionOf(prefix, k []byte) (uint64, bool) {
	if len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
		return 0, false
	}
	rev := binary.BigEndian.Uint64(k[len(prefix):])
	return rev, rev != headRevision
}

func getUint64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
