package wasmbin

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func rep(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// lebCase is one encoding and what each reader makes of it: the value, or
// the error text (which includes the offset: inputs start at offset 0x10).
type lebCase struct {
	name string
	in   []byte
	want int64
	err  string
}

func checkLEB[T uint32 | uint64 | int32 | int64](t *testing.T, read func(*Reader) (T, error), cases []lebCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in, 0x10)
			got, err := read(r)
			if tc.err != "" {
				var e *Error
				if err == nil || err.Error() != tc.err || !errors.As(err, &e) {
					t.Fatalf("got %d, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || int64(got) != tc.want || !r.Done() {
				t.Fatalf("got %d, %v (done %v); want %d", got, err, r.Done(), tc.want)
			}
		})
	}
}

func TestU32(t *testing.T) {
	checkLEB(t, (*Reader).U32, []lebCase{
		{"zero", []byte{0x00}, 0, ""},
		{"one byte max", []byte{0x7f}, 127, ""},
		{"two bytes", []byte{0xe5, 0x8e, 0x26}, 624485, ""},
		{"max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, math.MaxUint32, ""},
		{"padded zero (overlong but within 5 bytes)", []byte{0x80, 0x80, 0x80, 0x80, 0x00}, 0, ""},
		{"padded one", []byte{0x81, 0x00}, 1, ""},
		{"unused bits set in the fifth byte", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, "u32 LEB128 overflow at offset 0x10"},
		{"top bit of the fifth byte", []byte{0x80, 0x80, 0x80, 0x80, 0x40}, 0, "u32 LEB128 overflow at offset 0x10"},
		{"six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "u32 LEB128 overflow at offset 0x10"},
		{"empty", nil, 0, "truncated u32 LEB128 at offset 0x10"},
		{"truncated", []byte{0x80}, 0, "truncated u32 LEB128 at offset 0x10"},
		{"truncated at four bytes", []byte{0xff, 0xff, 0xff, 0xff}, 0, "truncated u32 LEB128 at offset 0x10"},
	})
}

func TestU64(t *testing.T) {
	checkLEB(t, (*Reader).U64, []lebCase{
		{"zero", []byte{0x00}, 0, ""},
		{"max int64", append(rep(0xff, 8), 0x7f), math.MaxInt64, ""},
		{"padded zero", append(rep(0x80, 9), 0x00), 0, ""},
		{"unused bits set in the tenth byte", append(rep(0xff, 9), 0x02), 0, "u64 LEB128 overflow at offset 0x10"},
		{"eleven bytes", append(rep(0x80, 10), 0x00), 0, "u64 LEB128 overflow at offset 0x10"},
		{"truncated", rep(0xff, 9), 0, "truncated u64 LEB128 at offset 0x10"},
	})
	r := NewReader(append(rep(0xff, 9), 0x01), 0)
	if v, err := r.U64(); err != nil || v != math.MaxUint64 {
		t.Errorf("u64 max = %d, %v", v, err)
	}
}

func TestS32(t *testing.T) {
	checkLEB(t, (*Reader).S32, []lebCase{
		{"minus one", []byte{0x7f}, -1, ""},
		{"63", []byte{0x3f}, 63, ""},
		{"64 needs two bytes", []byte{0xc0, 0x00}, 64, ""},
		{"-64", []byte{0x40}, -64, ""},
		{"-65", []byte{0xbf, 0x7f}, -65, ""},
		{"min", []byte{0x80, 0x80, 0x80, 0x80, 0x78}, math.MinInt32, ""},
		{"max", []byte{0xff, 0xff, 0xff, 0xff, 0x07}, math.MaxInt32, ""},
		{"minus one padded", []byte{0xff, 0xff, 0xff, 0xff, 0x7f}, -1, ""},
		{"max plus one", []byte{0x80, 0x80, 0x80, 0x80, 0x08}, 0, "s32 LEB128 overflow at offset 0x10"},
		{"sign bits disagree", []byte{0xff, 0xff, 0xff, 0xff, 0x4f}, 0, "s32 LEB128 overflow at offset 0x10"},
		{"six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "s32 LEB128 overflow at offset 0x10"},
		{"truncated", []byte{0x80, 0x80}, 0, "truncated s32 LEB128 at offset 0x10"},
	})
}

func TestS33(t *testing.T) {
	checkLEB(t, (*Reader).S33, []lebCase{
		{"max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, ""},
		{"min", []byte{0x80, 0x80, 0x80, 0x80, 0x70}, -1 << 32, ""},
		{"empty block type byte is -64", []byte{0x40}, -64, ""},
		{"padded type index", []byte{0x83, 0x80, 0x80, 0x80, 0x00}, 3, ""},
		{"sign bits disagree", []byte{0xff, 0xff, 0xff, 0xff, 0x2f}, 0, "s33 LEB128 overflow at offset 0x10"},
		{"continuation in the fifth byte", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "s33 LEB128 overflow at offset 0x10"},
		{"truncated", []byte{0xff}, 0, "truncated s33 LEB128 at offset 0x10"},
	})
}

func TestS64(t *testing.T) {
	checkLEB(t, (*Reader).S64, []lebCase{
		{"min", append(rep(0x80, 9), 0x7f), math.MinInt64, ""},
		{"max", append(rep(0xff, 9), 0x00), math.MaxInt64, ""},
		{"small negative", []byte{0x40}, -64, ""},
		{"max plus one", append(rep(0x80, 9), 0x01), 0, "s64 LEB128 overflow at offset 0x10"},
		{"bit 64 set", append(rep(0x80, 9), 0x02), 0, "s64 LEB128 overflow at offset 0x10"},
		{"eleven bytes", append(rep(0x80, 10), 0x00), 0, "s64 LEB128 overflow at offset 0x10"},
		{"truncated", rep(0x80, 9), 0, "truncated s64 LEB128 at offset 0x10"},
	})
}

// TestLEBOffsets: the error names where the LEB128 starts, not where the
// reading stopped.
func TestLEBOffsets(t *testing.T) {
	r := NewReader([]byte{0x01, 0x80, 0x80}, 0x100)
	if v, err := r.U32(); err != nil || v != 1 {
		t.Fatalf("first U32 = %d, %v", v, err)
	}
	if _, err := r.U32(); err == nil || err.Error() != "truncated u32 LEB128 at offset 0x101" {
		t.Fatalf("second U32 error %v", err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	for _, v := range []uint32{0, 1, 127, 128, 16383, 16384, 1 << 21, 1<<28 - 1, 1 << 28, math.MaxUint32} {
		b := AppendU32(nil, v)
		r := NewReader(b, 0)
		if got, err := r.U32(); err != nil || got != v || !r.Done() {
			t.Errorf("U32(AppendU32(%d) = % x) = %d, %v", v, b, got, err)
		}
		if len(b) != (bitsLen(uint64(v))+6)/7 && !(v == 0 && len(b) == 1) {
			t.Errorf("AppendU32(%d) = % x is not minimal", v, b)
		}
	}
	for _, v := range []int64{0, -1, 63, 64, -64, -65, 1<<31 - 1, -1 << 31, 1<<32 - 1, -1 << 32, math.MaxInt64, math.MinInt64} {
		b := AppendS64(nil, v)
		r := NewReader(b, 0)
		if got, err := r.S64(); err != nil || got != v || !r.Done() {
			t.Errorf("S64(AppendS64(%d) = % x) = %d, %v", v, b, got, err)
		}
	}
	if b := AppendName(nil, "héllo"); !bytes.Equal(b, append([]byte{6}, "héllo"...)) {
		t.Errorf("AppendName = % x", b)
	}
}

func bitsLen(v uint64) int {
	n := 0
	for ; v != 0; v >>= 1 {
		n++
	}
	return n
}

// FuzzLEB128 checks, for any input, that the readers never panic, that a
// narrower read that succeeds agrees with the wider one, and that a value
// re-encoded minimally decodes to itself.
func FuzzLEB128(f *testing.F) {
	for _, s := range [][]byte{{0x00}, {0x7f}, {0xff, 0xff, 0xff, 0xff, 0x0f}, {0x80, 0x80, 0x80, 0x80, 0x78}, append(rep(0x80, 9), 0x7f), {0x80}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		u32, err32 := NewReader(in, 0).U32()
		u64, err64 := NewReader(in, 0).U64()
		if err32 == nil && (err64 != nil || uint64(u32) != u64) {
			t.Fatalf("U32 = %d but U64 = %d, %v", u32, u64, err64)
		}
		if err32 == nil {
			if got, _ := NewReader(AppendU32(nil, u32), 0).U32(); got != u32 {
				t.Fatalf("U32 round trip %d -> %d", u32, got)
			}
		}
		s32, errS32 := NewReader(in, 0).S32()
		s33, errS33 := NewReader(in, 0).S33()
		s64, errS64 := NewReader(in, 0).S64()
		if errS32 == nil && (errS33 != nil || int64(s32) != s33) {
			t.Fatalf("S32 = %d but S33 = %d, %v", s32, s33, errS33)
		}
		if errS33 == nil && (errS64 != nil || s33 != s64) {
			t.Fatalf("S33 = %d but S64 = %d, %v", s33, s64, errS64)
		}
		if errS64 == nil {
			if got, _ := NewReader(AppendS64(nil, s64), 0).S64(); got != s64 {
				t.Fatalf("S64 round trip %d -> %d", s64, got)
			}
		}
	})
}
