package abi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chiphost/chiphost/wit"
)

// reallocCall is one call of the guest's realloc.
type reallocCall struct{ old, oldSize, align, newSize uint32 }

// reallocMem is a fakeMem whose realloc records its calls, shrinks in place
// and grows by moving the block to the end of the heap (copying oldSize
// bytes, as a guest allocator would). fill, when set, is what a moved block
// holds instead of the old bytes (a realloc that does not copy).
type reallocMem struct {
	*fakeMem
	calls []reallocCall
	fill  byte
	// hook, when set, replaces the result of call number i (from 0).
	hook func(i int, ptr uint32) (uint32, error)
}

func newReallocMem() *reallocMem { return &reallocMem{fakeMem: newFakeMem(1 << 16)} }

func (m *reallocMem) realloc(ctx context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
	m.calls = append(m.calls, reallocCall{old, oldSize, align, newSize})
	var p uint32
	switch {
	case old != 0 && newSize <= oldSize:
		p = old
	default:
		p = alignTo(m.next, align)
		m.next = p + newSize
		for int(m.next) > len(m.b) {
			m.b = append(m.b, make([]byte, 64<<10)...)
		}
		if old != 0 {
			if m.fill != 0 {
				copy(m.b[p:p+oldSize], bytes.Repeat([]byte{m.fill}, int(oldSize)))
			} else {
				copy(m.b[p:], m.b[old:old+oldSize])
			}
		}
	}
	if m.hook != nil {
		return m.hook(len(m.calls)-1, p)
	}
	return p, nil
}

func (m *reallocMem) lowerer(enc Encoding) *Lowerer {
	return &Lowerer{Mem: m, Realloc: m.realloc, enc: enc}
}

// liftStringAt lifts the string (ptr, n) in encoding enc.
func liftStringAt(mem Memory, enc Encoding, ptr, n uint32) (string, error) {
	l := NewLifter()
	l.enc = enc
	v, err := l.LiftFlat(mem, tString, []uint64{uint64(ptr), uint64(n)})
	return v.Str, err
}

// TestLiftString16Layouts lifts strings from hand-written memory.
func TestLiftString16Layouts(t *testing.T) {
	// "hé€😀" in UTF-16LE: h, é, €, and the pair D83D DE00.
	utf16Bytes := []byte{0x68, 0, 0xE9, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE}
	tests := []struct {
		name string
		enc  Encoding
		mem  []byte // stored at 16
		n    uint32
		want string
	}{
		{"utf16", UTF16, utf16Bytes, 5, "hé€😀"},
		{"utf16 prefix", UTF16, utf16Bytes, 2, "hé"},
		{"utf16 empty", UTF16, nil, 0, ""},
		{"utf16 NUL and U+FFFF", UTF16, []byte{0, 0, 0xFF, 0xFF}, 2, "\x00\uffff"},
		{"latin1", Latin1UTF16, []byte("caf\xe9\xff\x7f"), 6, "café\u00ff\x7f"},
		{"latin1+utf16 tagged", Latin1UTF16, utf16Bytes, 5 | UTF16Tag, "hé€😀"},
		{"latin1 empty", Latin1UTF16, nil, 0, ""},
		{"utf16 empty tagged", Latin1UTF16, nil, UTF16Tag, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newFakeMem(64)
			copy(mem.b[16:], tt.mem)
			got, err := liftStringAt(mem, tt.enc, 16, tt.n)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestLiftString16Hostile checks every rule of load_string_from_range for
// the two encodings, each with its own error.
func TestLiftString16Hostile(t *testing.T) {
	tests := []struct {
		name   string
		enc    Encoding
		mem    []byte // stored at 16
		ptr, n uint32
		want   string
	}{
		{"utf16 odd pointer", UTF16, []byte{0, 0x61, 0}, 17, 1, "string pointer 0x11 is not aligned to 2"},
		{"utf16 odd pointer, empty", UTF16, nil, 17, 0, "string pointer 0x11 is not aligned to 2"},
		{"latin1 odd pointer", Latin1UTF16, []byte("ab"), 17, 1, "string pointer 0x11 is not aligned to 2"},
		{"utf16 overruns memory", UTF16, nil, 60, 3, "string at 0x3c (6 bytes) is out of bounds"},
		{"utf16 length overflows", UTF16, nil, 16, math.MaxUint32 >> 1, "string at 0x10 (4294967294 bytes) overflows the 32-bit address space"},
		{"latin1 overruns memory", Latin1UTF16, nil, 62, 3, "string at 0x3e (3 bytes) is out of bounds"},
		{"tagged overruns memory", Latin1UTF16, nil, 60, 3 | UTF16Tag, "string at 0x3c (6 bytes) is out of bounds"},
		{"tagged max length", Latin1UTF16, nil, 16, math.MaxUint32, "string at 0x10 (4294967294 bytes) overflows the 32-bit address space"},
		{"tag bit in utf16", UTF16, []byte{0x61, 0}, 16, 1 | UTF16Tag, "string length 0x80000001 has the latin1+utf16 tag bit set, but the encoding is utf16"},
		{"lone high surrogate at end", UTF16, []byte{0x61, 0, 0x00, 0xD8}, 16, 2,
			"string at 0x10 (2 code units) has an unpaired surrogate 0xd800 at code unit 1"},
		{"high surrogate then a char", UTF16, []byte{0x3D, 0xD8, 0x61, 0}, 16, 2,
			"string at 0x10 (2 code units) has an unpaired surrogate 0xd83d at code unit 0"},
		{"two high surrogates", UTF16, []byte{0x3D, 0xD8, 0x3D, 0xD8, 0x00, 0xDE}, 16, 3,
			"string at 0x10 (3 code units) has an unpaired surrogate 0xd83d at code unit 0"},
		{"lone low surrogate", UTF16, []byte{0x00, 0xDE, 0x3D, 0xD8}, 16, 2,
			"string at 0x10 (2 code units) has an unpaired surrogate 0xde00 at code unit 0"},
		{"pair cut by the length", Latin1UTF16, []byte{0x3D, 0xD8, 0x00, 0xDE}, 16, 1 | UTF16Tag,
			"string at 0x10 (1 code units) has an unpaired surrogate 0xd83d at code unit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newFakeMem(64)
			copy(mem.b[16:], tt.mem)
			got, err := liftStringAt(mem, tt.enc, tt.ptr, tt.n)
			var e *Error
			if !errors.As(err, &e) || e.Msg != tt.want {
				t.Fatalf("got %q, %v; want error %q", got, err, tt.want)
			}
		})
	}
}

// TestLiftString16Path checks that a bad utf16 string deep in a parse
// result is reported with its value path.
func TestLiftString16Path(t *testing.T) {
	ctx := context.Background()
	mem := newReallocMem()
	items := make([]Value, 4)
	for i := range items {
		items[i] = elems(some(cas(0, cas(1, strs("ab", "c€")))), num(3))
	}
	ret, _ := mem.realloc(ctx, 0, 0, 4, 16)
	w := mem.lowerer(UTF16)
	lay, _ := w.layouts.get(tParseResult)
	if err := w.lowerTo(ctx, lay, cas(0, elems(items...)), ret); err != nil {
		t.Fatal(err)
	}
	sig := ExportSignature(fParse)
	sig.Encoding = UTF16
	if _, err := NewLifter().LiftResult(mem, &sig, []uint64{uint64(ret)}); err != nil {
		t.Fatalf("valid result: %v", err)
	}
	col := mem.column(ret, 3, 1)
	mem.put32(col+4, 1|UTF16Tag) // a tag bit in utf16 mode
	_, err := NewLifter().LiftResult(mem, &sig, []uint64{uint64(ret)})
	want := "abi: result.ok[3].value.some.message.columns[1]: string length 0x80000001 has the latin1+utf16 tag bit set, but the encoding is utf16"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	mem.put32(col+4, 2)
	mem.b[mem.u32(col)+3] = 0xDC // "c" + a lone low surrogate
	_, err = NewLifter().LiftResult(mem, &sig, []uint64{uint64(ret)})
	if err == nil || !strings.HasPrefix(err.Error(), "abi: result.ok[3].value.some.message.columns[1]: string at ") ||
		!strings.HasSuffix(err.Error(), "has an unpaired surrogate 0xdcac at code unit 1") {
		t.Fatalf("got %v", err)
	}
}

// TestStoreString16Calls checks the realloc calls and the stored bytes of
// store_utf8_to_utf16 and store_string_to_latin1_or_utf16, computed by
// hand from the canonical ABI. The heap starts at 8.
func TestStoreString16Calls(t *testing.T) {
	le := func(units ...uint16) []byte {
		var b []byte
		for _, u := range units {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	tests := []struct {
		name    string
		enc     Encoding
		s       string
		calls   []reallocCall
		ptr, n  uint32
		content []byte
	}{
		{"utf16 ascii", UTF16, "abc", []reallocCall{{0, 0, 2, 6}}, 8, 3, le('a', 'b', 'c')},
		{"utf16 shrinks", UTF16, "hé€😀", // 10 UTF-8 bytes: 20 allocated, 10 used
			[]reallocCall{{0, 0, 2, 20}, {8, 20, 2, 10}}, 8, 5, le('h', 0xE9, 0x20AC, 0xD83D, 0xDE00)},
		{"utf16 empty", UTF16, "", []reallocCall{{0, 0, 2, 0}}, 8, 0, nil},
		{"latin1 ascii", Latin1UTF16, "abc", []reallocCall{{0, 0, 2, 3}}, 8, 3, []byte("abc")},
		{"latin1 shrinks", Latin1UTF16, "café\u00ff", // 7 UTF-8 bytes, 5 Latin-1
			[]reallocCall{{0, 0, 2, 7}, {8, 7, 2, 5}}, 8, 5, []byte("caf\xe9\xff")},
		{"latin1 empty", Latin1UTF16, "", []reallocCall{{0, 0, 2, 0}}, 8, 0, nil},
		{"inflated", Latin1UTF16, "ca€", // 5 UTF-8 bytes; grown to 10 at 14 (moved), 6 used
			[]reallocCall{{0, 0, 2, 5}, {8, 5, 2, 10}, {14, 10, 2, 6}}, 14, 3 | UTF16Tag, le('c', 'a', 0x20AC)},
		{"inflated at once", Latin1UTF16, "😀é", // 6 UTF-8 bytes; 12 at 14, 6 used
			[]reallocCall{{0, 0, 2, 6}, {8, 6, 2, 12}, {14, 12, 2, 6}}, 14, 3 | UTF16Tag, le(0xD83D, 0xDE00, 0xE9)},
		{"inflated, one char", Latin1UTF16, "\u0100", // 2 UTF-8 bytes → 4, 2 used
			[]reallocCall{{0, 0, 2, 2}, {8, 2, 2, 4}, {10, 4, 2, 2}}, 10, 1 | UTF16Tag, le(0x100)},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newReallocMem()
			ptr, n, err := mem.lowerer(tt.enc).storeString(ctx, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(mem.calls) != fmt.Sprint(tt.calls) {
				t.Errorf("realloc calls %v, want %v", mem.calls, tt.calls)
			}
			if ptr != tt.ptr || n != tt.n {
				t.Errorf("stored at (%#x, %#x), want (%#x, %#x)", ptr, n, tt.ptr, tt.n)
			}
			if got := mem.b[ptr : ptr+uint32(len(tt.content))]; !bytes.Equal(got, tt.content) {
				t.Errorf("memory % x, want % x", got, tt.content)
			}
			if got, err := liftStringAt(mem, tt.enc, ptr, n); err != nil || got != tt.s {
				t.Errorf("lifted back %q, %v", got, err)
			}
		})
	}
}

// TestStoreLatin1InflatesFromMemory checks that the Latin-1 bytes inflated
// to UTF-16 are read back from the grown block, as the canonical ABI reads
// them, not taken from the host's string: a realloc that moves the block
// without copying it shows in the result.
func TestStoreLatin1InflatesFromMemory(t *testing.T) {
	mem := newReallocMem()
	mem.fill = 'X'
	ptr, n, err := mem.lowerer(Latin1UTF16).storeString(context.Background(), "ab€")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := liftStringAt(mem, Latin1UTF16, ptr, n); err != nil || got != "XX€" {
		t.Fatalf("got %q, %v; want %q", got, err, "XX€")
	}
}

// TestStoreString16Hostile checks what a misbehaving realloc gets: each
// call's result is checked for alignment and bounds, and a trap aborts.
func TestStoreString16Hostile(t *testing.T) {
	trap := errors.New("trap")
	tests := []struct {
		name string
		enc  Encoding
		s    string
		hook func(i int, ptr uint32) (uint32, error)
		want string
	}{
		{"utf16 odd block", UTF16, "a", func(i int, p uint32) (uint32, error) { return p + 1, nil },
			"realloc(0, 0, 2, 2) returned 0x9, which is not aligned to 2"},
		{"utf16 shrink out of bounds", UTF16, "é", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return 1 << 20, nil
			}
			return p, nil
		}, "block returned by realloc at 0x100000 (2 bytes) is out of bounds"},
		{"utf16 shrink odd", UTF16, "é", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return p + 1, nil
			}
			return p, nil
		}, "realloc(8, 4, 2, 2) returned 0x9, which is not aligned to 2"},
		{"latin1 odd block", Latin1UTF16, "a", func(i int, p uint32) (uint32, error) { return p + 1, nil },
			"realloc(0, 0, 2, 1) returned 0x9, which is not aligned to 2"},
		{"latin1 block odd and past the end", Latin1UTF16, "abc", func(i int, p uint32) (uint32, error) { return 0xFFFF, nil },
			"realloc(0, 0, 2, 3) returned 0xffff, which is not aligned to 2"},
		{"latin1 block past the end", Latin1UTF16, "abc", func(i int, p uint32) (uint32, error) { return 0xFFFE, nil },
			"block returned by realloc at 0xfffe (3 bytes) is out of bounds"},
		{"grow out of bounds", Latin1UTF16, "a€", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return 0xFFFC, nil
			}
			return p, nil
		}, "block returned by realloc at 0xfffc (8 bytes) is out of bounds"},
		{"grow odd", Latin1UTF16, "a€", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return p + 1, nil
			}
			return p, nil
		}, "realloc(8, 4, 2, 8) returned 0xd, which is not aligned to 2"},
		{"grow traps", Latin1UTF16, "a€", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return 0, trap
			}
			return p, nil
		}, "realloc(8, 4, 2, 8): trap"},
		{"final shrink traps", Latin1UTF16, "é", func(i int, p uint32) (uint32, error) {
			if i == 1 {
				return 0, trap
			}
			return p, nil
		}, "realloc(8, 2, 2, 1): trap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newReallocMem()
			mem.hook = tt.hook
			_, _, err := mem.lowerer(tt.enc).storeString(context.Background(), tt.s)
			var e *Error
			if !errors.As(err, &e) || e.Msg != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestStoreString16Invalid checks that a host string that is not UTF-8 is
// refused before realloc is called.
func TestStoreString16Invalid(t *testing.T) {
	for _, enc := range []Encoding{UTF16, Latin1UTF16} {
		mem := newReallocMem()
		_, _, err := mem.lowerer(enc).storeString(context.Background(), "a\xff")
		if err == nil || err.Error() != "abi: string is not valid UTF-8" || len(mem.calls) != 0 {
			t.Fatalf("%s: %v, %d realloc calls", enc, err, len(mem.calls))
		}
	}
}

// TestRoundTrip16 lowers every sample in both encodings, from memory and
// flat, with strings of every width, and lifts it back.
func TestRoundTrip16(t *testing.T) {
	ctx := context.Background()
	words := []string{"", "ascii", "café", "\u00ff\u0100", "€uro", "😀", "a😀b\u0000", strings.Repeat("é", 40)}
	for _, enc := range []Encoding{UTF16, Latin1UTF16} {
		for _, s := range samples {
			t.Run(enc.String()+"/"+s.name, func(t *testing.T) {
				mem := newReallocMem()
				w := mem.lowerer(enc)
				lay, err := w.layouts.get(s.t)
				if err != nil {
					t.Fatal(err)
				}
				flat, err := w.lowerFlat(ctx, lay, s.v, nil)
				if err != nil {
					t.Fatalf("lowerFlat: %v", err)
				}
				l := NewLifter()
				l.enc = enc
				if got, err := l.LiftFlat(mem, s.t, flat); err != nil || !equal(got, s.v) {
					t.Fatalf("flat: %v\n got %+v\nwant %+v", err, got, s.v)
				}
				ptr, _ := mem.realloc(ctx, 0, 0, lay.align, lay.size)
				if err := w.lowerTo(ctx, lay, s.v, ptr); err != nil {
					t.Fatalf("lowerTo: %v", err)
				}
				if got, err := l.LiftFrom(mem, s.t, ptr); err != nil || !equal(got, s.v) {
					t.Fatalf("memory: %v\n got %+v\nwant %+v", err, got, s.v)
				}
			})
		}
		t.Run(enc.String()+"/list<string>", func(t *testing.T) {
			mem := newReallocMem()
			w := mem.lowerer(enc)
			v := strs(words...)
			lay, _ := w.layouts.get(tListString)
			flat, err := w.lowerFlat(ctx, lay, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			l := NewLifter()
			l.enc = enc
			if got, err := l.LiftFlat(mem, tListString, flat); err != nil || !equal(got, v) {
				t.Fatalf("%v: got %+v", err, got)
			}
		})
	}
}

// TestCallEncoding checks that the signature's encoding reaches every
// entry point: LowerParams and LiftParams (init's config strings),
// LiftResult and LowerResult (spilled and flat).
func TestCallEncoding(t *testing.T) {
	ctx := context.Background()
	fString := &wit.Func{Name: "s", Params: []wit.Param{{Name: "x", Type: tString}}, Result: tString}
	fFlat := &wit.Func{Name: "f", Result: tU32}
	args := []Value{elems(num(2)), elems(elems(str("prefix"), cas(3, str("Ünï ✓"))))}
	for _, enc := range []Encoding{UTF8, UTF16, Latin1UTF16} {
		t.Run(enc.String(), func(t *testing.T) {
			mem := newReallocMem()
			w := &Lowerer{Mem: mem, Realloc: mem.realloc}
			exp, imp := ExportSignature(fInit), ImportSignature(fInit)
			exp.Encoding, imp.Encoding = enc, enc
			core, err := w.LowerParams(ctx, &exp, args, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The text value's (ptr, len) in memory: items at core[1], value payload at +12.
			n := mem.u32(uint32(core[1]) + 16)
			wantN := map[Encoding]uint32{UTF8: 9, UTF16: 5, Latin1UTF16: 5 | UTF16Tag}[enc]
			if n != wantN {
				t.Errorf("stored length %#x, want %#x", n, wantN)
			}
			got, err := NewLifter().LiftParams(mem, &imp, append(core, 0))
			if err != nil || !equal(elems(got...), elems(args...)) {
				t.Fatalf("LiftParams: %v, %+v", err, got)
			}
			is := ImportSignature(fString)
			is.Encoding = enc
			retptr, _ := mem.realloc(ctx, 0, 0, 4, 8)
			if _, err := w.LowerResult(ctx, &is, str("añ€"), []uint64{0, 0, uint64(retptr)}, nil); err != nil {
				t.Fatal(err)
			}
			es := ExportSignature(fString)
			es.Encoding = enc
			if v, err := NewLifter().LiftResult(mem, &es, []uint64{uint64(retptr)}); err != nil || v.Str != "añ€" {
				t.Fatalf("LiftResult: %q, %v", v.Str, err)
			}
			fs := ImportSignature(fFlat)
			if out, err := w.LowerResult(ctx, &fs, num(7), nil, nil); err != nil || len(out) != 1 || out[0] != 7 {
				t.Fatalf("flat LowerResult: %v, %v", out, err)
			}
		})
	}
	bad := ExportSignature(fInit)
	bad.Encoding = 3
	if _, err := (&Lowerer{}).LowerParams(ctx, &bad, args, nil); err == nil || !strings.Contains(err.Error(), "unknown string encoding Encoding(3)") {
		t.Fatalf("bad encoding: %v", err)
	}
}

// FuzzLiftString16 lifts random memory as a utf16 or latin1+utf16 string.
// It must never panic; a lifted string must be what a strict reference
// decoder gives, and it must survive a lower and a lift in the same
// encoding; a refused one must be refused by the reference too.
func FuzzLiftString16(f *testing.F) {
	f.Add([]byte{0x68, 0, 0xE9, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE}, uint32(0), uint32(5), false)
	f.Add([]byte("caf\xe9"), uint32(0), uint32(4), true)
	f.Add([]byte{0x3D, 0xD8, 0x3D, 0xD8}, uint32(0), uint32(2|UTF16Tag), true)
	f.Add([]byte{0, 0, 0, 0xDC}, uint32(1), uint32(1), false)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte, ptr, n uint32, compact bool) {
		enc := UTF16
		if compact {
			enc = Latin1UTF16
		}
		mem := &fakeMem{b: data}
		got, err := liftStringAt(mem, enc, ptr, n)
		want, ok := referenceDecode(data, enc, ptr, n)
		if ok != (err == nil) || got != want {
			t.Fatalf("lifted %q, %v; reference %q, %v", got, err, want, ok)
		}
		if err != nil {
			if _, isErr := err.(*Error); !isErr {
				t.Fatalf("error %T is not an *Error", err)
			}
			return
		}
		m2 := newReallocMem()
		p, n2, err := m2.lowerer(enc).storeString(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := liftStringAt(m2, enc, p, n2); err != nil || back != got {
			t.Fatalf("relift %q, %v; want %q", back, err, got)
		}
	})
}

// referenceDecode decodes the string the simple way, with the standard
// library, refusing what the canonical ABI traps on.
func referenceDecode(data []byte, enc Encoding, ptr, n uint32) (string, bool) {
	if ptr%2 != 0 {
		return "", false
	}
	if enc == Latin1UTF16 && n&UTF16Tag == 0 {
		if uint64(ptr)+uint64(n) > uint64(len(data)) {
			return "", false
		}
		runes := make([]rune, n)
		for i, c := range data[ptr : ptr+n] {
			runes[i] = rune(c)
		}
		return string(runes), true
	}
	if enc == Latin1UTF16 {
		n ^= UTF16Tag
	}
	if uint64(ptr)+2*uint64(n) > uint64(len(data)) {
		return "", false
	}
	units := make([]uint16, n)
	for i := range units {
		units[i] = uint16(data[ptr+2*uint32(i)]) | uint16(data[ptr+2*uint32(i)+1])<<8
	}
	s := string(utf16.Decode(units))
	// utf16.Decode turns an unpaired surrogate into U+FFFD: recount.
	if utf16Len(s) != int(n) || strings.Count(s, "\uFFFD") != countFFFD(units) {
		return "", false
	}
	return s, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func countFFFD(units []uint16) int {
	n := 0
	for _, u := range units {
		if u == utf8.RuneError {
			n++
		}
	}
	return n
}

// TestLiftString16MaxBytes checks that MaxBytes counts the UTF-8 a utf16
// or Latin-1 string becomes: a string longer than the limit in code units
// is refused before it is converted, and one whose UTF-8 is over it after.
func TestLiftString16MaxBytes(t *testing.T) {
	mem := newFakeMem(256)
	for i := 0; i < 40; i += 2 {
		mem.b[16+i], mem.b[16+i+1] = 0xAC, 0x20 // U+20AC: 1 unit, 3 UTF-8 bytes; as Latin-1 "¬ ": 3 bytes
	}
	for _, tt := range []struct {
		enc      Encoding
		n        uint32
		maxBytes int64
		ok       bool
		used     int64
	}{
		{UTF16, 3, 10, true, 9},
		{UTF16, 4, 10, false, 12},                  // 4 units fit, 12 bytes do not
		{UTF16, 20, 10, false, 20},                 // refused on its 20 units
		{Latin1UTF16, 4 | UTF16Tag, 10, false, 12}, // the same as tagged UTF-16
		{Latin1UTF16, 6, 10, true, 9},              // "¬ ¬ ¬ ": 3×2 + 3×1 bytes
		{Latin1UTF16, 8, 10, false, 12},
	} {
		l := NewLifter()
		l.MaxBytes = tt.maxBytes
		l.enc = tt.enc
		_, err := l.LiftFlat(mem, tString, []uint64{16, uint64(tt.n)})
		if (err == nil) != tt.ok || l.used != tt.used {
			t.Errorf("%s %#x: err %v, used %d; want ok %v, used %d", tt.enc, tt.n, err, l.used, tt.ok, tt.used)
		}
		if err != nil && !strings.Contains(err.Error(), "exceed the limit of 10 bytes") {
			t.Errorf("%s %#x: %v", tt.enc, tt.n, err)
		}
	}
}

// FuzzStoreString16 lowers random strings in both encodings and checks the
// realloc calls against the canonical ABI's sequence, computed the simple
// way from the string (n = its UTF-8 length, u = its UTF-16 code units):
// utf16 allocates 2n then shrinks to 2u if smaller; latin1+utf16 allocates
// n, then either shrinks to the Latin-1 length or grows to 2n at the first
// char above U+00FF and shrinks to 2u. The string must lift back unchanged.
func FuzzStoreString16(f *testing.F) {
	for _, s := range []string{"", "a", "café", "ca€", "😀é", "\u00ff\u0100", strings.Repeat("x", 100) + "€"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, compact bool) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		enc := UTF16
		if compact {
			enc = Latin1UTF16
		}
		mem := newReallocMem()
		ptr, n, err := mem.lowerer(enc).storeString(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := liftStringAt(mem, enc, ptr, n); err != nil || got != s {
			t.Fatalf("lifted back %q, %v", got, err)
		}
		size := uint32(len(s))
		units := uint32(utf16Len(s))
		var want []uint32 // (oldSize, newSize) of each call
		fits := true
		for _, r := range s {
			fits = fits && r < 0x100
		}
		switch {
		case enc == UTF16:
			want = []uint32{0, 2 * size}
			if 2*units < 2*size {
				want = append(want, 2*size, 2*units)
			}
		case fits:
			want = []uint32{0, size}
			if l := uint32(utf8.RuneCountInString(s)); l < size {
				want = append(want, size, l)
			}
		default:
			want = []uint32{0, size, size, 2 * size}
			if 2*units < 2*size {
				want = append(want, 2*size, 2*units)
			}
		}
		var got []uint32
		for _, c := range mem.calls {
			if c.align != 2 {
				t.Fatalf("realloc with alignment %d", c.align)
			}
			got = append(got, c.oldSize, c.newSize)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s %q: realloc (old, new) sizes %v, want %v", enc, s, got, want)
		}
		wantN := units
		if enc == Latin1UTF16 {
			if fits {
				wantN = uint32(utf8.RuneCountInString(s))
			} else {
				wantN |= UTF16Tag
			}
		}
		if n != wantN {
			t.Fatalf("%s %q: length %#x, want %#x", enc, s, n, wantN)
		}
	})
}
