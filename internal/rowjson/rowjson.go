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

	"github.com/chiphost/chiphost/internal/jsonstr"
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

// AppendString appends s as a JSON string (see jsonstr.Append).
func AppendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }
