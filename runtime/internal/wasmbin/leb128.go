package wasmbin

// LEB128, as the binary format uses it: an N-bit integer takes at most
// ceil(N/7) bytes, and the unused bits of the last byte must be zero (unsigned)
// or copies of the sign bit (signed). Longer or out-of-range encodings are
// errors, as the spec requires.

// U32 reads an unsigned 32-bit LEB128.
func (r *Reader) U32() (uint32, error) {
	if r.pos < len(r.b) {
		if c := r.b[r.pos]; c < 0x80 { // the common one-byte case, inlined
			r.pos++
			return uint32(c), nil
		}
	}
	return r.u32()
}

// u32 is U32 beyond the first byte: the bounds of uleb(32), unrolled for
// the most frequent encoding of the format.
func (r *Reader) u32() (uint32, error) {
	start := r.pos
	var v uint32
	for shift := 0; ; shift += 7 {
		if r.pos >= len(r.b) {
			return 0, r.lebErr(start, "truncated u32 LEB128")
		}
		c := r.b[r.pos]
		r.pos++
		if shift == 28 && c > 0x0f { // a continuation or unused bits in the fifth byte
			return 0, r.lebErr(start, "u32 LEB128 overflow")
		}
		v |= uint32(c&0x7f) << shift
		if c < 0x80 { // always so in an accepted fifth byte
			return v, nil
		}
	}
}

// lebErr is the error of the LEB128 that starts at position start.
//
//go:noinline
func (r *Reader) lebErr(start int, msg string) error { return Errorf(r.base+start, "%s", msg) }

// U64 reads an unsigned 64-bit LEB128.
func (r *Reader) U64() (uint64, error) { return r.uleb(64) }

// S32 reads a signed 32-bit LEB128.
func (r *Reader) S32() (int32, error) {
	v, err := r.sleb(32)
	return int32(v), err
}

// S33 reads a signed 33-bit LEB128 (block types and heap types).
func (r *Reader) S33() (int64, error) { return r.sleb(33) }

// S64 reads a signed 64-bit LEB128.
func (r *Reader) S64() (int64, error) { return r.sleb(64) }

// uleb reads an unsigned LEB128 that fits in bits bits.
func (r *Reader) uleb(bits int) (uint64, error) {
	start := r.Offset()
	var v uint64
	for shift := 0; ; shift += 7 {
		c, err := r.Byte()
		if err != nil {
			return 0, Errorf(start, "truncated u%d LEB128", bits)
		}
		if shift+7 > bits { // the last byte allowed
			if c&0x80 != 0 || c>>(bits-shift) != 0 {
				return 0, Errorf(start, "u%d LEB128 overflow", bits)
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// sleb reads a signed LEB128 that fits in bits bits.
func (r *Reader) sleb(bits int) (int64, error) {
	start := r.Offset()
	var v int64
	for shift := 0; ; shift += 7 {
		c, err := r.Byte()
		if err != nil {
			return 0, Errorf(start, "truncated s%d LEB128", bits)
		}
		if shift+7 > bits { // the last byte allowed
			// Its bits above the sign bit (bit bits-shift-1) must repeat it.
			unused := byte(0x7f) &^ (byte(1)<<(bits-shift-1) - 1)
			if c&0x80 != 0 || (c&unused != 0 && c&unused != unused) {
				return 0, Errorf(start, "s%d LEB128 overflow", bits)
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

// AppendU32 appends v as a minimal unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendS64 appends v as a minimal signed LEB128 (valid as s32 or s33 when v
// fits).
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendName appends s as a length-prefixed name.
func AppendName(b []byte, s string) []byte {
	return append(AppendU32(b, uint32(len(s))), s...)
}
