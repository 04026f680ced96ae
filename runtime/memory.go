package runtime

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryPool accounts the guest memory of all a Host's instances against
// Options.MaxTotalMemory.
type memoryPool struct {
	limit uint64
	used  atomic.Uint64
}

// reserve takes n bytes from the pool unless that would pass the limit.
func (p *memoryPool) reserve(n uint64) bool {
	for {
		used := p.used.Load()
		if used+n > p.limit || used+n < used {
			return false
		}
		if p.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// force takes n bytes even past the limit (see limitedMemory.Reallocate).
func (p *memoryPool) force(n uint64) { p.used.Add(n) }

func (p *memoryPool) release(n uint64) { p.used.Add(-n) }

// limitedMemory backs a guest's linear memory. It refuses to grow past the
// instance's cap or past the host's total, remembering which (to report
// KindOOM or KindLimit), and accounts its capacity in the pool.
type limitedMemory struct {
	limit uint64
	pool  *memoryPool
	buf   []byte
	// reserved is the capacity taken from the pool; the instance reserves
	// its initial memory before instantiating (newInstance).
	reserved    uint64
	started     bool // the initial allocation is done
	failed      atomic.Bool
	totalFailed atomic.Bool
}

func (m *limitedMemory) allocate(capacity, maximum uint64) experimental.LinearMemory {
	m.buf = make([]byte, 0, min(capacity, m.limit, m.reserved))
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.failed.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		m.started = true
		return m.buf
	}
	c := max(size, min(2*uint64(cap(m.buf)), m.limit))
	if !m.take(c) {
		c = size // no room for the headroom; try without
		if !m.take(c) {
			m.totalFailed.Store(true)
			return nil
		}
	}
	b := make([]byte, size, c)
	copy(b, m.buf)
	m.buf = b
	return b
}

// take grows the reservation to capacity c. The initial allocation cannot
// fail (wazero does not expect it to), so it is forced: newInstance has
// already reserved what the module declares.
func (m *limitedMemory) take(c uint64) bool {
	if c > m.reserved {
		if !m.started {
			m.pool.force(c - m.reserved)
		} else if !m.pool.reserve(c - m.reserved) {
			return false
		}
		m.reserved = c
	}
	m.started = true
	return true
}

// Free implements experimental.LinearMemory. It may be called again.
func (m *limitedMemory) Free() {
	m.buf = nil
	m.pool.release(m.reserved)
	m.reserved = 0
}
