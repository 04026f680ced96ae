package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The store's files in its directory.
const (
	storeText  = "search.text"
	storeIndex = "search.idx"
)

// spillSize is the size of the in-memory tail at which it is written to the
// files, in one write each.
const spillSize = 1 << 20

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
	rows        uint64   // committed rows
	spilledRows uint64   // rows whose records and entries are in the files
	spilledText uint64   // bytes of records in the text file
	tailText    []byte   // records of rows [spilledRows, rows); never rewritten once committed
	tailIdx     []uint64 // their entries
	changed     chan struct{}
	watched     bool // someone holds changed: replace it at the next commit
	finished    bool
	closed      bool
	err         error // a failed write: appends fail from then on

	ibuf []byte // writer only: entries to write
}

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
	return &Store{text: text, index: index, changed: make(chan struct{}), tailText: make([]byte, 0, spillSize)}, nil
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
	s.tailText, flags = appendRecord(s.tailText, t)
	s.tailIdx = append(s.tailIdx, (s.spilledText+uint64(len(s.tailText)))|flags)
	s.rows++
	s.notifyLocked()
	full := len(s.tailText) >= spillSize
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
	text, idx := s.tailText, s.tailIdx
	s.ibuf = s.ibuf[:0]
	for _, e := range idx {
		s.ibuf = binary.LittleEndian.AppendUint64(s.ibuf, e)
	}
	_, err := s.text.WriteAt(text, int64(s.spilledText))
	if err == nil {
		_, err = s.index.WriteAt(s.ibuf, int64(s.spilledRows)*8)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = fmt.Errorf("search store: write: %w", err)
		return s.err
	}
	s.spilledRows += uint64(len(idx))
	s.spilledText += uint64(len(text))
	s.tailText = make([]byte, 0, spillSize)
	s.tailIdx = make([]uint64, 0, cap(idx))
	return nil
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
}

func (s *Store) view() view {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewLocked()
}

func (s *Store) viewLocked() view {
	return view{
		rows: s.rows, spilledRows: s.spilledRows, spilledText: s.spilledText,
		tailText: s.tailText, tailIdx: s.tailIdx, finished: s.finished, closed: s.closed,
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
