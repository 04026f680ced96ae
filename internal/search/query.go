// Package search finds the rows of a session that match a filter, without
// decoding the stored rows: a [Store] keeps a scan-friendly copy of the rows'
// text as they arrive, a [Matcher] decides whether a row's text matches, and
// a [Search] runs a matcher over a store in the background, keeping its
// matches in a roaring bitmap that pages and nearest-match lookups read while
// the scan goes on.
//
// # Matching rules
//
//   - A literal matches byte for byte. With CaseSensitive false, case is
//     folded by Unicode simple folding, as RE2's (?i) does.
//   - A regex is Go RE2 syntax (package regexp/syntax, Perl flags): ^ and $
//     are the start and end of the row's text, '.' does not match '\n'.
//   - WholeWord: the match is neither preceded nor followed by an ASCII word
//     character [0-9A-Za-z_], which is grep -w in the C locale.
//   - Invert: the query selects the rows it does not match and contributes
//     no highlight ranges.
//   - A columns row is matched on its columns joined with "\t" unless the
//     query names columns; then each named column is matched on its own. A
//     query naming columns matches a line row on its line. A row with no
//     message has empty text.
//
// Counts equal those of grep -c with -F or -E (and -i, -w, -v) in the C
// locale over the same lines, for patterns both syntaxes read alike, except
// where case folding meets non-ASCII text: here 'k' also matches U+212A
// (KELVIN SIGN), 's' U+017F (LATIN SMALL LETTER LONG S) and non-ASCII letters
// fold, as RE2 does and the C locale does not.
package search

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Kind says how a query's pattern is read.
type Kind string

// The kinds of pattern.
const (
	KindLiteral Kind = "literal" // the default (also when empty)
	KindRegex   Kind = "regex"   // Go RE2 syntax
)

// Combine says how the queries of a filter combine.
type Combine string

// The ways queries combine.
const (
	CombineAny Combine = "any" // the default (also when empty): a row matches when any query does
	CombineAll Combine = "all" // a row matches when every query does
)

// Query is one pattern, as the protocol's query object carries it.
type Query struct {
	Pattern       string
	Kind          Kind // KindLiteral (default when empty) or KindRegex
	CaseSensitive bool
	WholeWord     bool
	// Columns names the columns (0-based) of a columns row to match, each on
	// its own; nil matches all of them joined with "\t", as the CLI shows
	// them.
	Columns []int
	Invert  bool
}

// Filter is a list of queries and how they combine.
type Filter struct {
	Queries []Query
	Combine Combine
}

// Text is the searchable text of one row: Columns != nil for a columns row,
// Line otherwise. A row with no message has Line == nil and Columns == nil.
type Text struct {
	Line    []byte
	Columns [][]byte
}

// Range is the byte range [Start, End) of one match, for highlighting:
// Column is -1 for a line (or for the joined text of a columns row when the
// query named no columns) and the column index otherwise.
type Range struct{ Column, Start, End int }

// QueryError is a filter that does not compile: which query (-1 for the
// filter itself), the byte position in its pattern when known (-1
// otherwise), and why.
type QueryError struct {
	Query  int
	Pos    int
	Reason string
}

func (e *QueryError) Error() string {
	switch {
	case e.Query < 0:
		return "filter: " + e.Reason
	case e.Pos < 0:
		return fmt.Sprintf("query %d: %s", e.Query, e.Reason)
	}
	return fmt.Sprintf("query %d: at byte %d: %s", e.Query, e.Pos, e.Reason)
}

// Limits of a filter, the same for the CLI's --grep and the server's
// searches (the protocol's maxQueries and 64 KiB per pattern).
const (
	// MaxQueries bounds the queries of a filter.
	MaxQueries = 64
	// MaxPatternBytes bounds the length of one query's pattern.
	MaxPatternBytes = 64 << 10
)

// maxExcerpt bounds the part of a pattern an error quotes.
const maxExcerpt = 40

// Matcher is a compiled filter. It is safe for concurrent use.
type Matcher struct {
	queries []*queryMatcher
	all     bool // CombineAll
	plan    scanPlan
	joins   sync.Pool // *joined: scratch for joining columns
}

// Compile checks and compiles a filter. Its errors are *QueryError.
func Compile(f Filter) (*Matcher, error) {
	switch {
	case len(f.Queries) == 0:
		return nil, &QueryError{Query: -1, Pos: -1, Reason: "no queries"}
	case len(f.Queries) > MaxQueries:
		return nil, &QueryError{Query: -1, Pos: -1, Reason: fmt.Sprintf("%d queries, at most %d", len(f.Queries), MaxQueries)}
	}
	m := &Matcher{}
	switch f.Combine {
	case "", CombineAny:
	case CombineAll:
		m.all = true
	default:
		return nil, &QueryError{Query: -1, Pos: -1, Reason: fmt.Sprintf("combine %q: want %q or %q", excerpt(string(f.Combine)), CombineAny, CombineAll)}
	}
	for i, q := range f.Queries {
		qm, err := compileQuery(q)
		if err != nil {
			err.Query = i
			return nil, err
		}
		m.queries = append(m.queries, qm)
	}
	m.plan = planScan(m)
	return m, nil
}

// Match reports whether the row matches.
func (m *Matcher) Match(t Text) bool {
	if t.Columns == nil {
		return m.matchRow(row{text: t.Line})
	}
	j := m.join(t.Columns)
	ok := m.matchRow(j.row)
	m.joins.Put(j)
	return ok
}

// Ranges appends the byte ranges of every match of every query that is not
// inverted, whether or not the row matches the filter as a whole. Empty
// matches give no range.
func (m *Matcher) Ranges(dst []Range, t Text) []Range {
	for _, q := range m.queries {
		if q.invert {
			continue
		}
		switch {
		case t.Columns == nil:
			dst = q.appendRanges(dst, -1, t.Line)
		case q.columns == nil:
			j := m.join(t.Columns)
			dst = q.appendRanges(dst, -1, j.text)
			m.joins.Put(j)
		default:
			for _, c := range q.columns {
				if c < len(t.Columns) {
					dst = q.appendRanges(dst, c, t.Columns[c])
				}
			}
		}
	}
	return dst
}

// row is a row's text as the matcher sees it: text is the line, or the
// columns joined with "\t"; cols are the columns (sub-slices of text) of a
// columns row, nil for a line row.
type row struct {
	text []byte
	cols [][]byte
}

// joined is a columns row joined into reused buffers.
type joined struct{ row }

// join joins cols with "\t" into a pooled joined; put it back when done.
func (m *Matcher) join(cols [][]byte) *joined {
	j, _ := m.joins.Get().(*joined)
	if j == nil {
		j = &joined{}
	}
	j.text, j.cols = j.text[:0], j.cols[:0]
	if j.cols == nil {
		j.cols = make([][]byte, 0, len(cols))
	}
	for i, c := range cols {
		if i > 0 {
			j.text = append(j.text, '\t')
		}
		j.text = append(j.text, c...)
	}
	at := 0
	for _, c := range cols {
		j.cols = append(j.cols, j.text[at:at+len(c):at+len(c)])
		at += len(c) + 1
	}
	return j
}

func (m *Matcher) matchRow(r row) bool {
	for _, q := range m.queries {
		if q.matchRow(r) != m.all {
			return !m.all
		}
	}
	return m.all
}

// queryMatcher is one compiled query.
type queryMatcher struct {
	columns []int // sorted, deduplicated; nil = the joined text
	invert  bool
	f       finder
	lits    []literal // required literals: every match contains one (nil = none known)
	exact   bool      // a hit of lits is a match (a plain literal)
}

// matchRow reports whether the query selects the row (invert applied).
func (q *queryMatcher) matchRow(r row) bool {
	return q.hasMatch(r) != q.invert
}

func (q *queryMatcher) hasMatch(r row) bool {
	if q.columns == nil || r.cols == nil {
		return q.f.has(r.text)
	}
	for _, c := range q.columns {
		if c < len(r.cols) && q.f.has(r.cols[c]) {
			return true
		}
	}
	return false
}

func (q *queryMatcher) appendRanges(dst []Range, col int, text []byte) []Range {
	return q.f.ranges(dst, col, text)
}

func compileQuery(q Query) (*queryMatcher, *QueryError) {
	if len(q.Pattern) > MaxPatternBytes {
		return nil, &QueryError{Pos: -1, Reason: fmt.Sprintf("%d bytes, at most %d", len(q.Pattern), MaxPatternBytes)}
	}
	qm := &queryMatcher{invert: q.Invert}
	if q.Columns != nil {
		qm.columns = slices.Compact(slices.Sorted(slices.Values(q.Columns)))
		if qm.columns[0] < 0 {
			return nil, &QueryError{Pos: -1, Reason: fmt.Sprintf("column %d: columns are numbered from 0", qm.columns[0])}
		}
	}
	switch q.Kind {
	case "", KindLiteral:
		compileLiteral(qm, q)
		return qm, nil
	case KindRegex:
		return qm, compileRegex(qm, q)
	}
	return nil, &QueryError{Pos: -1, Reason: fmt.Sprintf("kind %q: want %q or %q", excerpt(string(q.Kind)), KindLiteral, KindRegex)}
}

func compileLiteral(qm *queryMatcher, q Query) {
	pat := []byte(q.Pattern)
	var f literalFinder
	switch {
	case q.CaseSensitive:
		f = &exactFinder{pat: pat}
		qm.lits = []literal{{text: pat}}
	case isASCII(pat):
		ff := newFoldFinder(pat, regexp.MustCompile("(?i)"+regexp.QuoteMeta(q.Pattern)))
		f = ff
		qm.lits = []literal{{text: ff.pat, fold: true}}
	default:
		f = &regexFinder{re: regexp.MustCompile("(?i)" + regexp.QuoteMeta(q.Pattern))}
		re, _ := syntax.Parse(q.Pattern, syntax.Literal|syntax.FoldCase)
		qm.lits = requiredLiterals(re.Simplify())
	}
	qm.exact = qm.lits != nil && !q.WholeWord && (q.CaseSensitive || isASCII(pat))
	if len(pat) == 0 {
		qm.lits, qm.exact = nil, false // an empty pattern matches every row
	}
	if q.WholeWord {
		f = &wordFinder{f: f}
	}
	qm.f = f
}

func compileRegex(qm *queryMatcher, q Query) *QueryError {
	flags := syntax.Perl
	prefix := ""
	if !q.CaseSensitive {
		flags |= syntax.FoldCase
		prefix = "(?i)"
	}
	re, err := syntax.Parse(q.Pattern, flags)
	if err != nil {
		return regexError(q.Pattern, err)
	}
	qm.lits = requiredLiterals(re.Simplify())
	expr := prefix + q.Pattern
	if q.WholeWord {
		// The pattern is balanced (it parsed), so it is group 1, and the
		// case flag stays inside it: folded, [0-9A-Za-z_] would also hold
		// U+212A and U+017F.
		expr = `(?:^|[^0-9A-Za-z_])(` + prefix + q.Pattern + `)(?:[^0-9A-Za-z_]|$)`
	}
	compiled, err := regexp.Compile(expr)
	if err != nil { // a limit the wrapper crossed, e.g. the program size
		return regexError(q.Pattern, err)
	}
	if q.WholeWord {
		qm.f = &wordRegexFinder{re: compiled}
	} else {
		qm.f = &regexFinder{re: compiled}
	}
	return nil
}

// regexError turns a parse error into a QueryError with the position of the
// offending part of pattern, when it can be told.
func regexError(pattern string, err error) *QueryError {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return &QueryError{Pos: -1, Reason: excerpt(err.Error())}
	}
	pos := -1
	switch se.Code {
	case syntax.ErrMissingParen, syntax.ErrUnexpectedParen:
		pos = unbalancedParen(pattern)
	default:
		if se.Expr != "" {
			pos = strings.Index(pattern, se.Expr)
		}
	}
	reason := se.Code.String()
	if se.Expr != "" {
		reason += ": `" + excerpt(se.Expr) + "`"
	}
	return &QueryError{Pos: pos, Reason: reason}
}

// unbalancedParen finds the ')' that closes nothing, or else the last '('
// left open, skipping escapes and bracketed classes; -1 if none.
func unbalancedParen(p string) int {
	var open []int
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			i = classEnd(p, i)
		case '(':
			open = append(open, i)
		case ')':
			if len(open) == 0 {
				return i
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		return open[len(open)-1]
	}
	return -1
}

// classEnd returns the index of the ']' ending the class that starts at
// p[i] == '[' (len(p) if it does not end).
func classEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		switch {
		case p[j] == '\\':
			j++
		case p[j] == '[' && j+1 < len(p) && p[j+1] == ':':
			if k := strings.Index(p[j+2:], ":]"); k >= 0 {
				j += k + 3
			}
		case p[j] == ']':
			return j
		}
	}
	return len(p)
}

// excerpt bounds a piece of user input quoted in an error.
func excerpt(s string) string {
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
