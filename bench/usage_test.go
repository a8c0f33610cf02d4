package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/webhookd/webhookd/eventstore"
)

// usage is what the process spent over a measured span: CPU, heap
// allocations, bytes the kernel wrote to disk for it and its fsyncs. Per
// delivery these are the figures that hold up on a shared machine, where
// wall-clock rates do not.
type usage struct {
	cpuUS      float64 // CPU time, µs
	mallocs    uint64
	allocBytes uint64
	diskBytes  int64 // /proc/self/io write_bytes
	fsyncs     int64 // fsync + fdatasync calls, -1 where they cannot be counted
}

// meter samples usage; fsyncs are counted by perf tracepoints on every
// thread of the process (inherited by threads started later), since Go
// offers no hook into its own syscalls.
type meter struct {
	fds []int
}

func newMeter(tb testing.TB) *meter {
	m := &meter{}
	for _, name := range []string{"sys_enter_fsync", "sys_enter_fdatasync"} {
		fds, err := openTracepoint(name)
		if err != nil {
			tb.Logf("fsyncs not counted: %v", err)
			m.close()
			m.fds = nil
			return m
		}
		m.fds = append(m.fds, fds...)
	}
	tb.Cleanup(m.close)
	return m
}

// openTracepoint opens one inheriting counter of a syscall tracepoint on
// each of the process's threads.
func openTracepoint(name string) ([]int, error) {
	raw, err := os.ReadFile(filepath.Join("/sys/kernel/tracing/events/syscalls", name, "id"))
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return nil, err
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_TRACEPOINT, Config: id, Bits: unix.PerfBitInherit}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, err
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func (m *meter) close() {
	for _, fd := range m.fds {
		unix.Close(fd)
	}
}

func (m *meter) sample() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := usage{cpuUS: float64(cpuTime().Microseconds()), mallocs: ms.Mallocs, allocBytes: ms.TotalAlloc,
		diskBytes: procIO("write_bytes:"), fsyncs: -1}
	if len(m.fds) > 0 {
		u.fsyncs = 0
		var buf [8]byte
		for _, fd := range m.fds {
			if n, err := unix.Read(fd, buf[:]); err == nil && n == 8 {
				u.fsyncs += int64(*(*uint64)(unsafe.Pointer(&buf[0])))
			}
		}
	}
	return u
}

// since returns the usage from u0 to now.
func (m *meter) since(u0 usage) usage {
	u := m.sample()
	d := usage{cpuUS: u.cpuUS - u0.cpuUS, mallocs: u.mallocs - u0.mallocs, allocBytes: u.allocBytes - u0.allocBytes,
		diskBytes: u.diskBytes - u0.diskBytes, fsyncs: -1}
	if u.fsyncs >= 0 {
		d.fsyncs = u.fsyncs - u0.fsyncs
	}
	return d
}

// report prints the usage per unit (a delivery, an event, an attempt).
func (u usage) report(b *testing.B, n int, unit string) {
	per := func(x float64) float64 { return x / float64(n) }
	b.ReportMetric(per(u.cpuUS), "cpu-us/"+unit)
	b.ReportMetric(per(float64(u.mallocs)), "allocs/"+unit)
	b.ReportMetric(per(float64(u.allocBytes)), "B-alloc/"+unit)
	b.ReportMetric(per(float64(u.diskBytes)), "disk-B/"+unit)
	if u.fsyncs >= 0 {
		b.ReportMetric(per(float64(u.fsyncs)), "fsyncs/"+unit)
	}
}

// procIO reads one field of /proc/self/io.
func procIO(field string) int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}

// logBytes returns how many events the log holds after position from and
// the bytes they take (stream, type, data and metadata).
func logBytes(tb testing.TB, store eventstore.Store, from eventstore.Position) (events, bytes int64) {
	tb.Helper()
	for {
		recs, err := store.ReadAll(context.Background(), from, 10_000)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range recs {
			events++
			bytes += int64(len(r.Stream) + len(r.Type) + len(r.Data) + len(r.Metadata))
			from = r.Position
		}
		if len(recs) < 10_000 {
			return events, bytes
		}
	}
}
