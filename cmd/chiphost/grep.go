package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/chiphost/chiphost/internal/search"
	"github.com/chiphost/chiphost/runtime/driver"
)

// grepFlags are parse's row filter: --grep and the flags that modify it.
// The matching itself is internal/search's (the server's searches use the
// same Matcher).
type grepFlags struct {
	patterns   []string
	ignoreCase bool
	regex      bool
	invert     bool
	word       bool
	count      bool
}

func (f *grepFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.patterns, "grep", "e", nil, "print only the rows that contain `PATTERN` (repeatable: rows that match any of them)")
	fs.BoolVarP(&f.ignoreCase, "ignore-case", "i", false, "--grep ignores case (Unicode simple case folding)")
	fs.BoolVarP(&f.regex, "regex", "E", false, "--grep patterns are regular expressions (Go RE2 syntax), not literal text")
	fs.BoolVarP(&f.word, "word", "w", false, "--grep matches whole words only: not next to a letter, digit or _ (ASCII)")
	fs.BoolVarP(&f.invert, "invert", "v", false, "print the rows that match none of the --grep patterns")
	fs.BoolVarP(&f.count, "count", "c", false, "print only the number of rows --grep selects, on one line")
}

// maxPatternEcho bounds how much of a pattern an error message quotes.
const maxPatternEcho = 64

// matcher compiles the filter the flags describe; it returns nil when
// there is no --grep. A modifier without --grep and a pattern that does
// not compile are usage errors.
func (f *grepFlags) matcher() (*search.Matcher, error) {
	if len(f.patterns) == 0 {
		if name := f.modifierGiven(); name != "" {
			return nil, usageError{errorf("--%s needs --grep PATTERN", name)}
		}
		return nil, nil
	}
	m, err := search.Compile(f.filter())
	if err != nil {
		return nil, usageError{f.patternError(err)}
	}
	return m, nil
}

// modifierGiven names the first modifier set, or returns "".
func (f *grepFlags) modifierGiven() string {
	for _, m := range []struct {
		name string
		set  bool
	}{{"ignore-case", f.ignoreCase}, {"regex", f.regex}, {"word", f.word}, {"invert", f.invert}, {"count", f.count}} {
		if m.set {
			return m.name
		}
	}
	return ""
}

// filter is the search filter of the flags. Several patterns select the
// rows that match any of them; --invert selects the rows that match none,
// that is every pattern inverted, all of them required (as grep -v -e A -e B).
func (f *grepFlags) filter() search.Filter {
	kind := search.KindLiteral
	if f.regex {
		kind = search.KindRegex
	}
	flt := search.Filter{Combine: search.CombineAny}
	if f.invert {
		flt.Combine = search.CombineAll
	}
	for _, p := range f.patterns {
		flt.Queries = append(flt.Queries, search.Query{
			Pattern:       p,
			Kind:          kind,
			CaseSensitive: !f.ignoreCase,
			WholeWord:     f.word,
			Invert:        f.invert,
		})
	}
	return flt
}

// patternError words a compile error for the command line: which --grep
// (quoted, cut to maxPatternEcho bytes), where in it, and why.
func (f *grepFlags) patternError(err error) error {
	var qe *search.QueryError
	switch {
	case !errors.As(err, &qe):
		return fmt.Errorf("--grep: %w", err)
	case qe.Query < 0 || qe.Query >= len(f.patterns): // the filter as a whole
		return fmt.Errorf("--grep: %s", qe.Reason)
	}
	where := ""
	if qe.Pos >= 0 {
		where = fmt.Sprintf(" at byte %d", qe.Pos)
	}
	return fmt.Errorf("--grep %s%s: %s", quoteBounded(f.patterns[qe.Query], maxPatternEcho), where, qe.Reason)
}

// quoteBounded quotes s, cut to at most n bytes (and marked so).
func quoteBounded(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// grepSink passes the rows the matcher selects on to next (or only counts
// them, with --count). Rows keep their index.
type grepSink struct {
	next    driver.Sink // nil: count only
	m       *search.Matcher
	matches uint64

	kept []driver.Row
	text textBuffer
}

func (s *grepSink) Rows(ctx context.Context, rows []driver.Row) error {
	s.kept = s.kept[:0]
	for _, r := range rows {
		if !s.m.Match(s.text.of(r)) {
			continue
		}
		s.matches++
		if s.next != nil {
			s.kept = append(s.kept, r)
		}
	}
	if len(s.kept) == 0 {
		return nil
	}
	return s.next.Rows(ctx, s.kept)
}

// Flush passes the driver's flush on, so that a matching row is written as
// soon as its bytes arrived (--follow, pipes).
func (s *grepSink) Flush(ctx context.Context) error {
	if f, ok := s.next.(driver.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// textBuffer turns a row's message into search.Text, reusing its buffers:
// a row with no message has empty text.
type textBuffer struct {
	bytes []byte
	cols  [][]byte
}

func (b *textBuffer) of(r driver.Row) search.Text {
	m := r.Item.Message
	if m == nil {
		return search.Text{}
	}
	if m.Columns == nil {
		b.bytes = append(b.bytes[:0], m.Line...)
		return search.Text{Line: b.bytes}
	}
	b.bytes, b.cols = b.bytes[:0], b.cols[:0]
	for _, c := range m.Columns {
		b.bytes = append(b.bytes, c...)
	}
	off := 0
	for _, c := range m.Columns {
		b.cols = append(b.cols, b.bytes[off:off+len(c):off+len(c)])
		off += len(c)
	}
	if b.cols == nil {
		b.cols = [][]byte{}
	}
	return search.Text{Columns: b.cols}
}
