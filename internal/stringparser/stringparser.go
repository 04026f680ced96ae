// Package stringparser is a native Go implementation of the example
// string_parser plugin (testdata/plugins/src/c/string_parser.c), producing
// exactly the rows the plugin produces, in both of its builds. It is the
// baseline that benchmarks compare wasm parsers against.
//
// It implements driver.Parser; it imports only the runtime's data types.
package stringparser

import (
	"bytes"
	"context"
	"hash/maphash"
	"strconv"
	"unicode/utf8"

	"github.com/chiphost/chiphost/runtime"
)

// Parser splits input into lines like string_parser: the content is the
// bytes before '\n' ('\r' is kept). A tail without a '\n' is answered
// "incomplete", unless the same input comes again right after that answer
// (the driver's repeat call: no more input will come); then all of it is a
// line. Each message has two columns: the decimal byte length of the
// (prefixed) line and the line itself.
type Parser struct {
	Prefix string // prepended with a space when not empty
	Strict bool   // fail on invalid UTF-8 instead of replacing it (lossy=false)
	// Chipmunk gives the rows of the Chipmunk-faithful build
	// (compat/string_parser_chipmunk): a tail without a '\n' is a line at
	// once, without its last byte, and everything is consumed.
	Chipmunk bool

	items []runtime.Item
	msgs  []runtime.Message
	cols  []string
	buf   []byte

	seed        maphash.Seed
	seeded      bool
	tailPending bool // the last call answered incomplete for an input of tailLen bytes hashing to tailHash
	tailLen     int
	tailHash    uint64
}

// isRepeat reports whether data (without a '\n') is the input the last call
// answered incomplete for; otherwise it remembers data.
func (p *Parser) isRepeat(data []byte) bool {
	if !p.seeded {
		p.seed, p.seeded = maphash.MakeSeed(), true
	}
	h := maphash.Bytes(p.seed, data)
	if p.tailPending && p.tailLen == len(data) && p.tailHash == h {
		p.tailPending = false
		return true
	}
	p.tailPending, p.tailLen, p.tailHash = true, len(data), h
	return false
}

// Parse implements driver.Parser.
func (p *Parser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	p.items, p.msgs, p.cols, p.buf = p.items[:0], p.msgs[:0], p.cols[:0], p.buf[:0]
	lastTail := false
	if !p.Chipmunk {
		if len(data) > 0 && bytes.IndexByte(data, '\n') < 0 {
			if !p.isRepeat(data) {
				return nil, &runtime.Error{Kind: runtime.KindPluginError, Plugin: "string_parser", Op: "parse", Code: "incomplete"}
			}
			lastTail = true
		}
		p.tailPending = false
	}
	for off := 0; off < len(data); {
		var line []byte
		var consumed int
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			line, consumed = data[off:off+i], i+1
		} else if p.Chipmunk {
			line, consumed = data[off:len(data)-1], len(data)-off
		} else if lastTail {
			line, consumed = data[off:], len(data)-off
		} else {
			break
		}
		s, ok := p.decode(line)
		if !ok {
			if len(p.items) == 0 {
				_, err := utf8Error(line)
				return nil, &runtime.Error{Kind: runtime.KindPluginError, Plugin: "string_parser", Op: "parse", Code: "parse", Err: err}
			}
			break
		}
		if p.Prefix != "" {
			s = p.Prefix + " " + s
		}
		p.cols = append(p.cols, strconv.Itoa(len(s)), s)
		p.msgs = append(p.msgs, runtime.Message{})
		p.items = append(p.items, runtime.Item{Consumed: uint64(consumed)})
		off += consumed
	}
	for i := range p.items {
		p.msgs[i].Columns = p.cols[2*i : 2*i+2 : 2*i+2]
		p.items[i].Message = &p.msgs[i]
	}
	return p.items, nil
}

func (p *Parser) decode(line []byte) (string, bool) {
	if utf8.Valid(line) {
		return string(line), true
	}
	if p.Strict {
		return "", false
	}
	return Lossy(line), true
}

// Lossy decodes b as Rust's String::from_utf8_lossy does: each maximal
// invalid subpart becomes one U+FFFD.
func Lossy(b []byte) string {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			out = append(out, b[:n]...)
			b = b[n:]
			continue
		}
		out = append(out, "\uFFFD"...)
		b = b[invalidLen(b):]
	}
	return string(out)
}

// invalidLen is the length of the maximal subpart of an ill-formed
// sequence at the start of b (Unicode §3.9, table 3-7), at least 1.
func invalidLen(b []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for i := 1; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

// utf8Error describes the first invalid sequence as Rust's Utf8Error does.
func utf8Error(b []byte) (int, error) {
	valid := 0
	for valid < len(b) {
		r, n := utf8.DecodeRune(b[valid:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		valid += n
	}
	rest := b[valid:]
	n := invalidLen(rest)
	if n == len(rest) && n < seqLen(rest[0]) {
		return valid, errorf("Converting to UTF-8 failed. Error incomplete utf-8 byte sequence from index %d", valid)
	}
	return valid, errorf("Converting to UTF-8 failed. Error invalid utf-8 sequence of %d bytes from index %d", n, valid)
}

func seqLen(c byte) int {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 2
	case c >= 0xE0 && c <= 0xEF:
		return 3
	case c >= 0xF0 && c <= 0xF4:
		return 4
	}
	return 1
}
