package component

import (
	"fmt"
	"unicode/utf8"
)

// reader is a bounds-checked cursor over a byte slice. Every read returns an
// error wrapping ErrMalformed instead of panicking.
type reader struct {
	b    []byte
	pos  int
	base int // offset of b[0] in the whole input, for messages
}

func newReader(b []byte, base int) *reader { return &reader{b: b, base: base} }

func (r *reader) eof() bool      { return r.pos >= len(r.b) }
func (r *reader) offset() int    { return r.base + r.pos }
func (r *reader) remaining() int { return len(r.b) - r.pos }

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("offset 0x%x: %s: %w", r.offset(), fmt.Sprintf(format, args...), ErrMalformed)
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.errf("unexpected end")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) peek() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.errf("unexpected end")
	}
	return r.b[r.pos], nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, r.errf("length %d exceeds the %d bytes left", n, r.remaining())
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes whose value fits 32 bits.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c&0xf0 != 0 {
			return 0, r.errf("LEB128 u32 overflow")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.errf("LEB128 u32 too long")
}

// s33 reads a signed LEB128 of at most 5 bytes (33 significant bits).
func (r *reader) s33() (int64, error) {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if i == 4 {
				// 33 bits: the top 3 payload bits must be a sign extension.
				if hi := c & 0x70; hi != 0 && hi != 0x70 {
					return 0, r.errf("LEB128 s33 overflow")
				}
			}
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
	return 0, r.errf("LEB128 s33 too long")
}

// skipLEB skips any LEB128 of at most 10 bytes (s64/u64 immediates).
func (r *reader) skipLEB() error {
	for i := 0; i < 10; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.errf("LEB128 too long")
}

// count reads a vector length and checks it against the bytes left, assuming
// each element takes at least minSize bytes; this bounds every allocation by
// the input size.
func (r *reader) count(minSize int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(r.remaining()) {
		return 0, r.errf("vector of %d elements exceeds the %d bytes left", n, r.remaining())
	}
	return int(n), nil
}

// name reads a length-prefixed UTF-8 string.
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(r.remaining()) {
		return "", r.errf("name length %d exceeds the %d bytes left", n, r.remaining())
	}
	b, _ := r.bytes(int(n))
	if !utf8.Valid(b) {
		return "", r.errf("name is not valid UTF-8")
	}
	return string(b), nil
}

// idx reads a u32 index and checks it against the size of its index space.
func (r *reader) idx(space string, size int) (int, error) {
	v, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(v) >= uint64(size) {
		return 0, r.errf("%s index %d out of range (%d defined)", space, v, size)
	}
	return int(v), nil
}
