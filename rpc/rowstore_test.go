package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestAppendString checks the hand-written JSON string encoder against
// encoding/json on awkward input.
func TestAppendString(t *testing.T) {
	cases := []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "é ☃ 𝄞", "<html>&", "bad \xff utf8 \xc3", "\u2028"}
	for _, s := range cases {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", s, got, err)
			continue
		}
		// encoding/json also replaces each invalid byte with U+FFFD.
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if back != want {
			t.Errorf("%q: round trip gave %q, want %q", s, back, want)
		}
	}
}

// TestRowStore appends rows in batches and reads ranges back, including
// the byte cap (at least one row) and reads past the end.
func TestRowStore(t *testing.T) {
	st, err := newRowStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	const n = 1000
	var batch []driver.Row
	items := make([]runtime.Item, n)
	for i := range n {
		switch i % 3 {
		case 0:
			items[i].Message = &runtime.Message{Line: strings.Repeat("x", i%50)}
		case 1:
			items[i].Message = &runtime.Message{Columns: []string{"a", "b\"c"}}
		case 2:
			items[i].Attachment = &runtime.Attachment{Name: fmt.Sprintf("f%d.bin", i), Size: 3, Data: []byte("abc"), Messages: []uint64{1, 2}}
		}
		batch = append(batch, driver.Row{Index: uint64(i), Item: &items[i]})
		if len(batch) == 97 || i == n-1 {
			if err := st.Rows(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cases := []struct {
		start, count uint64
		maxBytes     int
		want         uint64
	}{
		{0, 10, 1 << 20, 10},
		{995, 10, 1 << 20, 5},
		{n, 10, 1 << 20, 0},
		{0, n, 1 << 20, n},
		{0, n, 1, 1}, // the cap always lets one row through
		{500, 100, 2000, 0},
	}
	for _, tc := range cases {
		buf, got, err := st.read([]byte("["), tc.start, tc.count, tc.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, ']')
		var rows []struct {
			Index      uint64                  `json:"index"`
			Line       *string                 `json:"line"`
			Columns    []string                `json:"columns"`
			Attachment *protocol.RowAttachment `json:"attachment"`
			Extra      json.RawMessage         `json:"-"`
		}
		if err := json.Unmarshal(buf, &rows); err != nil {
			t.Fatalf("read %d+%d: invalid JSON: %v", tc.start, tc.count, err)
		}
		if tc.want > 0 && got != tc.want || uint64(len(rows)) != got {
			t.Fatalf("read %d+%d cap %d: %d rows (%d decoded), want %d", tc.start, tc.count, tc.maxBytes, got, len(rows), tc.want)
		}
		if tc.want == 0 && tc.start < n && (got == 0 || len(buf) > tc.maxBytes+2 && got > 1) {
			t.Fatalf("read %d+%d cap %d: %d rows in %d bytes", tc.start, tc.count, tc.maxBytes, got, len(buf))
		}
		for k, r := range rows {
			i := int(tc.start) + k
			ok := r.Index == uint64(i)
			switch i % 3 {
			case 0:
				ok = ok && r.Line != nil && len(*r.Line) == i%50
			case 1:
				ok = ok && len(r.Columns) == 2 && r.Columns[1] == "b\"c"
			case 2:
				ok = ok && r.Attachment != nil && r.Attachment.Size == 3 && r.Attachment.Path != "" && len(r.Attachment.Messages) == 2
			}
			if !ok {
				t.Fatalf("row %d: %+v", i, r)
			}
		}
	}
	st.close()
	if _, _, err := st.read(nil, 0, 1, 100); err != errClosedStore {
		t.Errorf("read after close: %v, want errClosedStore", err)
	}
}
