package wasmbin

import (
	"bytes"
	"strings"
	"testing"
)

// TestReaderEnd: one end convention. Done is the only end test; every read
// past the end fails with the offset where the data ends, and a failed read
// consumes nothing.
func TestReaderEnd(t *testing.T) {
	r := NewReader([]byte{0xaa, 0xbb}, 0x20)
	if r.Done() || r.Len() != 2 || r.Offset() != 0x20 {
		t.Fatalf("fresh reader: done %v, len %d, offset %#x", r.Done(), r.Len(), r.Offset())
	}
	if c, err := r.Peek(); err != nil || c != 0xaa || r.Pos() != 0 {
		t.Fatalf("Peek = %#x, %v at %d", c, err, r.Pos())
	}
	if b, err := r.Bytes(3); err == nil || err.Error() != "unexpected end of data at offset 0x22" || b != nil || r.Pos() != 0 {
		t.Fatalf("Bytes(3) = % x, %v, pos %d", b, err, r.Pos())
	}
	if err := r.Skip(-1); err == nil {
		t.Fatal("Skip(-1) succeeded")
	}
	b, err := r.Bytes(2)
	if err != nil || !bytes.Equal(b, []byte{0xaa, 0xbb}) || cap(b) != 2 || !r.Done() {
		t.Fatalf("Bytes(2) = % x (cap %d), %v, done %v", b, cap(b), err, r.Done())
	}
	for name, read := range map[string]func() error{
		"Byte": func() error { _, err := r.Byte(); return err },
		"Peek": func() error { _, err := r.Peek(); return err },
		"Skip": func() error { return r.Skip(1) },
	} {
		if err := read(); err == nil || err.Error() != "unexpected end of data at offset 0x22" {
			t.Errorf("%s at the end: %v", name, err)
		}
	}
	if err := r.Skip(0); err != nil || len(r.Rest()) != 0 {
		t.Errorf("Skip(0) at the end: %v", err)
	}
	if err := r.CheckDone(); err != nil {
		t.Errorf("CheckDone at the end: %v", err)
	}
	r = NewReader([]byte{0x01, 0x02, 0x03}, 0x20)
	_, _ = r.Byte()
	if err := r.CheckDone(); err == nil || err.Error() != "2 trailing bytes at offset 0x21" {
		t.Errorf("CheckDone with bytes left: %v", err)
	}
}

func TestCount(t *testing.T) {
	r := NewReader([]byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd}, 0)
	if n, err := r.Count(2); err != nil || n != 2 {
		t.Fatalf("Count(2) = %d, %v", n, err)
	}
	r = NewReader([]byte{0x03, 0xaa, 0xbb, 0xcc, 0xdd}, 0x40)
	if _, err := r.Count(2); err == nil || err.Error() != "vector of 3 elements exceeds the 4 bytes left at offset 0x40" {
		t.Fatalf("Count(2) over the bytes left: %v", err)
	}
	// 2^32-1 elements of 2^31 bytes: the product must not overflow.
	r = NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 0)
	if _, err := r.Count(1 << 31); err == nil {
		t.Fatal("Count of 2^32-1 huge elements succeeded")
	}
	r = NewReader([]byte{0x01}, 0)
	if n, err := r.Count(0); err == nil || n != 0 {
		t.Fatalf("Count(0) of 1 element in 0 bytes = %d, %v", n, err)
	}
}

func TestVec(t *testing.T) {
	r := NewReader([]byte{0x03, 0x0a, 0x0b, 0x0c}, 0)
	var got []byte
	err := r.Vec(1, func(i int) error {
		c, err := r.Byte()
		got = append(got, c+byte(i))
		return err
	})
	if err != nil || !bytes.Equal(got, []byte{0x0a, 0x0c, 0x0e}) || !r.Done() {
		t.Fatalf("Vec = % x, %v", got, err)
	}
	r = NewReader([]byte{0x03, 0x0a, 0x0b, 0x0c}, 0)
	calls := 0
	err = r.Vec(1, func(i int) error {
		calls++
		return r.Expect(0x0a, "byte")
	})
	if err == nil || err.Error() != "byte 0x0b, want 0x0a at offset 0x2" || calls != 2 {
		t.Fatalf("Vec stopping at the first error: %v after %d calls", err, calls)
	}
}

func TestName(t *testing.T) {
	r := NewReader(append([]byte{0x03}, "abc"...), 0)
	if s, err := r.Name(); err != nil || s != "abc" {
		t.Fatalf("Name = %q, %v", s, err)
	}
	r = NewReader([]byte{0x02, 0xc3, 0x28}, 0x10)
	if _, err := r.Name(); err == nil || err.Error() != "name is not valid UTF-8 at offset 0x10" {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	r = NewReader([]byte{0x02, 0xc3, 0x28}, 0x10)
	if b, err := r.Prefixed(); err != nil || !bytes.Equal(b, []byte{0xc3, 0x28}) {
		t.Fatalf("Prefixed = % x, %v", b, err)
	}
	r = NewReader([]byte{0x7f, 'a'}, 0x10)
	if _, err := r.Name(); err == nil || err.Error() != "unexpected end of data at offset 0x12" {
		t.Fatalf("name longer than the input: %v", err)
	}
}

func TestValTypesAndLimits(t *testing.T) {
	r := NewReader([]byte{0x03, ValI32, ValRefNull, 0x70, ValV128}, 0)
	if n, err := r.SkipValTypes(); err != nil || n != 3 || !r.Done() {
		t.Fatalf("SkipValTypes = %d, %v", n, err)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want Limits
		err  string
	}{
		{"min only", []byte{0x00, 0x01}, Limits{}, ""},
		{"min max", []byte{0x01, 0x01, 0x02}, Limits{}, ""},
		{"shared", []byte{0x03, 0x01, 0x02}, Limits{Shared: true}, ""},
		{"64-bit bounds above 2^32", append([]byte{0x05, 0x80, 0x80, 0x80, 0x80, 0x10}, 0x01), Limits{Is64: true}, ""},
		{"custom page size", []byte{0x08, 0x01, 0x00}, Limits{}, ""},
		{"32-bit bound above 2^32", []byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x10}, Limits{}, "minimum: u32 LEB128 overflow at offset 0x1"},
		{"overlong 32-bit bound", []byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, Limits{}, "minimum: u32 LEB128 overflow at offset 0x1"},
		{"bad flags", []byte{0x10, 0x00}, Limits{}, "invalid limits flags 0x10 at offset 0x0"},
		{"missing maximum", []byte{0x01, 0x00}, Limits{}, "maximum: truncated u32 LEB128 at offset 0x2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in, 0)
			l, err := r.Limits()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || l != tc.want || !r.Done() {
				t.Fatalf("Limits = %+v, %v, done %v", l, err, r.Done())
			}
		})
	}
}

func TestImportDesc(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		kind byte
		err  string
	}{
		{"func", []byte{KindFunc, 0x05}, KindFunc, ""},
		{"table", []byte{KindTable, 0x70, 0x00, 0x01}, KindTable, ""},
		{"typed ref table", []byte{KindTable, ValRefNull, 0x00, 0x00, 0x01}, KindTable, ""},
		{"memory64", []byte{KindMemory, 0x04, 0x01}, KindMemory, ""},
		{"global", []byte{KindGlobal, ValI64, 0x01}, KindGlobal, ""},
		{"ref global", []byte{KindGlobal, ValRef, 0x70, 0x00}, KindGlobal, ""},
		{"tag", []byte{KindTag, 0x00, 0x02}, KindTag, ""},
		{"bad kind", []byte{0x05}, 0, "unknown import kind 0x5 at offset 0x0"},
		{"bad mutability", []byte{KindGlobal, ValI32, 0x02}, 0, "invalid global mutability 0x2 at offset 0x2"},
		{"bad value type", []byte{KindGlobal, 0x40, 0x00}, 0, "global type: invalid value type 0x40 at offset 0x1"},
		{"bad memory limits", []byte{KindMemory, 0x10}, 0, "memory limits: invalid limits flags 0x10 at offset 0x1"},
		{"truncated table", []byte{KindTable}, 0, "table element type: value type: unexpected end of data at offset 0x1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in, 0)
			d, err := r.ImportDesc()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || d.Kind != tc.kind || !r.Done() {
				t.Fatalf("ImportDesc = %+v, %v, done %v", d, err, r.Done())
			}
		})
	}
	if d, _ := NewReader([]byte{KindMemory, 0x07, 0x00, 0x01}, 0).ImportDesc(); d.Limits != (Limits{Is64: true, Shared: true}) {
		t.Errorf("shared memory64 import: %+v", d.Limits)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{CoreSectionName(SecCode), "code"},
		{CoreSectionName(SecTag), "tag"},
		{CoreSectionName(14), "unknown"},
		{ComponentSectionName(CompSecCanon), "canon"},
		{ComponentSectionName(CompSecValue), "value"},
		{ComponentSectionName(13), "unknown"},
		{KindName(KindTag), "tag"},
		{KindName(9), "kind 0x09"},
	} {
		if tc.got != tc.want {
			t.Errorf("name %q, want %q", tc.got, tc.want)
		}
	}
	// The core section order: tag after memory, data count before code.
	order := []byte{SecType, SecImport, SecFunction, SecTable, SecMemory, SecTag, SecGlobal, SecExport, SecStart, SecElement, SecDataCount, SecCode, SecData}
	for i, id := range order {
		if got := CoreSectionOrder(id); got != i+1 {
			t.Errorf("CoreSectionOrder(%s) = %d, want %d", CoreSectionName(id), got, i+1)
		}
	}
	if CoreSectionOrder(SecCustom) != 0 || CoreSectionOrder(14) != 0 {
		t.Error("custom or unknown sections have an order")
	}
	if !strings.Contains(Magic+CoreVersion, "asm\x01") || len(Magic+ComponentVersion) != Header {
		t.Error("preamble constants")
	}
}
