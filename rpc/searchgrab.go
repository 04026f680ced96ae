package rpc

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/search"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// searches/grab: the rows of a range of matches, each as sessions/grab
// gives it (copied from the row store) with "ranges" spliced in before its
// closing brace. The ranges are computed from the row's text as the client
// sees it (the JSON-decoded line or columns), so that they are byte offsets
// into exactly what the client holds.

func (s *Server) searchesGrab(ctx context.Context, p *protocol.SearchesGrabParams) (jsonrpc2.RawMessage, error) {
	run, err := s.searches.get(p.Search)
	if err != nil {
		return nil, err
	}
	if p.Count > protocol.MaxGrabCount {
		return nil, invalidParams("count: %d exceeds the limit of %d matches per grab", p.Count, protocol.MaxGrabCount)
	}
	rows := run.eng.Page(p.Start, p.Count)
	buf := append(make([]byte, 0, 4096), `{"items":[`...)
	var g itemBuilder
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		item, err := g.item(run, r)
		if err != nil {
			return nil, err
		}
		if i > 0 && len(buf)+1+len(item)+2 > protocol.MaxOutFrame-64 {
			break // the frame cap: the client asks again from here
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, item...)
	}
	return append(buf, "]}"...), nil
}

// itemBuilder builds searches/grab items, reusing its buffers.
type itemBuilder struct {
	row, out []byte
	ranges   []search.Range
	wire     []wireRange
}

// item returns the JSON of row r of run's session as a search item (valid
// until the next call).
func (g *itemBuilder) item(run *searchRun, r uint64) ([]byte, error) {
	row, n, err := run.sess.store.read(g.row[:0], r, 1, protocol.MaxOutFrame)
	g.row = row
	switch {
	case errors.Is(err, errClosedStore):
		return nil, sessionClosedError(run.sess)
	case err != nil:
		return nil, err
	case n == 0:
		return nil, fmt.Errorf("search %s: matching row %d is not in the row store", run.id, r)
	}
	var text struct {
		Line    *string  `json:"line"`
		Columns []string `json:"columns"`
	}
	if err := json.Unmarshal(row, &text); err != nil {
		return nil, fmt.Errorf("search %s: row %d: %w", run.id, r, err)
	}
	t := search.Text{Columns: bytesOf(text.Columns)}
	if text.Line != nil {
		t.Line = []byte(*text.Line)
	}
	g.ranges = run.matcher.Ranges(g.ranges[:0], t)
	g.wire = rowRanges(g.wire[:0], g.ranges, text.Columns)
	g.out = appendRanges(append(g.out[:0], row[:len(row)-1]...), g.wire)
	return append(g.out, '}'), nil
}

// bytesOf converts columns to the engine's form (nil stays nil: a line
// row).
func bytesOf(cols []string) [][]byte {
	if cols == nil {
		return nil
	}
	out := make([][]byte, len(cols))
	for i, c := range cols {
		out[i] = []byte(c)
	}
	return out
}

// wireRange is a match range as sent: column -1 for a line.
type wireRange struct{ column, start, end int }

// rowRanges converts the engine's ranges of a row to the wire's: in a line
// (cols nil) they are kept as they are; in a row with columns, a range in
// the columns joined by tabs (column -1) is split into the parts that fall
// in each column. Empty ranges are dropped; the result is sorted and
// overlapping ranges are merged.
func rowRanges(dst []wireRange, rs []search.Range, cols []string) []wireRange {
	for _, r := range rs {
		switch {
		case r.End <= r.Start:
		case cols == nil:
			dst = append(dst, wireRange{-1, r.Start, r.End})
		case r.Column >= 0:
			dst = append(dst, wireRange{r.Column, r.Start, r.End})
		default:
			dst = splitJoined(dst, r, cols)
		}
	}
	slices.SortFunc(dst, func(a, b wireRange) int {
		return cmp.Or(cmp.Compare(a.column, b.column), cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
	})
	merged := dst[:0]
	for _, r := range dst {
		if k := len(merged) - 1; k >= 0 && merged[k].column == r.column && r.start < merged[k].end {
			merged[k].end = max(merged[k].end, r.end)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// splitJoined appends the parts of r, a range in cols joined by tabs, that
// fall in each column (a tab between two columns belongs to neither).
func splitJoined(dst []wireRange, r search.Range, cols []string) []wireRange {
	off := 0
	for i, c := range cols {
		start, end := max(r.Start, off), min(r.End, off+len(c))
		if start < end {
			dst = append(dst, wireRange{i, start - off, end - off})
		}
		off += len(c) + 1
		if off >= r.End {
			break
		}
	}
	return dst
}

// appendRanges appends `,"ranges":[…]` (and `,"rangesTruncated":true` when
// there are more than protocol.MaxRangesPerItem) to b.
func appendRanges(b []byte, rs []wireRange) []byte {
	b = append(b, `,"ranges":[`...)
	for i, r := range rs {
		if i == protocol.MaxRangesPerItem {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if r.column >= 0 {
			b = append(b, `"column":`...)
			b = strconv.AppendInt(b, int64(r.column), 10)
			b = append(b, ',')
		}
		b = append(b, `"start":`...)
		b = strconv.AppendInt(b, int64(r.start), 10)
		b = append(b, `,"end":`...)
		b = strconv.AppendInt(b, int64(r.end), 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(rs) > protocol.MaxRangesPerItem {
		b = append(b, `,"rangesTruncated":true`...)
	}
	return b
}
