package abi

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

// parseFixture lowers an Ok parse result of n items, each a columns message
// with two columns, and returns the memory and the return area pointer.
func parseFixture(t testing.TB, n int, col string) (*fakeMem, uint32) {
	t.Helper()
	ctx := context.Background()
	mem := newFakeMem(1 << 16)
	items := make([]Value, n)
	for i := range items {
		items[i] = elems(some(cas(0, cas(1, strs(col, col)))), num(uint64(len(col)+1)))
	}
	ret, _ := mem.realloc(ctx, 0, 0, 4, 16)
	if err := mem.lowerer().LowerTo(ctx, tParseResult, cas(0, elems(items...)), ret); err != nil {
		t.Fatal(err)
	}
	return mem, ret
}

func (m *fakeMem) u32(p uint32) uint32           { return binary.LittleEndian.Uint32(m.b[p:]) }
func (m *fakeMem) put32(p, v uint32)             { binary.LittleEndian.PutUint32(m.b[p:], v) }
func (m *fakeMem) item(ret uint32, i int) uint32 { return m.u32(ret+4) + uint32(i)*96 }

// column returns the address of the (ptr, len) pair of column j of item i.
func (m *fakeMem) column(ret uint32, i, j int) uint32 {
	return m.u32(m.item(ret, i)+20) + uint32(j)*8
}

// TestHostileParseResult checks that each validation rule on the hot path
// triggers its own error, with the value path.
func TestHostileParseResult(t *testing.T) {
	sig := ExportSignature(fParse)
	tests := []struct {
		name    string
		corrupt func(m *fakeMem, ret uint32) uint32 // returns the core result
		want    string
	}{
		{"return area out of bounds", func(m *fakeMem, ret uint32) uint32 { return uint32(len(m.b)) - 8 },
			"abi: result: value at 0xfff8 (16 bytes) is out of bounds"},
		{"return area overflows", func(m *fakeMem, ret uint32) uint32 { return math.MaxUint32 - 3 },
			"abi: result: value at 0xfffffffc (16 bytes) overflows the 32-bit address space"},
		{"return area misaligned", func(m *fakeMem, ret uint32) uint32 { return ret + 2 },
			"abi: result: pointer 0xa is not aligned to 4"},
		{"result discriminant", func(m *fakeMem, ret uint32) uint32 { m.b[ret] = 2; return ret },
			"abi: result: discriminant 2 out of range for result<list<parse-return>, parse-error> (2 cases)"},
		{"list misaligned", func(m *fakeMem, ret uint32) uint32 { m.put32(ret+4, m.u32(ret+4)+4); return ret },
			"abi: result.ok: list pointer 0x1c is not aligned to 8"},
		{"list out of bounds", func(m *fakeMem, ret uint32) uint32 { m.put32(ret+8, 1000); return ret },
			"abi: result.ok: list at 0x18 (96000 bytes) is out of bounds"},
		{"list length overflows", func(m *fakeMem, ret uint32) uint32 { m.put32(ret+8, math.MaxUint32); return ret },
			"abi: result.ok: list at 0x18 (412316860320 bytes) overflows the 32-bit address space"},
		{"option discriminant", func(m *fakeMem, ret uint32) uint32 { m.b[m.item(ret, 2)] = 7; return ret },
			"abi: result.ok[2].value: discriminant 7 out of range for option<parse-yield> (2 cases)"},
		{"variant discriminant", func(m *fakeMem, ret uint32) uint32 { m.b[m.item(ret, 3)+8] = 3; return ret },
			"abi: result.ok[3].value.some: discriminant 3 out of range for parse-yield (3 cases)"},
		{"invalid UTF-8", func(m *fakeMem, ret uint32) uint32 {
			m.b[m.u32(m.column(ret, 3, 1))+1] = 0xff
			return ret
		}, "abi: result.ok[3].value.some.message.columns[1]: string at 0x201 (5 bytes) is not valid UTF-8"},
		{"surrogate in UTF-8", func(m *fakeMem, ret uint32) uint32 {
			copy(m.b[m.u32(m.column(ret, 0, 0)):], "\xed\xa0\x80") // U+D800 encoded
			return ret
		}, "abi: result.ok[0].value.some.message.columns[0]: string at 0x1a8 (5 bytes) is not valid UTF-8"},
		{"string out of bounds", func(m *fakeMem, ret uint32) uint32 {
			m.put32(m.column(ret, 1, 0)+4, 1<<16)
			return ret
		}, "abi: result.ok[1].value.some.message.columns[0]: string at 0x1c4 (65536 bytes) is out of bounds"},
		{"string length overflows", func(m *fakeMem, ret uint32) uint32 {
			m.put32(m.column(ret, 1, 0)+4, math.MaxUint32)
			return ret
		}, "abi: result.ok[1].value.some.message.columns[0]: string at 0x1c4 (4294967295 bytes) overflows the 32-bit address space"},
		{"column list misaligned", func(m *fakeMem, ret uint32) uint32 {
			m.put32(m.item(ret, 1)+20, m.u32(m.item(ret, 1)+20)+1)
			return ret
		}, "abi: result.ok[1].value.some.message.columns: list pointer 0x1b5 is not aligned to 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem, ret := parseFixture(t, 4, "hello")
			res := tt.corrupt(mem, ret)
			_, err := NewLifter().LiftResult(mem, &sig, []uint64{uint64(res)})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q\n      want %q", err, tt.want)
			}
		})
	}
}

// TestLiftRules checks the scalar rules of the canonical ABI on lifting.
func TestLiftRules(t *testing.T) {
	varU32U64 := &wit.Type{Kind: wit.Variant, Cases: cases("a", tU32, "b", tU64)}
	varF32F64 := &wit.Type{Kind: wit.Variant, Cases: cases("a", tF32, "b", tF64)}
	tests := []struct {
		name    string
		t       *wit.Type
		flat    []uint64 // lifted with LiftFlat when mem is nil
		mem     []byte   // else lifted with LiftFrom at 0
		want    Value
		wantErr string
	}{
		{name: "bool nonzero is true (flat)", t: tBool, flat: []uint64{2}, want: num(1)},
		{name: "bool nonzero is true (memory)", t: tBool, mem: []byte{0xff}, want: num(1)},
		{name: "bool zero", t: tBool, mem: []byte{0}, want: num(0)},
		{name: "u8 ignores high bits", t: tU8, flat: []uint64{0x1ff}, want: num(0xff)},
		{name: "s8 sign-extends", t: tS8, flat: []uint64{0x80}, want: sNum(-128)},
		{name: "s16 sign-extends", t: tS16, mem: []byte{0xfe, 0xff}, want: sNum(-2)},
		{name: "s32 from i32", t: tS32, flat: []uint64{0xffffffff}, want: sNum(-1)},
		{name: "char surrogate", t: tChar, flat: []uint64{0xD800}, wantErr: "abi: char 0xd800 is not a Unicode scalar value"},
		{name: "char too large", t: tChar, mem: []byte{0, 0, 0x11, 0}, wantErr: "abi: char 0x110000 is not a Unicode scalar value"},
		{name: "f32 NaN canonicalised", t: tF32, flat: []uint64{0xffc00001}, want: num(canonicalNaN32)},
		{name: "f64 NaN canonicalised", t: tF64, mem: []byte{1, 0, 0, 0, 0, 0, 0xf0, 0xff}, want: num(canonicalNaN64)},
		{name: "flags ignore extra bits", t: flags(3), mem: []byte{0xff}, want: num(7)},
		{name: "flags flat ignore extra bits", t: flags(33), flat: []uint64{0xffffffff, 0xff}, want: num(1<<33 - 1)},
		{name: "enum discriminant", t: tLevel, flat: []uint64{5}, wantErr: "abi: discriminant 5 out of range for level (5 cases)"},
		{name: "discriminant uses all 32 bits (flat)", t: option(tU8), flat: []uint64{1 << 31, 0}, wantErr: "abi: discriminant 2147483648 out of range for option<u8> (2 cases)"},
		{name: "u16 discriminant", t: bigEnum(300), mem: []byte{0x2b, 0x01}, want: num(299)},
		{name: "u16 discriminant out of range", t: bigEnum(300), mem: []byte{0x2c, 0x01}, wantErr: "abi: discriminant 300 out of range for enum { "},
		{name: "i64 slot wraps to u32", t: varU32U64, flat: []uint64{0, 1<<32 | 5}, want: cas(0, num(5))},
		{name: "i64 slot to f32", t: varF32F64, flat: []uint64{0, 1<<32 | 0x3fc00000}, want: cas(0, num(0x3fc00000))},
		{name: "payload path", t: option(tChar), flat: []uint64{1, 0xDFFF}, wantErr: "abi: some: char 0xdfff is not a Unicode scalar value"},
		{name: "wrong flat count", t: tString, flat: []uint64{0}, wantErr: "abi: string takes 2 core values, got 1"},
		{name: "zero-size list bounded", t: list(tuple()), flat: []uint64{0, MaxEmptyListLen + 1}, wantErr: "abi: list of 65537 zero-size elements exceeds the limit of 65536"},
		{name: "zero-size list allowed", t: list(record("e")), flat: []uint64{0, 2}, want: elems(elems(), elems())},
		{name: "empty string at end of memory", t: tString, flat: []uint64{64, 0}, want: str("")},
		{name: "empty string past memory", t: tString, flat: []uint64{65, 0}, wantErr: "abi: string at 0x41 (0 bytes) is out of bounds"},
		{name: "misaligned value", t: tU32, flat: nil, mem: []byte{1, 2, 3, 4}, want: num(0x04030201)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLifter()
			var v Value
			var err error
			if tt.mem == nil {
				v, err = l.LiftFlat(newFakeMem(64), tt.t, tt.flat)
			} else {
				m := &fakeMem{b: append([]byte(nil), tt.mem...)}
				v, err = l.LiftFrom(m, tt.t, 0)
			}
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(v, tt.want) {
				t.Errorf("got %+v, want %+v", v, tt.want)
			}
		})
	}
}

func TestLiftFromMisaligned(t *testing.T) {
	_, err := NewLifter().LiftFrom(newFakeMem(64), tU64, 4)
	if err == nil || err.Error() != "abi: pointer 0x4 is not aligned to 8" {
		t.Fatalf("err = %v", err)
	}
}

func TestMaxBytes(t *testing.T) {
	mem, ret := parseFixture(t, 100, "0123456789")
	sig := ExportSignature(fParse)
	l := NewLifter()
	l.MaxBytes = 4096
	_, err := l.LiftResult(mem, &sig, []uint64{uint64(ret)})
	if err == nil || !contains(err.Error(), "lifted values exceed the limit of 4096 bytes") {
		t.Fatalf("err = %v", err)
	}
	l.MaxBytes = 1 << 20
	l.Reset()
	if _, err := l.LiftResult(mem, &sig, []uint64{uint64(ret)}); err != nil {
		t.Fatalf("after Reset with a larger limit: %v", err)
	}
}

// TestLowerErrors checks that lowering rejects invalid host values and bad
// realloc results with their own errors.
func TestLowerErrors(t *testing.T) {
	ctx := context.Background()
	trap := errors.New("unreachable")
	tests := []struct {
		name    string
		t       *wit.Type
		v       Value
		realloc func(m *fakeMem) Realloc
		want    string
	}{
		{name: "u16 range", t: tVersion, v: elems(num(1), num(65536), num(0)), want: "abi: minor: 65536 out of range for u16"},
		{name: "u8 range", t: tU8, v: num(256), want: "abi: 256 out of range for u8"},
		{name: "s8 range", t: tS8, v: sNum(-129), want: "abi: -129 out of range for s8"},
		{name: "s16 range", t: tColumnInfo, v: elems(str("a"), str("b"), sNum(40000)), want: "abi: width: 40000 out of range for s16"},
		{name: "u32 range", t: tU32, v: num(1 << 32), want: "abi: 4294967296 out of range for u32"},
		{name: "s32 range", t: tS32, v: sNum(math.MaxInt32 + 1), want: "abi: 2147483648 out of range for s32"},
		{name: "bool", t: tBool, v: num(2), want: "abi: bool must be 0 or 1, got 2"},
		{name: "f32 bits", t: tF32, v: num(1 << 32), want: "abi: f32 bits 0x100000000 do not fit in 32 bits"},
		{name: "char", t: tChar, v: num(0xDC00), want: "abi: char 0xdc00 is not a Unicode scalar value"},
		{name: "invalid UTF-8", t: tConfigItem, v: elems(str("ok"), cas(3, str("\xc3("))), want: "abi: value.text: string is not valid UTF-8"},
		{name: "discriminant", t: tConfigValue, v: cas(7, str("x")), want: "abi: discriminant 7 out of range for config-value (7 cases)"},
		{name: "missing payload", t: tConfigValue, v: cas(3), want: "abi: case text takes 1 payload values, value has 0"},
		{name: "extra payload", t: tParseError, v: cas(2, str("x")), want: "abi: case incomplete takes 0 payload values, value has 1"},
		{name: "field count", t: tVersion, v: elems(num(1)), want: "abi: version has 3 fields, value has 1"},
		{name: "list index in path", t: list(tConfigItem), v: elems(elems(str("a"), cas(0, num(0))), elems(str("b"), cas(0, num(5)))),
			want: "abi: [1].value.boolean: bool must be 0 or 1, got 5"},
		{name: "list<u8> in Elems", t: tBytes, v: elems(num(1)), want: "abi: list<u8> must be given in Bytes, not Elems"},
		{name: "flags bits", t: flags(3), v: num(8), want: "abi: flags value 0x8 sets bits beyond the 3 flags"},
		{name: "realloc misaligned", t: list(tU32), v: elems(num(1)),
			realloc: func(m *fakeMem) Realloc {
				return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) { return 6, nil }
			}, want: "abi: realloc(0, 0, 4, 4) returned 0x6, which is not aligned to 4"},
		{name: "realloc out of bounds", t: tString, v: str("hello"),
			realloc: func(m *fakeMem) Realloc {
				return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) {
					return uint32(len(m.b)) - 2, nil
				}
			}, want: "abi: block returned by realloc at 0xfffe (5 bytes) is out of bounds"},
		{name: "realloc trap", t: tInitResult, v: cas(1, cas(0, str("x"))),
			realloc: func(m *fakeMem) Realloc {
				return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) { return 0, trap }
			}, want: "abi: err.config: realloc(0, 0, 1, 1): unreachable"},
		{name: "no realloc", t: tString, v: str("x"),
			realloc: func(m *fakeMem) Realloc { return nil }, want: "abi: no realloc to allocate 1 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, flat := range []bool{true, false} {
				mem := newFakeMem(1 << 16)
				w := mem.lowerer()
				if tt.realloc != nil {
					w.Realloc = tt.realloc(mem)
				}
				var err error
				if flat {
					_, err = w.LowerFlat(ctx, tt.t, tt.v, nil)
				} else {
					err = w.LowerTo(ctx, tt.t, tt.v, 0)
				}
				if err == nil || err.Error() != tt.want {
					t.Fatalf("flat=%v: err = %v\n want %s", flat, err, tt.want)
				}
				if tt.name == "realloc trap" && !errors.Is(err, trap) {
					t.Errorf("the realloc error is not the cause")
				}
			}
		})
	}
}

func TestLowerToChecks(t *testing.T) {
	ctx := context.Background()
	mem := newFakeMem(64)
	w := mem.lowerer()
	if err := w.LowerTo(ctx, tTempDir, cas(0, str("x")), 2); err == nil || err.Error() != "abi: pointer 0x2 is not aligned to 4" {
		t.Errorf("misaligned retptr: %v", err)
	}
	if err := w.LowerTo(ctx, tTempDir, cas(0, str("x")), 60); err == nil || err.Error() != "abi: value at 0x3c (12 bytes) is out of bounds" {
		t.Errorf("out-of-bounds retptr: %v", err)
	}
	sig := ExportSignature(fParse)
	if _, err := w.LowerParams(ctx, &sig, []Value{byts(1)}, nil); err == nil || err.Error() != "abi: parse takes 2 arguments, got 1" {
		t.Errorf("argument count: %v", err)
	}
	if _, err := w.LowerParams(ctx, &sig, []Value{byts(1), cas(2)}, nil); err == nil ||
		err.Error() != "abi: timestamp: discriminant 2 out of range for option<u64> (2 cases)" {
		t.Errorf("argument path: %v", err)
	}
}
