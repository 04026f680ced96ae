package abi

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Encoding is a canonical-ABI string encoding: the string-encoding option
// of a canon lift or canon lower. It says how the guest stores strings; the
// host's strings are always UTF-8.
type Encoding uint8

const (
	// UTF8 strings are (ptr, byte length), alignment 1. The default.
	UTF8 Encoding = iota
	// UTF16 strings are (ptr, code units) of little-endian UTF-16,
	// alignment 2.
	UTF16
	// Latin1UTF16 strings are (ptr, tagged length), alignment 2: without
	// UTF16Tag the length counts Latin-1 bytes, with it (the tag cleared)
	// UTF-16 code units.
	Latin1UTF16
)

// UTF16Tag is the high bit of a latin1+utf16 string length that marks the
// string as UTF-16 (the canonical ABI's UTF16_TAG).
const UTF16Tag = 1 << 31

func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

func (e Encoding) valid() bool { return e <= Latin1UTF16 }

// liftString16 is liftString for the utf16 and latin1+utf16 encodings
// (the canonical ABI's load_string_from_range): it checks alignment 2 and
// bounds, decodes the guest's code units (trapping on an unpaired
// surrogate) and copies the UTF-8 result into the arena.
//
//go:noinline
func (l *Lifter) liftString16(dst *Value, mem Memory, ptr, tagged uint32) error {
	latin1 := false
	units := tagged
	switch {
	case l.enc == Latin1UTF16 && tagged&UTF16Tag == 0:
		latin1 = true
	case l.enc == Latin1UTF16:
		units = tagged ^ UTF16Tag
	case tagged&UTF16Tag != 0:
		return errorf("string length %#x has the latin1+utf16 tag bit set, but the encoding is utf16", tagged)
	}
	if ptr&1 != 0 {
		return errorf("string pointer %#x is not aligned to 2", ptr)
	}
	size := uint64(units)
	if !latin1 {
		size *= 2
	}
	src, err := read(mem, ptr, size, "string")
	if err != nil {
		return err
	}
	if units == 0 {
		return nil
	}
	// Every code unit (Latin-1 byte) gives at least one UTF-8 byte: charge
	// that before converting, so MaxBytes also bounds the scratch buffer
	// (at most 3 bytes per unit), and the rest once the size is known.
	if err := l.charge(int64(units)); err != nil {
		return err
	}
	l.scratch = l.scratch[:0]
	if latin1 {
		l.scratch = appendLatin1(l.scratch, src)
	} else if l.scratch, err = appendUTF16(l.scratch, src); err != nil {
		e := err.(*Error)
		e.Msg = fmt.Sprintf("string at %#x (%d code units) %s", ptr, units, e.Msg)
		return e
	}
	if err := l.charge(int64(len(l.scratch)) - int64(units)); err != nil {
		return err
	}
	b := l.copyBytes(l.scratch)
	if cap(l.scratch) > arenaBlock {
		l.scratch = nil // do not keep a huge string's buffer
	}
	dst.Str = unsafe.String(&b[0], len(b))
	return nil
}

// appendLatin1 appends the UTF-8 encoding of the Latin-1 bytes src to b.
func appendLatin1(b, src []byte) []byte {
	for _, c := range src {
		if c < utf8.RuneSelf {
			b = append(b, c)
		} else {
			b = append(b, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return b
}

// appendUTF16 appends the UTF-8 encoding of the little-endian UTF-16 code
// units src to b. An unpaired surrogate is an error (the canonical ABI
// decodes strictly and traps), whose message names the code unit.
func appendUTF16(b, src []byte) ([]byte, error) {
	n := len(src) / 2
	for i := 0; i < n; i++ {
		u := rune(binary.LittleEndian.Uint16(src[2*i:]))
		switch {
		case u < utf8.RuneSelf:
			b = append(b, byte(u))
			continue
		case utf16.IsSurrogate(u):
			if u < 0xDC00 && i+1 < n {
				if r := utf16.DecodeRune(u, rune(binary.LittleEndian.Uint16(src[2*i+2:]))); r != utf8.RuneError {
					b = utf8.AppendRune(b, r)
					i++
					continue
				}
			}
			return b, errorf("has an unpaired surrogate %#04x at code unit %d", u, i)
		}
		b = utf8.AppendRune(b, u)
	}
	return b, nil
}

// storeString16 is storeString for the utf16 and latin1+utf16 encodings:
// it returns the pointer and the (tagged) length of s stored in the guest,
// with the realloc calls the canonical ABI prescribes.
func (w *Lowerer) storeString16(ctx context.Context, s string) (ptr, n uint32, err error) {
	if len(s) > MaxStringByteLength {
		return 0, 0, errorf("string of %d bytes exceeds the limit of %d", len(s), MaxStringByteLength)
	}
	if !utf8.ValidString(s) {
		return 0, 0, errorf("string is not valid UTF-8")
	}
	if w.enc == UTF16 {
		return w.storeUTF16(ctx, s)
	}
	return w.storeLatin1OrUTF16(ctx, s)
}

// storeUTF16 follows store_utf8_to_utf16: realloc(0, 0, 2, 2*len(s)), the
// UTF-16 code units, then a shrinking realloc when they take less.
func (w *Lowerer) storeUTF16(ctx context.Context, s string) (ptr, n uint32, err error) {
	worst := 2 * uint64(len(s))
	if worst > MaxStringByteLength {
		return 0, 0, errorf("string of %d bytes needs up to %d bytes as UTF-16, over the limit of %d", len(s), worst, MaxStringByteLength)
	}
	ptr, err = w.realloc(ctx, 0, 0, 2, worst)
	if err != nil {
		return 0, 0, err
	}
	enc := appendUTF16LE(make([]byte, 0, worst), s)
	if !w.Mem.Write(ptr, enc) {
		return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, len(enc))
	}
	if uint64(len(enc)) < worst {
		if ptr, err = w.realloc(ctx, ptr, uint32(worst), 2, uint64(len(enc))); err != nil {
			return 0, 0, err
		}
	}
	return ptr, uint32(len(enc) / 2), nil
}

// storeLatin1OrUTF16 follows store_string_to_latin1_or_utf16: it allocates
// len(s) bytes and stores Latin-1 while every char fits, shrinking the block
// at the end if needed. At the first char above U+00FF it grows the block
// to 2*len(s) bytes, inflates the Latin-1 bytes already stored (read back
// from the grown block), stores the rest as UTF-16, shrinks the block to
// what the UTF-16 takes and returns the length with UTF16Tag.
func (w *Lowerer) storeLatin1OrUTF16(ctx context.Context, s string) (ptr, n uint32, err error) {
	srcUnits := uint32(len(s))
	ptr, err = w.realloc(ctx, 0, 0, 2, uint64(srcUnits))
	if err != nil {
		return 0, 0, err
	}
	latin1 := make([]byte, 0, len(s))
	for i, r := range s {
		if r < 0x100 {
			latin1 = append(latin1, byte(r))
			continue
		}
		if !w.Mem.Write(ptr, latin1) {
			return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, len(latin1))
		}
		return w.inflateToUTF16(ctx, ptr, srcUnits, uint32(len(latin1)), s[i:])
	}
	if !w.Mem.Write(ptr, latin1) {
		return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, len(latin1))
	}
	if uint32(len(latin1)) < srcUnits {
		if ptr, err = w.realloc(ctx, ptr, srcUnits, 2, uint64(len(latin1))); err != nil {
			return 0, 0, err
		}
	}
	return ptr, uint32(len(latin1)), nil
}

// inflateToUTF16 is the second half of storeLatin1OrUTF16: done Latin-1
// bytes are stored at ptr in a block of srcUnits bytes, rest is the string
// from its first char above U+00FF.
func (w *Lowerer) inflateToUTF16(ctx context.Context, ptr, srcUnits, done uint32, rest string) (uint32, uint32, error) {
	worst := 2 * uint64(srcUnits)
	if worst > MaxStringByteLength {
		return 0, 0, errorf("string of %d bytes needs up to %d bytes as UTF-16, over the limit of %d", srcUnits, worst, MaxStringByteLength)
	}
	ptr, err := w.realloc(ctx, ptr, srcUnits, 2, worst)
	if err != nil {
		return 0, 0, err
	}
	prefix, ok := w.Mem.Read(ptr, done)
	if !ok {
		return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, done)
	}
	enc := make([]byte, 2*done, worst)
	for j, c := range prefix {
		enc[2*j] = c
	}
	enc = appendUTF16LE(enc, rest)
	if !w.Mem.Write(ptr, enc) {
		return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, len(enc))
	}
	if worst > uint64(len(enc)) {
		if ptr, err = w.realloc(ctx, ptr, uint32(worst), 2, uint64(len(enc))); err != nil {
			return 0, 0, err
		}
	}
	return ptr, uint32(len(enc)/2) | UTF16Tag, nil
}

// appendUTF16LE appends the little-endian UTF-16 encoding of the valid
// UTF-8 string s to b.
func appendUTF16LE(b []byte, s string) []byte {
	for _, r := range s {
		if r < 0x10000 {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
			continue
		}
		r1, r2 := utf16.EncodeRune(r)
		b = binary.LittleEndian.AppendUint16(b, uint16(r1))
		b = binary.LittleEndian.AppendUint16(b, uint16(r2))
	}
	return b
}
