package search

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// State is where a search stands.
type State string

// The states of a search. Done, failed and cancelled are final.
const (
	StateRunning   State = "running"   // scanning the rows stored so far
	StateLive      State = "live"      // caught up with a store that is still growing; keeps up with it
	StateDone      State = "done"      // every row of a finished store searched
	StateFailed    State = "failed"    // stopped by an error (Progress.Err)
	StateCancelled State = "cancelled" // stopped by its context or Close
)

// Progress is a search's state and counts.
type Progress struct {
	State        State
	Matches      uint64 // rows matched so far
	RowsSearched uint64 // rows searched so far (rows [0, RowsSearched))
	Err          error  // why it failed or was cancelled
}

// Search runs a matcher over a store in the background, incrementally,
// keeping up with new rows until the store is finished, it fails, or its
// context ends. Its matches are a roaring bitmap of row indexes, which Page
// and Nearest read under a lock the scan holds only to add one chunk's
// matches, so they never wait for the scan of a chunk.
type Search struct {
	st       *Store
	m        *Matcher
	progress func(Progress)
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.RWMutex
	matches *roaring.Bitmap
	prog    Progress
}

// maxRows is the number of rows a search can hold (row indexes are 32-bit
// in the bitmap).
const maxRows = math.MaxUint32 + 1

// runOptimizeEvery is how many chunks go by between compactions of the
// bitmap's runs while scanning.
const runOptimizeEvery = 64

// Start starts searching st with m. progress, when not nil, is called from
// the search's goroutine after each chunk and at each change of state; the
// last call has the final state, and Done is closed after it. progress may
// call Page, Nearest and Progress, but not Close (which waits for it).
func Start(ctx context.Context, st *Store, m *Matcher, progress func(Progress)) *Search {
	ctx, cancel := context.WithCancel(ctx)
	s := &Search{
		st: st, m: m, progress: progress, cancel: cancel, done: make(chan struct{}),
		matches: roaring.New(), prog: Progress{State: StateRunning},
	}
	go s.run(ctx)
	return s
}

func (s *Search) run(ctx context.Context) {
	defer close(s.done)
	defer s.cancel()
	sc := newScanner(s.m)
	rd := &reader{st: s.st, size: chunkSize}
	state := StateRunning
	var next uint64 // the first row not searched
	var found []uint32
	chunks := 0
	for {
		if err := ctx.Err(); err != nil {
			s.finish(StateCancelled, err)
			return
		}
		v := s.st.view()
		var changed <-chan struct{}
		if next >= v.rows {
			v.release()
			v, changed = s.st.watch() // caught up: wait for the next commit
		}
		if next < v.rows {
			var err error
			if found, err = s.scanChunk(sc, rd, v, next, found[:0]); err != nil {
				s.finish(StateFailed, err)
				return
			}
			next += uint64(rd.last)
			chunks++
			s.publish(found, next, state, chunks%runOptimizeEvery == 0)
			// A scan keeps a core busy for as long as it has rows; after
			// each chunk (about a millisecond) it lets waiting goroutines
			// run, so that a grab's answer does not wait for the Go
			// scheduler to preempt the scan (every 10 ms) when the cores
			// are all busy.
			runtime.Gosched()
			continue
		}
		v.release()
		switch {
		case v.closed:
			s.finish(StateFailed, ErrClosedStore)
			return
		case v.finished:
			s.finish(StateDone, nil)
			return
		}
		if state != StateLive {
			state = StateLive
			s.publish(nil, next, state, true)
		}
		select {
		case <-changed:
		case <-ctx.Done():
		}
	}
}

// scanChunk appends to found the matches among the chunk of v's rows that
// starts at row next (rd.last tells how many rows it held), and releases v.
func (s *Search) scanChunk(sc *scanner, rd *reader, v view, next uint64, found []uint32) ([]uint32, error) {
	defer v.release()
	if v.rows > maxRows {
		return found, fmt.Errorf("search: the store has %d rows, a search holds at most %d", v.rows, uint64(maxRows))
	}
	c, err := rd.chunk(v, next)
	if err != nil {
		return found, err
	}
	rd.last = len(c.entries)
	sc.scan(c, func(i int) { found = append(found, uint32(next)+uint32(i)) })
	return found, nil
}

// publish adds a chunk's matches and reports progress.
func (s *Search) publish(found []uint32, searched uint64, state State, optimize bool) {
	s.mu.Lock()
	s.matches.AddMany(found)
	if optimize {
		s.matches.RunOptimize()
	}
	s.prog = Progress{State: state, Matches: s.matches.GetCardinality(), RowsSearched: searched}
	p := s.prog
	s.mu.Unlock()
	if s.progress != nil {
		s.progress(p)
	}
}

func (s *Search) finish(state State, err error) {
	s.mu.Lock()
	s.matches.RunOptimize()
	s.prog.State, s.prog.Err = state, err
	p := s.prog
	s.mu.Unlock()
	if s.progress != nil {
		s.progress(p)
	}
}

// Progress returns the search's state and counts.
func (s *Search) Progress() Progress {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.prog
}

// Page returns the row indexes of matches [start, start+count), in row
// order (fewer at the end of the matches found so far).
func (s *Search) Page(start, count uint64) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	total := s.matches.GetCardinality()
	if start >= total || count == 0 {
		return nil
	}
	count = min(count, total-start)
	first, err := s.matches.Select(uint32(start))
	if err != nil {
		return nil
	}
	out := make([]uint64, 0, count)
	it := s.matches.Iterator()
	it.AdvanceIfNeeded(first)
	for it.HasNext() && uint64(len(out)) < count {
		out = append(out, uint64(it.Next()))
	}
	return out
}

// Nearest returns the first match at or after row (forward) or the last at
// or before it, as its position among the matches and its row index; ok is
// false when there is none (yet).
func (s *Search) Nearest(row uint64, forward bool) (match, rowIndex uint64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	total := s.matches.GetCardinality()
	var pos uint64
	if forward {
		if row >= maxRows {
			return 0, 0, false
		}
		if row > 0 {
			pos = s.matches.Rank(uint32(row - 1)) // matches before row
		}
		if pos >= total {
			return 0, 0, false
		}
	} else {
		pos = s.matches.Rank(uint32(min(row, maxRows-1))) // matches at or before row
		if pos == 0 {
			return 0, 0, false
		}
		pos--
	}
	r, err := s.matches.Select(uint32(pos))
	if err != nil {
		return 0, 0, false
	}
	return pos, uint64(r), true
}

// MatchBytes returns the memory the match bitmap takes.
func (s *Search) MatchBytes() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.matches.GetSizeInBytes()
}

// Done is closed when the search has ended (its final state reported).
func (s *Search) Done() <-chan struct{} { return s.done }

// Close stops the search and waits for its goroutine to end.
func (s *Search) Close() {
	s.cancel()
	<-s.done
}
