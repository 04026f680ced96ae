package search

import (
	"bytes"
	"encoding/binary"
)

// A row's record in the store's text is its text followed by '\n': the line,
// or the columns joined with "\t". A columns row whose columns cannot be
// told from its tabs (a column holds a '\t', or there are none) has a header
// before the text: the number of columns and each one's length, as
// uvarints. Its index entry is the offset of the record's end, with flags in
// the top bits.
const (
	flagColumns = 1 << 63 // a columns row
	flagHeader  = 1 << 62 // the record starts with a header
	endMask     = flagHeader - 1
)

func entryEnd(e uint64) uint64     { return e & endMask }
func entryHasHeader(e uint64) bool { return e&flagHeader != 0 }

// appendRecord appends t's record to buf and returns it with the entry's
// flags.
func appendRecord(buf []byte, t Text) ([]byte, uint64) {
	if t.Columns == nil {
		buf = append(buf, t.Line...)
		return append(buf, '\n'), 0
	}
	flags := uint64(flagColumns)
	if len(t.Columns) == 0 || anyContains(t.Columns, '\t') {
		flags |= flagHeader
		buf = binary.AppendUvarint(buf, uint64(len(t.Columns)))
		for _, c := range t.Columns {
			buf = binary.AppendUvarint(buf, uint64(len(c)))
		}
	}
	for i, c := range t.Columns {
		if i > 0 {
			buf = append(buf, '\t')
		}
		buf = append(buf, c...)
	}
	return append(buf, '\n'), flags
}

func anyContains(cols [][]byte, c byte) bool {
	for _, col := range cols {
		if bytes.IndexByte(col, c) >= 0 {
			return true
		}
	}
	return false
}

// decodeRecord returns the row of a record (cols reuses the given slice),
// and false for a corrupt header.
func decodeRecord(rec []byte, entry uint64, cols [][]byte) (row, bool) {
	if len(rec) == 0 {
		return row{}, false
	}
	rec = rec[:len(rec)-1] // the '\n'
	if entry&flagColumns == 0 {
		return row{text: rec}, true
	}
	cols = cols[:0]
	if entry&flagHeader == 0 {
		start := 0
		for {
			i := bytes.IndexByte(rec[start:], '\t')
			if i < 0 {
				cols = append(cols, rec[start:len(rec):len(rec)])
				return row{text: rec, cols: cols}, true
			}
			cols = append(cols, rec[start:start+i:start+i])
			start += i + 1
		}
	}
	n, k := binary.Uvarint(rec)
	if k <= 0 || n > uint64(len(rec)) {
		return row{}, false
	}
	lens := make([]uint64, n)
	pos := k
	for i := range lens {
		lens[i], k = binary.Uvarint(rec[pos:])
		if k <= 0 {
			return row{}, false
		}
		pos += k
	}
	text := rec[pos:]
	at := 0
	for i, l := range lens {
		if i > 0 {
			at++ // the tab
		}
		if l > uint64(len(text)-at) {
			return row{}, false
		}
		cols = append(cols, text[at:at+int(l):at+int(l)])
		at += int(l)
	}
	if cols == nil {
		cols = [][]byte{}
	}
	return row{text: text, cols: cols}, true
}
