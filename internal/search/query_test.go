package search

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustCompile(t testing.TB, qs ...Query) *Matcher {
	t.Helper()
	m, err := Compile(Filter{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCompileErrors(t *testing.T) {
	huge := strings.Repeat("a", 1<<20) + `\q`
	for _, tc := range []struct {
		f      Filter
		query  int
		pos    int
		reason string
	}{
		{Filter{}, -1, -1, "no queries"},
		{Filter{Queries: []Query{{Pattern: "a"}}, Combine: "some"}, -1, -1, `combine "some"`},
		{Filter{Queries: []Query{{Pattern: "a"}, {Pattern: "x", Kind: "glob"}}}, 1, -1, `kind "glob"`},
		{Filter{Queries: []Query{{Pattern: "a", Columns: []int{2, -1}}}}, 0, -1, "column -1"},
		{Filter{Queries: []Query{{Pattern: "ab(c", Kind: KindRegex}}}, 0, 2, "missing closing )"},
		{Filter{Queries: []Query{{Pattern: "a)b", Kind: KindRegex}}}, 0, 1, "unexpected )"},
		{Filter{Queries: []Query{{Pattern: "x"}, {Pattern: `ab\qc`, Kind: KindRegex}}}, 1, 2, "invalid escape sequence: `\\q`"},
		{Filter{Queries: []Query{{Pattern: "[a-", Kind: KindRegex}}}, 0, 0, "missing closing ]"},
		{Filter{Queries: []Query{{Pattern: "a**", Kind: KindRegex}}}, 0, 1, "invalid nested repetition operator: `**`"},
		{Filter{Queries: []Query{{Pattern: "[(]x)", Kind: KindRegex}}}, 0, 4, "unexpected )"},
		{Filter{Queries: []Query{{Pattern: huge, Kind: KindRegex}}}, 0, -1, ""},
	} {
		_, err := Compile(tc.f)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%.40v: got %v, want a *QueryError", tc.f, err)
			continue
		}
		if qe.Query != tc.query || (tc.pos >= 0 && qe.Pos != tc.pos) || !strings.Contains(qe.Reason, tc.reason) {
			t.Errorf("%.40v: got %+v, want query %d, pos %d, reason with %q", tc.f, *qe, tc.query, tc.pos, tc.reason)
		}
		if len(qe.Error()) > 200 {
			t.Errorf("error of %d bytes: %.300s", len(qe.Error()), qe.Error())
		}
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		text Text
		want []Range
	}{
		{Query{Pattern: "ab", CaseSensitive: true}, Text{Line: []byte("abxab aab")}, []Range{{-1, 0, 2}, {-1, 3, 5}, {-1, 7, 9}}},
		{Query{Pattern: "AB"}, Text{Line: []byte("ab Ab")}, []Range{{-1, 0, 2}, {-1, 3, 5}}},
		{Query{Pattern: "ok", WholeWord: true}, Text{Line: []byte("ok took ok_ -ok-")}, []Range{{-1, 0, 2}, {-1, 13, 15}}},
		{Query{Pattern: "aa", WholeWord: true, CaseSensitive: true}, Text{Line: []byte("aaa aa")}, []Range{{-1, 4, 6}}},
		{Query{Pattern: "o+", Kind: KindRegex, WholeWord: true}, Text{Line: []byte("oo o xo o-o")}, []Range{{-1, 0, 2}, {-1, 3, 4}, {-1, 8, 9}, {-1, 10, 11}}},
		{Query{Pattern: "-x", Kind: KindRegex, WholeWord: true}, Text{Line: []byte("a-x -x")}, []Range{{-1, 4, 6}}},
		{Query{Pattern: "^a", Kind: KindRegex}, Text{Line: []byte("aaa")}, []Range{{-1, 0, 1}}},
		{Query{Pattern: "x*", Kind: KindRegex}, Text{Line: []byte("axxb")}, []Range{{-1, 1, 3}}},
		{Query{Pattern: "ünï"}, Text{Line: []byte("ÜNÏ ünï")}, []Range{{-1, 0, 5}, {-1, 6, 11}}},
		{Query{Pattern: "k"}, Text{Line: []byte("\u212a k")}, []Range{{-1, 0, 3}, {-1, 4, 5}}},
		{Query{Pattern: "a\tb", CaseSensitive: true}, Text{Columns: [][]byte{[]byte("xa"), []byte("b")}}, []Range{{-1, 1, 4}}},
		{Query{Pattern: "b", Columns: []int{1, 3}}, Text{Columns: [][]byte{[]byte("b"), []byte("abb")}}, []Range{{1, 1, 2}, {1, 2, 3}}},
		{Query{Pattern: "b", Invert: true}, Text{Line: []byte("b")}, nil},
		{Query{Pattern: ""}, Text{Line: []byte("b")}, nil},
	} {
		m := mustCompile(t, tc.q)
		if got := m.Ranges(nil, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%+v in %q: got %v, want %v", tc.q, tc.text, got, tc.want)
		}
	}
}

func TestMatchRules(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		text Text
		want bool
	}{
		{Query{Pattern: "k"}, Text{Line: []byte("\u212a")}, true},             // KELVIN SIGN folds to k, as in RE2
		{Query{Pattern: "S", WholeWord: true}, Text{Line: []byte("ſ")}, true}, // so does LONG S to s
		{Query{Pattern: "k", CaseSensitive: true}, Text{Line: []byte("\u212a")}, false},
		{Query{Pattern: "x"}, Text{}, false},                                    // no message: empty text
		{Query{Pattern: "x", Invert: true}, Text{}, true},                       // ... which an inverted query selects
		{Query{Pattern: "", CaseSensitive: true}, Text{}, true},                 // the empty pattern matches everything
		{Query{Pattern: "a", Columns: []int{0}}, Text{Line: []byte("a")}, true}, // columns do not apply to a line
		{Query{Pattern: "a", Columns: []int{5}}, Text{Columns: [][]byte{[]byte("a")}}, false},
		{Query{Pattern: "a\tb"}, Text{Columns: [][]byte{[]byte("a"), []byte("b")}}, true},
		{Query{Pattern: "a\tb", Columns: []int{0, 1}}, Text{Columns: [][]byte{[]byte("a"), []byte("b")}}, false},
		{Query{Pattern: "\t", CaseSensitive: true}, Text{Columns: [][]byte{}}, false},
		{Query{Pattern: "\uFFFD", Kind: KindRegex}, Text{Line: []byte{0xff}}, true}, // RE2 reads an invalid byte as U+FFFD
		{Query{Pattern: "\uFFFD", CaseSensitive: true}, Text{Line: []byte{0xff}}, false},
	} {
		m := mustCompile(t, tc.q)
		if got := m.Match(tc.text); got != tc.want {
			t.Errorf("%+v in %q: got %v, want %v", tc.q, tc.text, got, tc.want)
		}
		if got := scanCount(m, chunkOf([]Text{{Line: []byte("zz")}, tc.text, {Line: []byte("zz")}})) - 2*b2i(m.Match(Text{Line: []byte("zz")})); got != b2i(tc.want) {
			t.Errorf("%+v in %q: scan counts %d", tc.q, tc.text, got)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string // "~" marks a folded literal
	}{
		{"abc", []string{"abc"}},
		{"(?i)abc", []string{"~abc"}},
		{"a+bcd[0-9]*x", []string{"bcd"}},
		{"foo|bar", []string{"foo", "bar"}},
		{"foo|b*", nil},
		{"(abc)+", []string{"abc"}},
		{"x?y?", nil},
		{"(?i)ünïcødé", []string{"~n"}},
		{"(?i)→x", []string{"~→x"}},
		{"a\uFFFDbc", []string{"bc"}},
		{"(?i)123", []string{"123"}},
	} {
		re, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range requiredLiterals(re.Simplify()) {
			s := string(l.text)
			if l.fold {
				s = "~" + s
			}
			got = append(got, s)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.re, got, tc.want)
		}
	}
}

// FuzzMatch compares Match, Ranges and the chunk scanner with a naive
// reference: every (start, end) whose text is the pattern, by a regexp of
// the quoted literal (or the pattern), with the word test beside it.
func FuzzMatch(f *testing.F) {
	f.Add("ab", "xabyab", byte(0))
	f.Add("ok", "took ok", byte(2))
	f.Add("K", "\u212a ſ s", byte(1))
	f.Add("a+b", "aab b", byte(4))
	f.Add("ü", "Ü\xff", byte(7))
	f.Fuzz(func(t *testing.T, pattern, text string, flags byte) {
		if len(text) > 64 || len(pattern) > 16 {
			return
		}
		q := Query{Pattern: pattern, CaseSensitive: flags&1 != 0, WholeWord: flags&2 != 0, Invert: flags&8 != 0}
		expr := regexp.QuoteMeta(pattern)
		if flags&4 != 0 {
			q.Kind, expr = KindRegex, pattern
			re, err := syntax.Parse(pattern, syntax.Perl)
			if err != nil || (q.WholeWord && hasAssertion(re)) {
				return // the naive reference cannot judge a match out of context
			}
		}
		if !q.CaseSensitive {
			expr = "(?i)" + expr
		}
		whole, err := regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return
		}
		m, err := Compile(Filter{Queries: []Query{q}})
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		b := []byte(text)
		boundary := runeBoundaries(b)
		isMatch := func(s, e int) bool {
			if q.Kind == KindRegex && (!boundary[s] || !boundary[e]) {
				return false // RE2 reads runes (an invalid byte as one)
			}
			if q.Kind == KindRegex && !q.WholeWord {
				loc := regexp.MustCompile(expr).FindIndex(b[s:])
				return loc != nil && loc[0] == 0 && loc[1] == e-s
			}
			return whole.Match(b[s:e]) && (!q.WholeWord || wholeWord(b, s, e))
		}
		want := false
		if q.Kind == KindRegex && !q.WholeWord {
			want = regexp.MustCompile(expr).Match(b)
		} else {
			for s := 0; s <= len(b) && !want; s++ {
				for e := s; e <= len(b) && !want; e++ {
					want = isMatch(s, e)
				}
			}
		}
		want = want != q.Invert
		if got := m.Match(Text{Line: b}); got != want {
			t.Fatalf("%+v in %q: Match %v, want %v", q, text, got, want)
		}
		other := Text{Line: []byte("-\t-")}
		c := chunkOf([]Text{other, {Line: b}, other})
		if got := scanCount(m, c) - 2*b2i(m.Match(other)); got != b2i(want) {
			t.Fatalf("%+v in %q: scan counts %d, want %v", q, text, got, want)
		}
		if q.Kind == KindRegex && !q.WholeWord {
			return // leftmost-first extents of a regex are its own business
		}
		for _, r := range m.Ranges(nil, Text{Line: b}) {
			if !isMatch(r.Start, r.End) || r.End <= r.Start {
				t.Fatalf("%+v in %q: range %v is no match", q, text, r)
			}
		}
	})
}

// runeBoundaries marks the offsets of b where a rune starts, and len(b).
func runeBoundaries(b []byte) []bool {
	at := make([]bool, len(b)+1)
	for i := 0; i < len(b); {
		at[i] = true
		_, n := utf8.DecodeRune(b[i:])
		i += n
	}
	at[len(b)] = true
	return at
}

// hasAssertion reports whether re holds an empty-width assertion, whose
// meaning depends on the text around a substring.
func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAssertion(s) {
			return true
		}
	}
	return false
}

// TestMatchDoesNotAllocate: the CLI matches every row with Match; joining a
// columns row reuses pooled buffers.
func TestMatchDoesNotAllocate(t *testing.T) {
	m := mustCompile(t, Query{Pattern: "b\tc"}, Query{Pattern: "zz", Columns: []int{1}, WholeWord: true})
	cols := Text{Columns: [][]byte{[]byte("ab"), []byte("c zz")}}
	line := Text{Line: []byte("xx B\tC")}
	if !m.Match(cols) || !m.Match(line) {
		t.Fatal("no match")
	}
	if raceEnabled {
		return // the pool drops buffers at random: allocations are expected
	}
	if n := testing.AllocsPerRun(100, func() { m.Match(cols); m.Match(line) }); n != 0 {
		t.Errorf("%v allocations per Match", n)
	}
}
