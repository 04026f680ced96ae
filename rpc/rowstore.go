package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/chiphost/chiphost/internal/rowjson"
	"github.com/chiphost/chiphost/internal/search"
	"github.com/chiphost/chiphost/runtime/driver"
)

// rowStore is a session's append-only on-disk row store: rows.json holds
// each row's JSON encoding back to back (encoded once, when the row arrives),
// and rows.idx holds, for row i, the little-endian uint64 end offset of its
// encoding. Reading rows [a, b) is two ReadAt calls, so grab and stream are
// random access with memory bounded by the request, whatever the input size.
//
// Every committed row's text also goes to text, the session's search
// store (internal/search), which searches scan instead of decoding the JSON.
// It gets a row only after the row store has committed it, so a row a
// search found can always be read; a textFeeder appends it beside the
// parse loop.
//
// # Notes
//
//   - One goroutine appends (the session's parse loop); any number read.
//     Readers see only rows committed by a finished append.
//   - close releases the files; later reads fail with errClosedStore.
type rowStore struct {
	data, index *os.File

	mu     sync.RWMutex // held for reading by readers, for writing by close
	closed bool

	cmu     sync.Mutex
	rows    uint64 // committed rows
	size    uint64 // committed data bytes
	changed chan struct{}

	// writer-side buffers, used only by append
	dbuf, ibuf []byte
	attach     driver.AttachmentStore

	text *search.Store // the rows' text, for searches
	feed *textFeeder   // appends it
}

var errClosedStore = errors.New("session closed")

// The row store's files in its session directory.
const (
	storeData        = "rows.json"
	storeIndex       = "rows.idx"
	storeAttachments = "attachments"
)

func newRowStore(dir string) (*rowStore, error) {
	data, err := os.OpenFile(filepath.Join(dir, storeData), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("row store: %w", err)
	}
	index, err := os.OpenFile(filepath.Join(dir, storeIndex), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		data.Close()
		return nil, fmt.Errorf("row store: %w", err)
	}
	text, err := search.NewStore(dir)
	if err != nil {
		data.Close()
		index.Close()
		return nil, fmt.Errorf("row store: search store: %w", err)
	}
	return &rowStore{
		data: data, index: index, changed: make(chan struct{}), text: text, feed: newTextFeeder(text),
		attach: driver.AttachmentStore{Dir: filepath.Join(dir, storeAttachments)},
	}, nil
}

// removeSessionDir removes a session directory. os.RemoveAll needs a file
// descriptor to list a directory that is not empty; when none is left (which
// is why an open fails at the descriptor limit), the row store's files are
// removed by name, which needs none, and then the emptied directory.
func removeSessionDir(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	for _, name := range []string{storeData, storeIndex, storeAttachments} {
		os.Remove(filepath.Join(dir, name))
	}
	return os.RemoveAll(dir)
}

// Rows implements driver.Sink: it encodes the batch and appends it.
func (st *rowStore) Rows(_ context.Context, rows []driver.Row) error {
	return st.append(rows)
}

// append encodes rows and commits them.
func (st *rowStore) append(rows []driver.Row) error {
	st.cmu.Lock()
	off := st.size
	st.cmu.Unlock()
	d, ix := st.dbuf[:0], st.ibuf[:0]
	for _, r := range rows {
		var err error
		d, err = st.appendRow(d, r)
		if err != nil {
			return err
		}
		d = append(d, ',') // rows are stored comma-terminated, ready to splice
		ix = binary.LittleEndian.AppendUint64(ix, off+uint64(len(d)))
	}
	st.dbuf, st.ibuf = d, ix
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.closed {
		return errClosedStore
	}
	if _, err := st.data.Write(d); err != nil {
		return fmt.Errorf("row store: %w", err)
	}
	if _, err := st.index.Write(ix); err != nil {
		return fmt.Errorf("row store: %w", err)
	}
	st.cmu.Lock()
	st.rows += uint64(len(rows))
	st.size += uint64(len(d))
	close(st.changed)
	st.changed = make(chan struct{})
	st.cmu.Unlock()
	// jsonstr writes each byte of invalid UTF-8 as the escape \ufffd (and a
	// valid U+FFFD as its UTF-8 bytes): a batch whose JSON holds no such
	// escape has valid text only, which needs no check row by row.
	return st.appendText(rows, !bytes.Contains(d, []byte(`\ufffd`)))
}

// appendText queues the text of committed rows for the search store: the
// text the row's JSON carries (jsonText), so that matches and ranges are
// about what clients see. valid says that every row's text is valid UTF-8.
// Called with st.mu held for reading, so that close cannot end the queue
// meanwhile.
func (st *rowStore) appendText(rows []driver.Row, valid bool) error {
	text := jsonText
	if valid {
		text = stringBytes
	}
	return st.feed.add(rows, text)
}

// stringBytes returns the bytes of s without copying them; they must not
// be changed.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// jsonText returns the bytes of s as its JSON encoding carries them
// (internal/jsonstr): each byte of invalid UTF-8 becomes U+FFFD. Valid text
// (the usual case) is not copied: the search store copies what it keeps,
// as a driver.Sink must.
func jsonText(s string) []byte {
	if utf8.ValidString(s) {
		return stringBytes(s)
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// count returns the committed row count and a channel closed at the next
// commit.
func (st *rowStore) count() (uint64, <-chan struct{}) {
	st.cmu.Lock()
	defer st.cmu.Unlock()
	return st.rows, st.changed
}

// rowsCommitted returns the committed row count.
func (st *rowStore) rowsCommitted() uint64 {
	n, _ := st.count()
	return n
}

// appendRow appends one row's JSON (internal/rowjson), saving its
// attachment first.
func (st *rowStore) appendRow(b []byte, r driver.Row) ([]byte, error) {
	var path string
	if a := r.Item.Attachment; a != nil {
		p, err := st.attach.Save(a.Name, a.Data)
		if err != nil {
			return nil, fmt.Errorf("saving attachment %q: %w", a.Name, err)
		}
		path = p
	}
	return rowjson.AppendRow(b, r.Index, r.Item, path), nil
}

// read appends to dst the JSON of rows [start, start+count) that are
// committed, comma-separated, stopping before maxBytes would be exceeded (but
// always at least one row). It returns dst and the number of rows appended.
func (st *rowStore) read(dst []byte, start, count uint64, maxBytes int) ([]byte, uint64, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.closed {
		return dst, 0, errClosedStore
	}
	rows, _ := st.count()
	if start >= rows || count == 0 {
		return dst, 0, nil
	}
	count = min(count, rows-start)
	// Ends of rows start-1 … start+count-1.
	first := start
	if first > 0 {
		first--
	}
	ix := make([]byte, 8*(start+count-first))
	if _, err := st.index.ReadAt(ix, int64(8*first)); err != nil {
		return dst, 0, fmt.Errorf("row store index: %w", err)
	}
	end := func(i uint64) uint64 { // end offset of row i (first ≤ i)
		return binary.LittleEndian.Uint64(ix[8*(i-first):])
	}
	var from uint64
	if start > 0 {
		from = end(start - 1)
	}
	// The largest n ≥ 1 whose rows fit in maxBytes.
	n := uint64(sort.Search(int(count), func(k int) bool {
		return end(start+uint64(k))-from > uint64(maxBytes)
	}))
	n = max(n, 1)
	to := end(start+n-1) - 1 // drop the last row's comma
	base := len(dst)
	dst = append(dst, make([]byte, int(to-from))...)
	if _, err := st.data.ReadAt(dst[base:], int64(from)); err != nil {
		return dst[:base], 0, fmt.Errorf("row store data: %w", err)
	}
	return dst, n, nil
}

// finish drops the writer's buffers once no more rows will be appended,
// and tells the searches that no more rows will come.
func (st *rowStore) finish() {
	st.dbuf, st.ibuf = nil, nil
	st.feed.finish()
}

// close releases the files (the session's searches are closed first). The
// directory is removed by the session.
func (st *rowStore) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	st.data.Close()
	st.index.Close()
	st.feed.close()
	st.text.Close()
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte { return rowjson.AppendString(b, s) }
