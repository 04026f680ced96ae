package wit

import (
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // identifier or keyword; escaped when written with %
	tVersion         // semantic version (starts with a digit)
	tPunct           // one of { } ( ) < > , ; : . = / @ * _ ->
)

type token struct {
	kind    tokKind
	text    string
	escaped bool
	pos     pos
}

// isKeyword reports whether s may only be used as a name when %-escaped.
func isKeyword(s string) bool {
	switch s {
	case "use", "type", "func", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
		"f32", "f64", "float32", "float64", "char", "resource", "own", "borrow",
		"record", "flags", "variant", "enum", "bool", "string", "option", "result",
		"future", "stream", "error-context", "list", "as", "from", "static",
		"interface", "tuple", "import", "export", "world", "package", "constructor",
		"async", "include", "with":
		return true
	}
	return false
}

// lex splits src into tokens, dropping whitespace and comments.
func lex(file, src string) []token {
	var toks []token
	line, lineStart := 1, 0
	i := 0
	at := func(j int) pos { return pos{file, line, j - lineStart + 1} }
	peekAt := func(j int) byte {
		if j < len(src) {
			return src[j]
		}
		return 0
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			i++
			line, lineStart = line+1, i
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '/' && peekAt(i+1) == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && peekAt(i+1) == '*':
			start := at(i)
			depth := 0
			for {
				if i >= len(src) {
					fail(start, "unterminated block comment")
				}
				switch {
				case src[i] == '/' && peekAt(i+1) == '*':
					depth++
					i += 2
				case src[i] == '*' && peekAt(i+1) == '/':
					depth--
					i += 2
				case src[i] == '\n':
					i++
					line, lineStart = line+1, i
				default:
					i++
				}
				if depth == 0 {
					break
				}
			}
			continue
		}
		p := at(i)
		switch {
		case c == '-' && peekAt(i+1) == '>':
			toks = append(toks, token{kind: tPunct, text: "->", pos: p})
			i += 2
		case strings.IndexByte("{}()<>,;:.=/@*_", c) >= 0:
			toks = append(toks, token{kind: tPunct, text: src[i : i+1], pos: p})
			i++
		case c == '%' || isLetter(c):
			escaped := c == '%'
			if escaped {
				i++
			}
			start := i
			for i < len(src) && (isAlnum(src[i]) || src[i] == '-') {
				i++
			}
			text := src[start:i]
			if !validIdent(text) {
				if text == "" {
					fail(p, "expected an identifier after %%")
				}
				fail(p, "invalid identifier %q: words are lowercase or uppercase letters and digits, joined by single dashes, each starting with a letter", text)
			}
			toks = append(toks, token{kind: tIdent, text: text, escaped: escaped, pos: p})
		case isDigit(c):
			start := i
			for i < len(src) && (isDigit(src[i]) || src[i] == '.' && isDigit(peekAt(i+1))) {
				i++
			}
			for _, sep := range []byte{'-', '+'} {
				if peekAt(i) == sep && isAlnum(peekAt(i+1)) {
					i++
					for i < len(src) && (isAlnum(src[i]) || src[i] == '-' || src[i] == '.' && isAlnum(peekAt(i+1))) {
						i++
					}
				}
			}
			toks = append(toks, token{kind: tVersion, text: src[start:i], pos: p})
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			fail(p, "unexpected character %q", r)
		}
	}
	toks = append(toks, token{kind: tEOF, pos: at(i)})
	return toks
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

// validIdent reports whether s is a WIT identifier (without %): dash-separated
// words, each a letter followed by letters and digits, all of one case.
func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, w := range strings.Split(s, "-") {
		if w == "" || !isLetter(w[0]) {
			return false
		}
		lower, upper := false, false
		for j := 0; j < len(w); j++ {
			switch {
			case 'a' <= w[j] && w[j] <= 'z':
				lower = true
			case 'A' <= w[j] && w[j] <= 'Z':
				upper = true
			}
		}
		if lower && upper {
			return false
		}
	}
	return true
}

// validVersion reports whether s is a semantic version: three numbers, then
// optional -prerelease and +build parts.
func validVersion(s string) bool {
	core := s
	if j := strings.IndexAny(core, "-+"); j >= 0 {
		core = core[:j]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 1 && p[0] == '0' {
			return false
		}
	}
	return true
}
