package interrupt

import (
	"errors"
	"fmt"
)

// errEOF is returned when a read runs past the end of the bytes being decoded. The
// caller that knows what it was reading adds the context.
var errEOF = errors.New("unexpected end of data")

// reader decodes the primitive encodings of the WebAssembly binary format from a slice.
// Offsets in its errors are absolute: base is the module offset of b[0].
type reader struct {
	b    []byte
	pos  int
	base int
}

// off reports the absolute module offset of the next byte.
func (r *reader) off() int { return r.base + r.pos }

// done reports whether every byte has been consumed.
func (r *reader) done() bool { return r.pos >= len(r.b) }

// eof returns the error for a read that ran out of bytes at the current offset.
func (r *reader) eof() error {
	return fmt.Errorf("%w at offset %#x", errEOF, r.off())
}

// byte reads one byte.
func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.eof()
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// skip advances past n bytes.
func (r *reader) skip(n int) error {
	if n < 0 || n > len(r.b)-r.pos {
		r.pos = len(r.b)
		return r.eof()
	}
	r.pos += n
	return nil
}

// bytes returns the next n bytes without copying them.
func (r *reader) bytes(n int) ([]byte, error) {
	start := r.pos
	if err := r.skip(n); err != nil {
		return nil, err
	}
	return r.b[start:r.pos], nil
}

// u32 reads an unsigned LEB128 value of at most 32 bits.
func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// u64 reads an unsigned LEB128 value of at most 64 bits.
func (r *reader) u64() (uint64, error) { return r.uleb(64) }

// uleb reads an unsigned LEB128 value that must fit in bits bits, in at most
// ceil(bits/7) bytes, as the spec requires.
func (r *reader) uleb(bits int) (uint64, error) {
	start := r.off()
	var v uint64
	for shift := 0; ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, fmt.Errorf("truncated u%d LEB128 at offset %#x", bits, start)
		}
		if shift+7 > bits { // last byte allowed
			rem := bits - shift
			if c&0x80 != 0 || c>>rem != 0 {
				return 0, fmt.Errorf("u%d LEB128 overflow at offset %#x", bits, start)
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// sleb reads a signed LEB128 value that must fit in bits bits (32, 33 or 64).
func (r *reader) sleb(bits int) (int64, error) {
	start := r.off()
	var v int64
	for shift := 0; ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, fmt.Errorf("truncated s%d LEB128 at offset %#x", bits, start)
		}
		if shift+7 > bits { // last byte allowed
			rem := bits - shift
			// The unused high bits must repeat the sign bit (bit rem-1).
			mask := byte(0x7f) &^ (byte(1)<<(rem-1) - 1)
			if c&0x80 != 0 || (c&mask != 0 && c&mask != mask) {
				return 0, fmt.Errorf("s%d LEB128 overflow at offset %#x", bits, start)
			}
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v, nil
		}
	}
}

// name reads a length-prefixed name. It does not check UTF-8: only the runtime does.
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// appendU32 appends v as a minimal unsigned LEB128.
func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
