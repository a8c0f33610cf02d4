package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"github.com/webhookd/webhookd/eventstore"
)

// bbolt's on-disk meta page, as far as the pre-open check needs it: a
// 16-byte page header, then magic, version, page size, flags, root bucket
// (16 bytes), freelist page id, high-water page id, txid and an FNV-64a
// checksum of the fields before it. Integers are little-endian on every
// platform bbolt supports here.
const (
	metaOffset   = 16
	metaMagic    = 0xED0CDAED
	metaVersion  = 2
	metaLen      = 56 // bytes of meta covered by the checksum
	metaPgidAt   = metaOffset + 40
	metaTxidAt   = metaOffset + 48
	metaCheckAt  = metaOffset + metaLen
	minPageSize  = 512
	maxPageSize  = 1 << 20
	firstMetaLen = metaCheckAt + 8
)

// checkFile inspects an existing file before bbolt maps it. bbolt trusts
// its meta page: a file cut short would be read past its end, which
// crashes the process from a goroutine nobody can recover. So the size is
// checked here, against the newest valid meta page.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bolt: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bolt: stat %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return nil // bbolt initialises an empty file
	}
	corrupt := func(off int64, format string, args ...any) error {
		return &eventstore.CorruptionError{File: path, Offset: off, Reason: fmt.Sprintf(format, args...)}
	}
	m0, err := readMeta(f, 0)
	if err != nil {
		return corrupt(0, "reading the first meta page: %v", err)
	}
	pageSize := int64(os.Getpagesize())
	if m0.ok {
		pageSize = m0.pageSize
	}
	m1, err := readMeta(f, pageSize)
	if err != nil && !m0.ok {
		return corrupt(0, "no readable meta page: %v", err)
	}
	best := m0
	if m1.ok && (!m0.ok || m1.txid > m0.txid) {
		best = m1
	}
	if !best.ok {
		return corrupt(0, "not a bbolt file, or both meta pages are damaged")
	}
	if size%best.pageSize != 0 {
		return corrupt(size-size%best.pageSize, "truncated: size %d is not a whole number of %d-byte pages", size, best.pageSize)
	}
	if need := int64(best.pgid) * best.pageSize; size < need {
		return corrupt(size, "truncated: file is %d bytes but its meta page needs %d", size, need)
	}
	return nil
}

type metaPage struct {
	ok       bool
	pageSize int64
	pgid     uint64
	txid     uint64
}

// readMeta reads and validates the meta page at off.
func readMeta(f *os.File, off int64) (metaPage, error) {
	var m metaPage
	buf := make([]byte, firstMetaLen)
	if _, err := f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return m, errors.New("file too short")
		}
		return m, err
	}
	le := binary.LittleEndian
	if le.Uint32(buf[metaOffset:]) != metaMagic || le.Uint32(buf[metaOffset+4:]) != metaVersion {
		return m, nil
	}
	h := fnv.New64a()
	_, _ = h.Write(buf[metaOffset:metaCheckAt])
	if h.Sum64() != le.Uint64(buf[metaCheckAt:]) {
		return m, nil
	}
	ps := int64(le.Uint32(buf[metaOffset+8:]))
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return m, nil
	}
	return metaPage{ok: true, pageSize: ps, pgid: le.Uint64(buf[metaPgidAt:]), txid: le.Uint64(buf[metaTxidAt:])}, nil
}
