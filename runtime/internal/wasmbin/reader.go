package wasmbin

import (
	"fmt"
	"unicode/utf8"
)

// Error is a decoding error at a known offset of the input. It reads
// "msg at offset X", or "item at offset X: msg" when it names the item there.
type Error struct {
	Offset int    // offset in the whole input
	Item   string // optional: what starts at Offset, such as "code section"
	Msg    string // what is wrong there
}

func (e *Error) Error() string {
	if e.Item != "" {
		return fmt.Sprintf("%s at offset %#x: %s", e.Item, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s at offset %#x", e.Msg, e.Offset)
}

// Errorf returns an *Error at offset off.
func Errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Reader is a cursor over a byte slice that decodes the primitive encodings of
// the binary format. Every read checks its bounds and returns an error instead
// of panicking; on error the position is unspecified and the Reader should be
// dropped.
type Reader struct {
	b    []byte
	pos  int
	base int // offset of b[0] in the whole input
}

// NewReader returns a Reader over b, whose first byte is at offset base of the
// whole input.
func NewReader(b []byte, base int) *Reader { return &Reader{b: b, base: base} }

// Done reports whether every byte has been consumed.
func (r *Reader) Done() bool { return r.pos >= len(r.b) }

// Offset returns the offset of the next byte in the whole input.
func (r *Reader) Offset() int { return r.base + r.pos }

// Pos returns the position of the next byte within the Reader's slice.
func (r *Reader) Pos() int { return r.pos }

// Len returns the number of bytes left.
func (r *Reader) Len() int { return len(r.b) - r.pos }

// Rest returns the bytes left, without consuming them.
func (r *Reader) Rest() []byte { return r.b[r.pos:] }

// Errorf returns an *Error at the Reader's current offset.
func (r *Reader) Errorf(format string, args ...any) error {
	return Errorf(r.Offset(), format, args...)
}

// endErr is the error of a read that ran out of bytes. It is kept out of
// line so that the reads themselves stay small enough to be inlined.
//
//go:noinline
func (r *Reader) endErr() error { return Errorf(r.base+len(r.b), "unexpected end of data") }

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.pos < len(r.b) {
		r.pos++
		return r.b[r.pos-1], nil
	}
	return 0, r.endErr()
}

// Peek returns the next byte without consuming it.
func (r *Reader) Peek() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.endErr()
	}
	return r.b[r.pos], nil
}

// Skip advances past n bytes.
func (r *Reader) Skip(n int) error {
	if uint(n) > uint(len(r.b)-r.pos) { // n < 0 too
		return r.endErr()
	}
	r.pos += n
	return nil
}

// Bytes returns the next n bytes without copying them. The result's capacity
// ends with it, so appending to it never overwrites the input.
func (r *Reader) Bytes(n int) ([]byte, error) {
	if uint(n) > uint(len(r.b)-r.pos) { // n < 0 too
		return nil, r.endErr()
	}
	r.pos += n
	return r.b[r.pos-n : r.pos : r.pos], nil
}

// Count reads a vector length and checks it against the bytes left, each
// element taking at least minSize bytes (at least 1). Every slice sized from
// the result is thus bounded by the input size.
func (r *Reader) Count(minSize int) (int, error) {
	at := r.Offset()
	n, err := r.U32()
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(r.Len()) {
		return 0, Errorf(at, "vector of %d elements exceeds the %d bytes left", n, r.Len())
	}
	return int(n), nil
}

// Vec reads a vector length with [Reader.Count] and calls each for every
// element, stopping at the first error.
func (r *Reader) Vec(minSize int, each func(i int) error) error {
	n, err := r.Count(minSize)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := each(i); err != nil {
			return err
		}
	}
	return nil
}

// Prefixed reads a byte string prefixed by its u32 length: a name, without
// checking its encoding, or a function body.
func (r *Reader) Prefixed() ([]byte, error) {
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	return r.Bytes(int(n))
}

// Name reads a length-prefixed name, which must be valid UTF-8.
func (r *Reader) Name() (string, error) {
	at := r.Offset()
	b, err := r.Prefixed()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", Errorf(at, "name is not valid UTF-8")
	}
	return string(b), nil
}

// Expect reads one byte and fails unless it is want; what names the byte in
// the error.
func (r *Reader) Expect(want byte, what string) error {
	at := r.Offset()
	c, err := r.Byte()
	if err != nil {
		return err
	}
	if c != want {
		return Errorf(at, "%s 0x%02x, want 0x%02x", what, c, want)
	}
	return nil
}

// CheckDone fails unless every byte has been consumed.
func (r *Reader) CheckDone() error {
	if r.Done() {
		return nil
	}
	return r.Errorf("%d trailing bytes", r.Len())
}
