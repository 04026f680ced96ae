// Package rowjson encodes parsed rows as JSON without reflection: the shape
// `chiphost parse --output jsonl` prints and the JSON-RPC server stores and
// returns, {"index":N,"line":"…"} or {"index":N,"columns":[…]}, plus
// "attachment":{name,size,path,createdDate?,modifiedDate?,messages} when the
// row carries an extracted file.
//
// It is on the hot path of every consumer of rows; it imports only the
// runtime's data types.
package rowjson

import (
	"strconv"
	"unicode/utf8"

	"github.com/chiphost/chiphost/runtime"
)

// AppendRow appends the JSON object of one row to b. attachmentPath is where
// the row's attachment was saved ("" when it has none).
func AppendRow(b []byte, index uint64, it *runtime.Item, attachmentPath string) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendUint(b, index, 10)
	if m := it.Message; m != nil {
		if m.Columns != nil {
			b = append(b, `,"columns":[`...)
			for i, c := range m.Columns {
				if i > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, c)
			}
			b = append(b, ']')
		} else {
			b = append(b, `,"line":`...)
			b = AppendString(b, m.Line)
		}
	}
	if a := it.Attachment; a != nil {
		b = append(b, `,"attachment":{"name":`...)
		b = AppendString(b, a.Name)
		b = append(b, `,"size":`...)
		b = strconv.AppendUint(b, a.Size, 10)
		b = append(b, `,"path":`...)
		b = AppendString(b, attachmentPath)
		if a.CreatedDate != nil {
			b = append(b, `,"createdDate":`...)
			b = AppendString(b, *a.CreatedDate)
		}
		if a.ModifiedDate != nil {
			b = append(b, `,"modifiedDate":`...)
			b = AppendString(b, *a.ModifiedDate)
		}
		b = append(b, `,"messages":[`...)
		for i, n := range a.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, n, 10)
		}
		b = append(b, "]}"...)
	}
	return append(b, '}')
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// HTML characters are not escaped; U+2028 and U+2029 are, so the output is
// also valid JavaScript.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
