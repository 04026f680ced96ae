package rpc

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"
)

// releaseGap is the least time between two releases of memory.
const releaseGap = time.Second

// memoryReleaser gives the memory of finished sessions back to the
// operating system. Go returns freed heap memory lazily: once allocation
// stops, the next collection may be minutes away and the scavenger then
// works in the background, so a server that had run many sessions kept
// their peak long after closing them. When a session's plugin instances or
// row store are released, the server asks for a release; the releaser runs
// debug.FreeOSMemory (a collection that returns every free page), at most
// once per releaseGap, coalescing the requests in between.
type memoryReleaser struct {
	kick chan struct{} // capacity 1: one pending request
	log  zerolog.Logger
	open func() int // sessions open, for the log
}

func newMemoryReleaser(log zerolog.Logger, open func() int) *memoryReleaser {
	return &memoryReleaser{kick: make(chan struct{}, 1), log: log, open: open}
}

// request asks for a release without waiting for it.
func (m *memoryReleaser) request() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// run serves requests until ctx ends.
func (m *memoryReleaser) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
		}
		open := m.open()
		debug.FreeOSMemory()
		if e := m.log.Debug(); e.Enabled() {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			e.Int("sessions", open).Uint64("heapHeldMiB", (ms.HeapSys-ms.HeapReleased)>>20).Msg("memory returned to the OS")
		}
		gap := time.NewTimer(releaseGap)
		select {
		case <-ctx.Done():
			gap.Stop()
			return
		case <-gap.C:
		}
	}
}
