package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/chiphost/chiphost/internal/loggen"
	"github.com/chiphost/chiphost/internal/stringparser"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	st, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// bigCorpus is the corpus plus 1.2 MB of loggen's dirty log: rows in the
// store's files and in its tail, and several chunks.
func bigCorpus(t testing.TB) [][]byte {
	lines, _ := corpus(t)
	var p stringparser.Parser
	items, err := p.Parse(context.Background(), loggen.Log(1200<<10, true), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		lines = append(lines, []byte(it.Message.Columns[1]))
	}
	return lines
}

func appendAll(t testing.TB, st *Store, texts []Text) {
	t.Helper()
	n, _ := st.Rows()
	for i, tx := range texts {
		if err := st.Append(n+uint64(i), tx); err != nil {
			t.Fatal(err)
		}
	}
}

func lineTexts(lines [][]byte) []Text {
	out := make([]Text, len(lines))
	for i, l := range lines {
		out[i] = Text{Line: l}
	}
	return out
}

// runToEnd starts a search and waits for its end.
func runToEnd(t testing.TB, st *Store, m *Matcher) (*Search, Progress) {
	t.Helper()
	s := Start(t.Context(), st, m, nil)
	t.Cleanup(s.Close)
	<-s.Done()
	return s, s.Progress()
}

// TestStoreKeepsEveryRow reads every record back, from the files and the
// tail, across spills: line rows, columns rows with and without tabs in
// their columns, rows without columns or text.
func TestStoreKeepsEveryRow(t *testing.T) {
	st := newStore(t)
	var texts []Text
	lines := bigCorpus(t)
	for i, l := range append(lines, lines...) {
		switch i % 5 {
		case 0:
			texts = append(texts, Text{Line: l})
		case 1:
			texts = append(texts, Text{Columns: [][]byte{[]byte("x"), l}})
		case 2:
			texts = append(texts, Text{Columns: [][]byte{l, []byte("a\tb"), {}}})
		case 3:
			texts = append(texts, Text{Columns: [][]byte{}})
		default:
			texts = append(texts, Text{})
		}
	}
	appendAll(t, st, texts)
	if err := st.Append(7, Text{}); err == nil {
		t.Fatal("a row out of order was accepted")
	}
	v := st.view()
	defer v.release()
	if v.spilledRows == 0 || v.spilledRows == v.rows {
		t.Fatalf("want rows both in the files and in the tail, got %d spilled of %d", v.spilledRows, v.rows)
	}
	rd := &reader{st: st, size: 64 << 10}
	chunks := 0
	for next := uint64(0); next < v.rows; chunks++ {
		c, err := rd.chunk(v, next)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.entries {
			r, ok := decodeRecord(c.buf[c.recordStart(i):c.recordEnd(i)], c.entries[i], nil)
			want := texts[next+uint64(i)]
			if !ok || !sameText(r, want) {
				t.Fatalf("row %d: got %q %q, want %q", next+uint64(i), r.text, r.cols, want)
			}
		}
		next += uint64(len(c.entries))
	}
	if chunks < 16 {
		t.Errorf("%d chunks: want several", chunks)
	}
}

func sameText(r row, t Text) bool {
	if t.Columns == nil {
		return r.cols == nil && bytes.Equal(r.text, t.Line)
	}
	return r.cols != nil && slices.EqualFunc(r.cols, t.Columns, bytes.Equal)
}

// TestSearchCountsEqualGrep runs every grep case as a search over a
// finished store of the big corpus.
func TestSearchCountsEqualGrep(t *testing.T) {
	needGrep(t)
	lines := bigCorpus(t)
	file := writeLines(t, lines)
	st := newStore(t)
	appendAll(t, st, lineTexts(lines))
	st.Finish()
	for _, c := range grepCases {
		t.Run(c.String(), func(t *testing.T) {
			if c.locale != "" && !hasLocale(c.locale) {
				t.Skipf("locale %s is not installed: grep cannot fold non-ASCII case", c.locale)
			}
			m, err := Compile(Filter{Queries: []Query{c.q}})
			if err != nil {
				t.Fatal(err)
			}
			want := grepCount(t, file, c)
			_, p := runToEnd(t, st, m)
			if p.State != StateDone || p.Matches != uint64(want) || p.RowsSearched != uint64(len(lines)) {
				t.Errorf("got %+v, want done with %d matches of %d rows (grep)", p, want, len(lines))
			}
		})
	}
}

// matchingRows is the brute-force reference: the rows Match accepts.
func matchingRows(m *Matcher, texts []Text) []uint64 {
	var out []uint64
	for i, t := range texts {
		if m.Match(t) {
			out = append(out, uint64(i))
		}
	}
	return out
}

func TestPageAndNearest(t *testing.T) {
	lines := bigCorpus(t)
	texts := lineTexts(lines)
	st := newStore(t)
	appendAll(t, st, texts)
	st.Finish()
	m := mustCompile(t, Query{Pattern: "error", WholeWord: true}, Query{Pattern: "日本語 →", CaseSensitive: true})
	want := matchingRows(m, texts)
	s, p := runToEnd(t, st, m)
	if p.Matches != uint64(len(want)) || len(want) < 100 {
		t.Fatalf("%d matches, brute force %d", p.Matches, len(want))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		start, count := uint64(r.IntN(len(want)+10)), uint64(r.IntN(120))
		got := s.Page(start, count)
		end := min(start+count, uint64(len(want)))
		var exp []uint64
		if start < end {
			exp = want[start:end]
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("Page(%d, %d) = %v, want %v", start, count, got, exp)
		}
	}
	for _, row := range append([]uint64{0, want[0], want[len(want)-1], uint64(len(texts)), 1 << 40}, randRows(r, len(texts), 300)...) {
		for _, forward := range []bool{true, false} {
			pos, idx, ok := s.Nearest(row, forward)
			wpos, wok := nearestRef(want, row, forward)
			if ok != wok || ok && (pos != wpos || idx != want[wpos]) {
				t.Fatalf("Nearest(%d, %v) = %d %d %v, want %d %d %v", row, forward, pos, idx, ok, wpos, want[wpos], wok)
			}
		}
	}
}

func randRows(r *rand.Rand, n, k int) []uint64 {
	out := make([]uint64, k)
	for i := range out {
		out[i] = uint64(r.IntN(n))
	}
	return out
}

func nearestRef(matches []uint64, row uint64, forward bool) (uint64, bool) {
	if forward {
		for i, m := range matches {
			if m >= row {
				return uint64(i), true
			}
		}
		return 0, false
	}
	for i := len(matches) - 1; i >= 0; i-- {
		if matches[i] <= row {
			return uint64(i), true
		}
	}
	return 0, false
}

// progressLog forwards a search's progress reports to a channel.
func progressLog() (func(Progress), chan Progress) {
	ch := make(chan Progress, 1<<16)
	return func(p Progress) { ch <- p }, ch
}

// awaitProgress reads reports until one satisfies ok.
func awaitProgress(t testing.TB, ch chan Progress, ok func(Progress) bool) Progress {
	t.Helper()
	for p := range ch {
		if ok(p) {
			return p
		}
		if p.State == StateDone || p.State == StateFailed || p.State == StateCancelled {
			t.Fatalf("search ended with %+v", p)
		}
	}
	panic("unreachable")
}

// TestLiveSearch: a search over a growing store goes live, sees the rows
// appended after it caught up, and ends done at Finish.
func TestLiveSearch(t *testing.T) {
	st := newStore(t)
	appendAll(t, st, lineTexts([][]byte{[]byte("a ERROR"), []byte("b")}))
	report, ch := progressLog()
	s := Start(t.Context(), st, mustCompile(t, Query{Pattern: "error"}), report)
	defer s.Close()
	awaitProgress(t, ch, func(p Progress) bool { return p.State == StateLive && p.RowsSearched == 2 && p.Matches == 1 })
	appendAll(t, st, lineTexts([][]byte{[]byte("c"), []byte("d error")}))
	// A chunk is reported (running) before the scan notices it has caught
	// up (live): wait for the live report of the new rows.
	p := awaitProgress(t, ch, func(p Progress) bool { return p.RowsSearched == 4 && p.State == StateLive })
	if p.State != StateLive || p.Matches != 2 {
		t.Fatalf("got %+v, want live with 2 matches", p)
	}
	if got := s.Page(0, 10); !slices.Equal(got, []uint64{0, 3}) {
		t.Fatalf("Page = %v", got)
	}
	st.Finish()
	<-s.Done()
	if p := s.Progress(); p.State != StateDone || p.Matches != 2 || p.RowsSearched != 4 {
		t.Fatalf("after Finish: %+v", p)
	}
	if p := <-ch; p.State != StateDone {
		t.Fatalf("last report %+v, want done", p)
	}
}

// TestConcurrentAppendsWhileSearching: one writer appends while three
// searches run and readers page through them; each search ends with the
// brute-force matches. The store spills its tail several times, reusing the
// buffers of tails the searches have released.
func TestConcurrentAppendsWhileSearching(t *testing.T) {
	lines := bigCorpus(t)
	lines = append(append(lines, lines...), lines...) // spills that reuse released tails
	texts := lineTexts(lines)
	st := newStore(t)
	appendAll(t, st, texts[:100])
	ms := []*Matcher{
		mustCompile(t, Query{Pattern: "ERROR", CaseSensitive: true}),
		mustCompile(t, Query{Pattern: `took \d+ms`, Kind: KindRegex}),
		mustCompile(t, Query{Pattern: "ok", WholeWord: true, Invert: true}),
	}
	var searches []*Search
	for _, m := range ms {
		s := Start(t.Context(), st, m, nil)
		defer s.Close()
		searches = append(searches, s)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, s := range searches {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rows := s.Page(0, 50)
				if !slices.IsSorted(rows) {
					t.Errorf("Page not sorted: %v", rows)
					return
				}
				s.Nearest(uint64(len(rows))*7, true)
				s.Nearest(uint64(len(rows))*7, false)
			}
		})
	}
	appendAll(t, st, texts[100:])
	st.Finish()
	for i, s := range searches {
		<-s.Done()
		want := matchingRows(ms[i], texts)
		if p := s.Progress(); p.State != StateDone || p.Matches != uint64(len(want)) {
			t.Errorf("search %d: %+v, want done with %d matches", i, p, len(want))
		}
		if got := s.Page(0, uint64(len(want))); !slices.Equal(got, want) {
			t.Errorf("search %d: matches differ from brute force", i)
		}
	}
	close(stop)
	wg.Wait()
}

// TestPageDoesNotWaitForTheScan: while the search goroutine is held inside
// its progress callback (between chunks), Page, Nearest and Progress
// answer.
func TestPageDoesNotWaitForTheScan(t *testing.T) {
	st := newStore(t)
	appendAll(t, st, lineTexts(bigCorpus(t)))
	st.Finish()
	held, release := make(chan Progress), make(chan struct{})
	var once sync.Once
	s := Start(t.Context(), st, mustCompile(t, Query{Pattern: "INFO"}), func(p Progress) {
		once.Do(func() { // the first report, after the first chunk
			held <- p
			<-release
		})
	})
	defer s.Close()
	p := <-held
	if got := s.Page(0, 1<<30); uint64(len(got)) != p.Matches || p.Matches == 0 {
		t.Fatalf("Page gave %d rows while %d matches were reported", len(got), p.Matches)
	}
	if _, _, ok := s.Nearest(0, true); !ok {
		t.Fatal("Nearest found nothing")
	}
	if got := s.Progress(); got.RowsSearched != p.RowsSearched || got.State != StateRunning {
		t.Fatalf("Progress %+v, want %+v", got, p)
	}
	close(release)
	<-s.Done()
	if p := s.Progress(); p.State != StateDone {
		t.Fatalf("%+v", p)
	}
}

func TestSearchEndsCancelledOrFailed(t *testing.T) {
	st := newStore(t)
	appendAll(t, st, lineTexts([][]byte{[]byte("x")}))
	ctx, cancel := context.WithCancel(t.Context())
	report, ch := progressLog()
	s := Start(ctx, st, mustCompile(t, Query{Pattern: "x"}), report)
	awaitProgress(t, ch, func(p Progress) bool { return p.State == StateLive })
	cancel()
	<-s.Done()
	if p := s.Progress(); p.State != StateCancelled || !errors.Is(p.Err, context.Canceled) || p.Matches != 1 {
		t.Fatalf("after cancel: %+v", p)
	}

	report2, ch2 := progressLog()
	s2 := Start(t.Context(), st, mustCompile(t, Query{Pattern: "x"}), report2)
	awaitProgress(t, ch2, func(p Progress) bool { return p.State == StateLive })
	st.Close()
	<-s2.Done()
	if p := s2.Progress(); p.State != StateFailed || !errors.Is(p.Err, ErrClosedStore) {
		t.Fatalf("after the store closed: %+v", p)
	}
	if err := st.Append(1, Text{}); !errors.Is(err, ErrClosedStore) {
		t.Fatalf("Append after Close: %v", err)
	}
}

func TestRowsSignalsCommitsAndFinish(t *testing.T) {
	st := newStore(t)
	n, ch := st.Rows()
	if n != 0 {
		t.Fatal(n)
	}
	select {
	case <-ch:
		t.Fatal("closed before a commit")
	default:
	}
	appendAll(t, st, lineTexts([][]byte{[]byte("x")}))
	<-ch
	n, ch = st.Rows()
	st.Finish()
	<-ch
	if _, ch := st.Rows(); n != 1 || ch == nil {
		t.Fatal(n)
	} else {
		<-ch // stays closed after Finish
	}
}

// TestTenMillionMatchesFitIn16MiB measures the search's bitmap, filled
// as the scan fills it (one chunk of matches at a time), for 10 million
// matches spread in several ways. A roaring bitmap costs at most
// min(2·matches, rows/8) bytes plus small headers, so 10 million matches
// exceed 16 MiB only in a session of more than 134 million rows.
func TestTenMillionMatchesFitIn16MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 10 million matches")
	}
	const matches = 10_000_000
	const limit = 16 << 20
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name string
		rows uint64
		next func(prev uint64) uint64 // the match after prev
	}{
		{"every row", matches, func(p uint64) uint64 { return p + 1 }},
		{"every other row", 2 * matches, func(p uint64) uint64 { return p + 2 }},
		{"random, one in 4", 4 * matches, func(p uint64) uint64 { return p + 1 + uint64(r.IntN(7)) }},
		{"one in 13", 13 * matches, func(p uint64) uint64 { return p + 13 }},
		{"bursts of 1000 every 5000", 5 * matches, func(p uint64) uint64 {
			if (p+1)%5000 < 1000 {
				return p + 1
			}
			return p + 4001
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Search{matches: roaring.New()}
			batch := make([]uint32, 0, 8192)
			row := uint64(0)
			for n := 0; n < matches; n++ {
				batch = append(batch, uint32(row))
				if len(batch) == cap(batch) {
					s.publish(batch, row, StateRunning, n%(runOptimizeEvery*8192) == 0)
					batch = batch[:0]
				}
				row = tc.next(row)
			}
			s.publish(batch, row, StateRunning, false)
			s.finish(StateDone, nil)
			size := s.MatchBytes()
			t.Logf("%d matches over %d rows: %d bytes (%.2f bits a match)", matches, row, size, float64(size*8)/matches)
			if got := s.Progress().Matches; got != matches {
				t.Fatalf("%d matches", got)
			}
			if size > limit {
				t.Errorf("%d bytes, want at most %d", size, limit)
			}
		})
	}
}

func ExampleStart() {
	dir, _ := os.MkdirTemp("", "search-example")
	defer os.RemoveAll(dir)
	st, _ := NewStore(dir)
	defer st.Close()
	for i, line := range []string{"GET /a 200", "GET /b 500", "POST /c 500"} {
		st.Append(uint64(i), Text{Line: []byte(line)})
	}
	st.Finish()
	m, _ := Compile(Filter{Queries: []Query{{Pattern: ` 5\d\d$`, Kind: KindRegex}}})
	s := Start(context.Background(), st, m, nil)
	<-s.Done()
	fmt.Println(s.Progress().State, s.Page(0, 10))
	// Output: done [1 2]
}
