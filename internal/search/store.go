package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// The store's files in its directory.
const (
	storeText  = "search.text"
	storeIndex = "search.idx"
)

// spillSize is the size of the in-memory tail at which it is written to the
// files, in one write each; the tail's buffer has room for spillSlack more,
// so that the row crossing spillSize seldom makes it grow (and be copied).
const (
	spillSize  = 1 << 20
	spillSlack = 64 << 10
)

// ErrClosedStore is returned by a closed store, and fails the searches that
// were reading it.
var ErrClosedStore = errors.New("search store closed")

// Store is a session's scan-friendly copy of its rows' text, built as rows
// arrive: search.text holds each row's record (its text and a '\n', see
// appendRecord) back to back, and search.idx, for row i, a little-endian
// uint64 with the end offset of its record and two flags. The newest rows
// are kept in memory (up to 1 MiB of records) and written to the files in
// one write each when that fills, so appending costs no system call per row.
// Scanning reads big chunks of records and never decodes JSON.
//
// One goroutine appends; any number read. Readers see the rows committed
// by a finished Append.
type Store struct {
	text, index *os.File

	mu          sync.Mutex
	rows        uint64 // committed rows
	spilledRows uint64 // rows whose records and entries are in the files
	spilledText uint64 // bytes of records in the text file
	tail        *tail  // rows [spilledRows, rows)
	changed     chan struct{}
	watched     bool // someone holds changed: replace it at the next commit
	finished    bool
	closed      bool
	err         error // a failed write: appends fail from then on

	// writer only
	ibuf    []byte  // entries to write
	retired []*tail // tails written to the files, reused once no reader holds them
}

// tail is the in-memory records of the newest rows and their index
// entries. The committed part is never rewritten while it is the store's
// tail; once written to the files, the buffers are reused only after every
// reader that took them has released them.
type tail struct {
	text    []byte
	idx     []uint64
	readers atomic.Int32
}

// maxRetired bounds the tails kept for reuse.
const maxRetired = 4

// NewStore creates a store's files inside dir.
func NewStore(dir string) (*Store, error) {
	text, err := os.OpenFile(filepath.Join(dir, storeText), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("search store: %w", err)
	}
	index, err := os.OpenFile(filepath.Join(dir, storeIndex), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		text.Close()
		return nil, fmt.Errorf("search store: %w", err)
	}
	return &Store{text: text, index: index, changed: make(chan struct{}), tail: newTail()}, nil
}

// Append adds row index, which must be the next one (rows are appended in
// index order, from 0).
func (s *Store) Append(index uint64, t Text) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosedStore
	case s.err != nil:
		s.mu.Unlock()
		return s.err
	case s.finished:
		s.mu.Unlock()
		return fmt.Errorf("search store: row %d appended after Finish", index)
	case index != s.rows:
		s.mu.Unlock()
		return fmt.Errorf("search store: row %d appended, want row %d", index, s.rows)
	}
	var flags uint64
	tl := s.tail
	tl.text, flags = appendRecord(tl.text, t)
	tl.idx = append(tl.idx, (s.spilledText+uint64(len(tl.text)))|flags)
	s.rows++
	s.notifyLocked()
	full := len(tl.text) >= spillSize
	s.mu.Unlock()
	if full {
		return s.spill()
	}
	return nil
}

func (s *Store) notifyLocked() {
	if s.watched {
		close(s.changed)
		s.changed = make(chan struct{})
		s.watched = false
	}
}

// spill writes the tail to the files and starts a new one; readers holding
// the old tail keep reading it.
func (s *Store) spill() error {
	// Only this goroutine changes the tail, so it reads it unlocked.
	old := s.tail
	s.ibuf = s.ibuf[:0]
	for _, e := range old.idx {
		s.ibuf = binary.LittleEndian.AppendUint64(s.ibuf, e)
	}
	_, err := s.text.WriteAt(old.text, int64(s.spilledText))
	if err == nil {
		_, err = s.index.WriteAt(s.ibuf, int64(s.spilledRows)*8)
	}
	next := s.reusableTail()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = fmt.Errorf("search store: write: %w", err)
		return s.err
	}
	s.spilledRows += uint64(len(old.idx))
	s.spilledText += uint64(len(old.text))
	s.tail = next
	s.retired = append(s.retired, old)
	if len(s.retired) > maxRetired {
		s.retired = s.retired[1:]
	}
	return nil
}

func newTail() *tail {
	return &tail{text: make([]byte, 0, spillSize+spillSlack), idx: make([]uint64, 0, 16384)}
}

// reusableTail returns an empty retired tail no reader holds, or a new one.
// A reader takes a tail only while it is the store's, so a retired tail
// whose readers are gone stays free.
func (s *Store) reusableTail() *tail {
	for i, t := range s.retired {
		if t.readers.Load() == 0 {
			s.retired = append(s.retired[:i], s.retired[i+1:]...)
			t.text, t.idx = t.text[:0], t.idx[:0]
			return t
		}
	}
	return newTail()
}

// Rows returns the number of committed rows and a channel closed at the
// next commit (or at Finish or Close; after those, a closed channel).
func (s *Store) Rows() (uint64, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watched = true
	return s.rows, s.changed
}

// Finish says that no more rows will come: a live search then ends done.
func (s *Store) Finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked()
	s.finished = true
}

// endLocked closes the change channel for good.
func (s *Store) endLocked() {
	if !s.finished && !s.closed {
		close(s.changed)
	}
}

// Close releases the files; searches still reading fail with
// ErrClosedStore.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.endLocked()
	s.closed = true
	return errors.Join(s.text.Close(), s.index.Close())
}

// view is what a reader sees of the store at one moment.
type view struct {
	rows, spilledRows, spilledText uint64
	tailText                       []byte
	tailIdx                        []uint64
	finished, closed               bool
	tail                           *tail // held until release
}

// release lets the store reuse the tail the view holds.
func (v *view) release() {
	if v.tail != nil {
		v.tail.readers.Add(-1)
		v.tail = nil
	}
}

func (s *Store) view() view {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewLocked()
}

// viewLocked takes the tail: release the view when done with its chunks.
func (s *Store) viewLocked() view {
	s.tail.readers.Add(1)
	return view{
		rows: s.rows, spilledRows: s.spilledRows, spilledText: s.spilledText,
		tailText: s.tail.text, tailIdx: s.tail.idx, finished: s.finished, closed: s.closed,
		tail: s.tail,
	}
}

// watch is view plus the channel closed at the next commit.
func (s *Store) watch() (view, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watched = true
	return s.viewLocked(), s.changed
}

// reader reads chunks of records; one per search.
type reader struct {
	st      *Store
	size    int // bytes of records a chunk aims at (chunkSize)
	last    int // rows in the last chunk
	buf     []byte
	raw     []byte
	entries []uint64
}

// Chunk bounds: the records of one chunk (unless one record is bigger), and
// the entries read at once from the index file.
const (
	chunkSize    = 1 << 20
	entriesBatch = 16384
)

// chunk returns the records of rows [from, from+k), 1 ≤ k ≤ v.rows-from,
// from the view v (from < v.rows).
func (r *reader) chunk(v view, from uint64) (*chunk, error) {
	if from >= v.spilledRows {
		return tailChunk(v, from, r.size), nil
	}
	if v.closed {
		return nil, ErrClosedStore
	}
	first := from
	if from > 0 {
		first-- // its end is our start
	}
	n := min(v.spilledRows-first, entriesBatch)
	if cap(r.raw) < int(n)*8 {
		r.raw = make([]byte, n*8)
	}
	raw := r.raw[:n*8]
	if _, err := r.st.index.ReadAt(raw, int64(first)*8); err != nil {
		return nil, r.readError(err)
	}
	r.entries = r.entries[:0]
	for i := 0; i < len(raw); i += 8 {
		r.entries = append(r.entries, binary.LittleEndian.Uint64(raw[i:]))
	}
	var start uint64
	entries := r.entries
	if from > 0 {
		start, entries = entryEnd(entries[0]), entries[1:]
	}
	k := 1
	for k < len(entries) && entryEnd(entries[k])-start <= uint64(r.size) {
		k++
	}
	entries = entries[:k]
	size := int(entryEnd(entries[k-1]) - start)
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	buf := r.buf[:size]
	if _, err := r.st.text.ReadAt(buf, int64(start)); err != nil {
		return nil, r.readError(err)
	}
	return &chunk{buf: buf, base: start, entries: entries}, nil
}

func (r *reader) readError(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return ErrClosedStore
	}
	return fmt.Errorf("search store: read: %w", err)
}

// tailChunk returns rows from the in-memory tail.
func tailChunk(v view, from uint64, size int) *chunk {
	entries := v.tailIdx[from-v.spilledRows : v.rows-v.spilledRows]
	start := v.spilledText
	if from > v.spilledRows {
		start = entryEnd(v.tailIdx[from-v.spilledRows-1])
	}
	k := 1
	for k < len(entries) && entryEnd(entries[k])-start <= uint64(size) {
		k++
	}
	entries = entries[:k]
	buf := v.tailText[start-v.spilledText : entryEnd(entries[k-1])-v.spilledText]
	return &chunk{buf: buf, base: start, entries: entries}
}
