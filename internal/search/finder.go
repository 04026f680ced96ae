package search

import (
	"bytes"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// finder finds the matches of one pattern in one text.
type finder interface {
	has(text []byte) bool
	// ranges appends the non-overlapping, non-empty matches of text, left
	// to right.
	ranges(dst []Range, col int, text []byte) []Range
}

// literalFinder is a finder of a literal, whose matches at any offset can be
// found by searching text[from:] (no anchors, no context).
type literalFinder interface {
	finder
	// index returns the first match starting at or after from, or -1, -1.
	index(text []byte, from int) (start, end int)
}

func literalRanges(f literalFinder, dst []Range, col int, text []byte) []Range {
	for from := 0; from <= len(text); {
		s, e := f.index(text, from)
		if s < 0 {
			break
		}
		if e == s { // an empty pattern
			from = s + 1
			continue
		}
		dst = append(dst, Range{Column: col, Start: s, End: e})
		from = e
	}
	return dst
}

// exactFinder finds a case-sensitive literal, byte for byte.
type exactFinder struct{ pat []byte }

func (f *exactFinder) has(text []byte) bool { return bytes.Contains(text, f.pat) }

func (f *exactFinder) index(text []byte, from int) (int, int) {
	if i := bytes.Index(text[from:], f.pat); i >= 0 {
		return from + i, from + i + len(f.pat)
	}
	return -1, -1
}

func (f *exactFinder) ranges(dst []Range, col int, text []byte) []Range {
	return literalRanges(f, dst, col, text)
}

// foldFinder finds an ASCII literal regardless of case. ASCII folding is
// Unicode simple folding except for the letters whose fold orbit leaves
// ASCII ('k' and U+212A, 's' and U+017F): a text holding one of those
// runes, when the pattern has the letter, is searched by the regexp.
type foldFinder struct {
	pat     []byte   // lower case
	hazards [][]byte // the UTF-8 of non-ASCII runes that fold to a letter of pat
	re      *regexp.Regexp
	scan    foldScanner
}

func newFoldFinder(pat []byte, re *regexp.Regexp) *foldFinder {
	lower := make([]byte, len(pat))
	for i, c := range pat {
		lower[i] = asciiLower(c)
	}
	return &foldFinder{pat: lower, hazards: foldHazards(lower), re: re, scan: newFoldScanner(lower)}
}

func (f *foldFinder) hazard(text []byte) bool {
	for _, h := range f.hazards {
		if bytes.Contains(text, h) {
			return true
		}
	}
	return false
}

func (f *foldFinder) has(text []byte) bool {
	if f.hazard(text) {
		return f.re.Match(text)
	}
	return f.scan.index(text, 0) >= 0
}

func (f *foldFinder) index(text []byte, from int) (int, int) {
	if f.hazard(text) {
		if loc := f.re.FindIndex(text[from:]); loc != nil {
			return from + loc[0], from + loc[1]
		}
		return -1, -1
	}
	if i := f.scan.index(text, from); i >= 0 {
		return i, i + len(f.pat)
	}
	return -1, -1
}

func (f *foldFinder) ranges(dst []Range, col int, text []byte) []Range {
	return literalRanges(f, dst, col, text)
}

// regexFinder finds a regexp's matches.
type regexFinder struct{ re *regexp.Regexp }

func (f *regexFinder) has(text []byte) bool { return f.re.Match(text) }

// index is valid only for a regexp without anchors or \b (a quoted
// literal).
func (f *regexFinder) index(text []byte, from int) (int, int) {
	if loc := f.re.FindIndex(text[from:]); loc != nil {
		return from + loc[0], from + loc[1]
	}
	return -1, -1
}

func (f *regexFinder) ranges(dst []Range, col int, text []byte) []Range {
	for _, loc := range f.re.FindAllIndex(text, -1) {
		if loc[1] > loc[0] {
			dst = append(dst, Range{Column: col, Start: loc[0], End: loc[1]})
		}
	}
	return dst
}

// isWordByte reports whether c is an ASCII word character [0-9A-Za-z_].
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// wholeWord reports whether text[s:e] is neither preceded nor followed by a
// word character.
func wholeWord(text []byte, s, e int) bool {
	return (s == 0 || !isWordByte(text[s-1])) && (e == len(text) || !isWordByte(text[e]))
}

// wordFinder finds the matches of a literal that stand as whole words,
// trying every occurrence (they may overlap).
type wordFinder struct{ f literalFinder }

func (f *wordFinder) index(text []byte, from int) (int, int) {
	for from <= len(text) {
		s, e := f.f.index(text, from)
		if s < 0 || wholeWord(text, s, e) {
			return s, e
		}
		from = s + 1
	}
	return -1, -1
}

func (f *wordFinder) has(text []byte) bool {
	s, _ := f.index(text, 0)
	return s >= 0
}

func (f *wordFinder) ranges(dst []Range, col int, text []byte) []Range {
	return literalRanges(f, dst, col, text)
}

// wordRegexFinder finds a regexp compiled as
// (?:^|[^0-9A-Za-z_])(pattern)(?:[^0-9A-Za-z_]|$): a row matches exactly when
// some match of pattern stands as a whole word; group 1 is that match.
type wordRegexFinder struct{ re *regexp.Regexp }

func (f *wordRegexFinder) has(text []byte) bool { return f.re.Match(text) }

// ranges searches on from the end of each match (its following character
// may precede the next one). Searching text[from:] makes ^ match at from,
// so a match that starts there counts only if text[from-1] is no word
// character.
func (f *wordRegexFinder) ranges(dst []Range, col int, text []byte) []Range {
	for from := 0; from <= len(text); {
		loc := f.re.FindSubmatchIndex(text[from:])
		if loc == nil {
			break
		}
		s, e := from+loc[2], from+loc[3]
		if s == from && from > 0 && isWordByte(text[from-1]) {
			from = nextRune(text, from)
			continue
		}
		if e > s {
			dst = append(dst, Range{Column: col, Start: s, End: e})
			from = e
			continue
		}
		from = nextRune(text, s)
	}
	return dst
}

func nextRune(text []byte, i int) int {
	if i >= len(text) {
		return i + 1
	}
	_, n := utf8.DecodeRune(text[i:])
	return i + n
}

// foldHazardsByLetter holds, for each ASCII byte, the UTF-8 encodings of the
// non-ASCII runes in its simple fold orbit.
var foldHazardsByLetter = func() (h [utf8.RuneSelf][][]byte) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r >= utf8.RuneSelf {
				h[c] = append(h[c], []byte(string(r)))
			}
		}
	}
	return h
}()

// foldHazards returns the non-ASCII runes that fold to a byte of pat.
func foldHazards(pat []byte) [][]byte {
	var out [][]byte
	var seen [utf8.RuneSelf]bool
	for _, c := range pat {
		if c < utf8.RuneSelf && !seen[c] {
			seen[c] = true
			out = append(out, foldHazardsByLetter[c]...)
		}
	}
	return out
}
