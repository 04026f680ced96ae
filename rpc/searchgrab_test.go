package rpc

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/chiphost/chiphost/internal/jsonstr"
	"github.com/chiphost/chiphost/internal/search"
	"github.com/chiphost/chiphost/rpc/protocol"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// TestRowRanges pins how the engine's ranges become the wire's: kept in a
// line, split at the tabs of joined columns (the tab in neither), kept for
// a named column, empty ones dropped, sorted and overlapping ones merged.
func TestRowRanges(t *testing.T) {
	cols := []string{"ab", "", "cdef"} // joined: "ab\t\tcdef", columns at 0, 3, 4
	tests := []struct {
		name string
		in   []search.Range
		cols []string
		want []wireRange
	}{
		{"line", []search.Range{rg(-1, 4, 6), rg(-1, 0, 2), rg(-1, 1, 3), rg(-1, 5, 5)}, nil,
			[]wireRange{{-1, 0, 3}, {-1, 4, 6}}},
		{"across tabs", []search.Range{rg(-1, 1, 6)}, cols,
			[]wireRange{{0, 1, 2}, {2, 0, 2}}},
		{"only a tab", []search.Range{rg(-1, 2, 3)}, cols, nil},
		{"named column", []search.Range{rg(2, 1, 3), rg(0, 0, 1)}, cols,
			[]wireRange{{0, 0, 1}, {2, 1, 3}}},
		{"joined and named overlap", []search.Range{rg(-1, 4, 6), rg(2, 1, 3)}, cols,
			[]wireRange{{2, 0, 3}}},
	}
	for _, tc := range tests {
		got := rowRanges(nil, tc.in, tc.cols)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func rg(col, start, end int) search.Range { return search.Range{Column: col, Start: start, End: end} }

// TestAppendRangesBounded: an item carries at most MaxRangesPerItem ranges
// and then says rangesTruncated.
func TestAppendRangesBounded(t *testing.T) {
	rs := make([]wireRange, 1500)
	for i := range rs {
		rs[i] = wireRange{-1, 2 * i, 2*i + 1}
	}
	var item struct {
		Ranges          []map[string]int `json:"ranges"`
		RangesTruncated bool             `json:"rangesTruncated"`
	}
	b := append(appendRanges([]byte(`{"index":0`), rs), '}')
	if err := json.Unmarshal(b, &item); err != nil {
		t.Fatal(err)
	}
	if len(item.Ranges) != 1024 || !item.RangesTruncated || item.Ranges[1023]["start"] != 2046 {
		t.Fatalf("%d ranges, truncated %v", len(item.Ranges), item.RangesTruncated)
	}
}

// TestJSONText: the text a search store gets is the text the row's JSON
// carries, invalid UTF-8 included.
func TestJSONText(t *testing.T) {
	for _, s := range []string{"plain", "ünï 日本", "bad \xff\xfe x", "\xe0\x80x\xf0\x9f\x98", "\xed\xa0\x80 surrogate"} {
		var decoded string
		if err := json.Unmarshal(jsonstr.Append(nil, s), &decoded); err != nil {
			t.Fatal(err)
		}
		if got := string(jsonText(s)); got != decoded {
			t.Errorf("%q: search text %q, JSON text %q", s, got, decoded)
		}
	}
}

// TestRowStoreFeedsSearchText appends batches to a row store and searches
// its text store with the engine: rows come in index order, a batch with
// invalid UTF-8 (which only a defective parser could give) has it replaced
// as the JSON has it, and a row whose text spells the JSON escape \ufffd
// is not taken for a replaced one.
func TestRowStoreFeedsSearchText(t *testing.T) {
	st, err := newRowStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	line := func(i uint64, s string) driver.Row {
		return driver.Row{Index: i, Item: &runtime.Item{Message: &runtime.Message{Line: s}}}
	}
	cols := driver.Row{Index: 4, Item: &runtime.Item{Message: &runtime.Message{Columns: []string{"a\xffb", "c"}}}}
	batches := [][]driver.Row{
		{line(0, "plain"), line(1, `escape \ufffd spelled out`)},
		{line(2, "bad \xff byte"), line(3, "ok \uFFFD valid"), cols},
		{{Index: 5, Item: &runtime.Item{}}},
	}
	for _, b := range batches {
		if err := st.Rows(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	st.finish()
	m, err := search.Compile(search.Filter{Queries: []search.Query{{Pattern: "\uFFFD", CaseSensitive: true}}})
	if err != nil {
		t.Fatal(err)
	}
	s := search.Start(context.Background(), st.text, m, nil)
	defer s.Close()
	<-s.Done()
	if p := s.Progress(); p.State != search.StateDone || p.RowsSearched != 6 {
		t.Fatalf("search ended %+v, want done after 6 rows", p)
	}
	if got := s.Page(0, 10); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("rows with U+FFFD: %v, want [2 3 4]", got)
	}
}

// TestSearchLimitsAgree: the protocol's limits of a search are the
// engine's, which the CLI's --grep enforces, so both refuse the same
// filters.
func TestSearchLimitsAgree(t *testing.T) {
	if protocol.MaxQueries != search.MaxQueries || protocol.MaxPatternBytes != search.MaxPatternBytes {
		t.Errorf("protocol limits %d queries of %d bytes, engine %d of %d", protocol.MaxQueries, protocol.MaxPatternBytes, search.MaxQueries, search.MaxPatternBytes)
	}
}
