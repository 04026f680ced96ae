package search

import (
	"bytes"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// literal is a byte string every match of a query contains: exactly, or,
// with fold, up to ASCII case (text is then lower case; its non-ASCII bytes
// are runes without case and compare exactly).
type literal struct {
	text []byte
	fold bool
}

// index returns the first occurrence of l in b at or after from, or -1.
// Folded literals search with fs and c (see foldScanner.indexCursor).
func (l *literal) index(b []byte, from int, fs *foldScanner, c *foldCursor) int {
	if !l.fold {
		if i := bytes.Index(b[from:], l.text); i >= 0 {
			return from + i
		}
		return -1
	}
	return fs.indexCursor(b, from, c)
}

// requiredLiterals returns literals such that every match of re contains at
// least one of them, or nil when it cannot tell. The rule, on the simplified
// syntax tree:
//   - a literal string requires itself (its longest piece that can be
//     searched as bytes: a case-folded literal is cut at runes with non-ASCII
//     case partners, any literal at U+FFFD, which RE2 also matches against
//     invalid UTF-8);
//   - a capture, x+ and x{n,} with n ≥ 1 require what x requires;
//   - a concatenation requires the best of what its parts require (the set
//     whose shortest literal is longest, then the smaller set);
//   - an alternation requires the union of what its branches require, when
//     every branch requires something and the union has at most 16 literals;
//   - anything else (classes, x*, x?, anchors, empty) requires nothing.
func requiredLiterals(re *syntax.Regexp) []literal {
	switch re.Op {
	case syntax.OpLiteral:
		if l, ok := searchablePiece(re.Rune, re.Flags&syntax.FoldCase != 0); ok {
			return []literal{l}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []literal
		for _, sub := range re.Sub {
			if l := requiredLiterals(sub); l != nil && better(l, best) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		var union []literal
		for _, sub := range re.Sub {
			l := requiredLiterals(sub)
			if l == nil || len(union)+len(l) > maxAlternatives {
				return nil
			}
			union = append(union, l...)
		}
		return union
	}
	return nil
}

const maxAlternatives = 16

// better reports whether the literal set a beats b for a prefilter.
func better(a, b []literal) bool {
	if b == nil {
		return true
	}
	sa, sb := shortest(a), shortest(b)
	return sa > sb || sa == sb && len(a) < len(b)
}

func shortest(ls []literal) int {
	n := -1
	for _, l := range ls {
		if n < 0 || len(l.text) < n {
			n = len(l.text)
		}
	}
	return n
}

// searchablePiece returns the longest piece of the literal runes that can be
// searched as bytes (see requiredLiterals).
func searchablePiece(runes []rune, fold bool) (literal, bool) {
	var best, cur []byte
	cut := func() {
		if len(cur) > len(best) {
			best = cur
		}
		cur = nil
	}
	for _, r := range runes {
		switch {
		case r == utf8.RuneError:
			cut()
		case fold && r < utf8.RuneSelf:
			cur = append(cur, asciiLower(byte(r)))
		case fold && unicode.SimpleFold(r) != r:
			cut()
		default:
			cur = utf8.AppendRune(cur, r)
		}
	}
	cut()
	if len(best) == 0 {
		return literal{}, false
	}
	return literal{text: best, fold: fold && hasLetter(best)}, true
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldScanner searches for a lower-case pattern up to ASCII case. It looks
// for one anchor byte of the pattern, the one expected to be rarest in log
// text (a letter costs the search for both of its cases), with IndexByte,
// and compares the pattern around each candidate.
type foldScanner struct {
	pat    []byte
	anchor int
	lo, up byte // the anchor byte's two cases (equal for a non-letter)
}

func newFoldScanner(pat []byte) foldScanner {
	s := foldScanner{pat: pat}
	bestCost := -1
	for i, c := range pat {
		cost := byteCost(c)
		if 'a' <= c && c <= 'z' {
			cost += byteCost(c - 'a' + 'A')
		}
		if bestCost < 0 || cost < bestCost {
			bestCost, s.anchor = cost, i
		}
	}
	if len(pat) > 0 {
		s.lo = pat[s.anchor]
		s.up = s.lo
		if 'a' <= s.lo && s.lo <= 'z' {
			s.up = s.lo - 'a' + 'A'
		}
	}
	return s
}

// index returns the first match starting at or after from, or -1.
func (s *foldScanner) index(text []byte, from int) int {
	var c foldCursor
	return s.indexCursor(text, from, &c)
}

// foldCursor remembers where the anchor's two cases occur next in one text
// (-1: nowhere), so that searches at growing offsets of that text never
// scan a part of it twice.
type foldCursor struct {
	lo, up int
	valid  bool
}

// indexCursor is index for calls on the same text with growing from.
func (s *foldScanner) indexCursor(text []byte, from int, c *foldCursor) int {
	n := len(s.pat)
	if n == 0 {
		if from <= len(text) {
			return from
		}
		return -1
	}
	last := len(text) - n + s.anchor // the last possible anchor position
	if last < 0 {
		return -1
	}
	area := text[:last+1]
	if !c.valid {
		c.lo, c.up, c.valid = -2, -2, true
	}
	for i := from + s.anchor; i <= last; {
		c.lo = nextAt(area, i, s.lo, c.lo)
		if s.up == s.lo {
			c.up = c.lo
		} else {
			c.up = nextAt(area, i, s.up, c.up)
		}
		at := c.lo
		if at < 0 || c.up >= 0 && c.up < at {
			at = c.up
		}
		if at < 0 {
			return -1
		}
		if start := at - s.anchor; equalFoldASCII(text[start:start+n], s.pat) {
			return start
		}
		i = at + 1
	}
	return -1
}

// nextAt returns the first index ≥ i of x in b, given prev, the answer of an
// earlier search (-1: none from an earlier offset; -2: unknown).
func nextAt(b []byte, i int, x byte, prev int) int {
	if prev == -1 || prev >= i {
		return prev
	}
	if j := bytes.IndexByte(b[i:], x); j >= 0 {
		return i + j
	}
	return -1
}

// equalFoldASCII reports whether t equals the lower-case pattern p up to
// ASCII case.
func equalFoldASCII(t, p []byte) bool {
	for i, c := range t {
		if asciiLower(c) != p[i] {
			return false
		}
	}
	return true
}

// byteCost estimates how often a byte occurs in log text (higher = more
// often), to pick the anchor of a search.
func byteCost(c byte) int {
	const common = " etaoinsrhldcu0123456789:.-=/,"
	if i := bytes.IndexByte([]byte(common), c); i >= 0 {
		return 100 - i
	}
	switch {
	case 'a' <= c && c <= 'z':
		return 40
	case 'A' <= c && c <= 'Z':
		return 20
	case c >= utf8.RuneSelf:
		return 30
	}
	return 10
}
