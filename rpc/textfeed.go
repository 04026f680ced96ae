package rpc

import (
	"fmt"
	"sync"

	"github.com/chiphost/chiphost/internal/search"
	"github.com/chiphost/chiphost/runtime/driver"
)

// textFeeder appends the text of committed rows to a session's search
// store on a goroutine of its own: the parse loop only copies each batch's
// text, and the store's own work (records, index, writes) runs beside it
// (docs/design.md, "How do searches run in the server?").
//
// Batches are appended in the order they were queued. At most feedQueue
// batches wait; a parse that outruns the store waits for it. The first
// error of the store is kept and returned by every later queue call, which
// fails the session.
type textFeeder struct {
	store *search.Store
	queue chan *textBatch
	free  chan *textBatch // batches to reuse
	done  chan struct{}   // closed when the goroutine has ended
	stop  sync.Once

	mu  sync.Mutex
	err error
}

// feedQueue is how many batches may wait for the store, and
// maxKeptBatchBytes the largest text buffer kept for reuse.
const (
	feedQueue         = 2
	maxKeptBatchBytes = 4 << 20
)

// textBatch is the text of consecutive rows, copied: buf holds every line
// and column back to back, ends their end offsets, and for each row, kinds
// says what it has (rowNoText, rowLine, or the number of its columns).
type textBatch struct {
	first uint64
	buf   []byte
	ends  []int
	kinds []int32
	cols  [][]byte // scratch for the columns of one row
}

// Row kinds in textBatch.kinds; 0 and more is a row with that many columns.
const (
	rowNoText = -2
	rowLine   = -1
)

func newTextFeeder(store *search.Store) *textFeeder {
	f := &textFeeder{
		store: store, queue: make(chan *textBatch, feedQueue),
		free: make(chan *textBatch, feedQueue+2), done: make(chan struct{}),
	}
	go f.run()
	return f
}

// add queues the text of rows (their text as their JSON carries it: text
// converts a string). It waits while feedQueue batches wait.
func (f *textFeeder) add(rows []driver.Row, text func(string) []byte) error {
	if err := f.failed(); err != nil || len(rows) == 0 {
		return err
	}
	b := f.batch()
	b.first = rows[0].Index
	for _, r := range rows {
		m := r.Item.Message
		switch {
		case m == nil:
			b.kinds = append(b.kinds, rowNoText)
		case m.Columns != nil:
			b.kinds = append(b.kinds, int32(len(m.Columns)))
			for _, c := range m.Columns {
				b.buf = append(b.buf, text(c)...)
				b.ends = append(b.ends, len(b.buf))
			}
		default:
			b.kinds = append(b.kinds, rowLine)
			b.buf = append(b.buf, text(m.Line)...)
			b.ends = append(b.ends, len(b.buf))
		}
	}
	f.queue <- b
	return nil
}

// batch returns an empty batch, reused when one is free.
func (f *textFeeder) batch() *textBatch {
	select {
	case b := <-f.free:
		b.buf, b.ends, b.kinds = b.buf[:0], b.ends[:0], b.kinds[:0]
		return b
	default:
		return &textBatch{}
	}
}

func (f *textFeeder) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// run appends the queued batches until the queue is closed, then finishes
// the store (unless appending failed).
func (f *textFeeder) run() {
	defer close(f.done)
	for b := range f.queue {
		if f.failed() == nil {
			if err := f.feed(b); err != nil {
				f.mu.Lock()
				f.err = fmt.Errorf("search store: %w", err)
				f.mu.Unlock()
			}
		}
		if cap(b.buf) <= maxKeptBatchBytes {
			select {
			case f.free <- b:
			default:
			}
		}
	}
	if f.failed() == nil {
		f.store.Finish()
	}
}

// feed appends one batch's rows to the store.
func (f *textFeeder) feed(b *textBatch) error {
	k, start := 0, 0
	next := func() []byte {
		end := b.ends[k]
		k++
		t := b.buf[start:end:end]
		start = end
		return t
	}
	for i, kind := range b.kinds {
		var t search.Text
		switch {
		case kind == rowLine:
			t.Line = next()
		case kind >= 0:
			b.cols = b.cols[:0]
			if b.cols == nil {
				b.cols = make([][]byte, 0, kind)
			}
			for range kind {
				b.cols = append(b.cols, next())
			}
			t.Columns = b.cols
		}
		if err := f.store.Append(b.first+uint64(i), t); err != nil {
			return err
		}
	}
	return nil
}

// finish ends the queue: the goroutine appends what waits, then finishes
// the store. Safe to call more than once.
func (f *textFeeder) finish() {
	f.stop.Do(func() { close(f.queue) })
}

// close ends the queue and waits for the goroutine (call it before closing
// the store).
func (f *textFeeder) close() {
	f.finish()
	<-f.done
}
