package wasmbin

import (
	"bytes"
	"errors"
	"testing"
)

func TestWalk(t *testing.T) {
	// Two sections after a preamble: custom "a" with one byte, then an empty
	// type section.
	in := append([]byte(Magic+CoreVersion), SecCustom, 0x03, 0x01, 'a', 0xff, SecType, 0x00)
	r := NewReader(in[Header:], Header)
	var got []Section
	err := Walk(r, CoreSectionName, func(s Section) error {
		got = append(got, s)
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("Walk: %d sections, %v", len(got), err)
	}
	if s := got[0]; s.ID != SecCustom || s.Start != 8 || s.Offset != 10 || s.End() != 13 || !bytes.Equal(s.Payload, []byte{0x01, 'a', 0xff}) {
		t.Errorf("first section %+v", s)
	}
	if s := got[1]; s.ID != SecType || s.Start != 13 || s.Offset != 15 || len(s.Payload) != 0 || s.End() != len(in) {
		t.Errorf("second section %+v", s)
	}
	if name, err := got[0].Reader().Name(); err != nil || name != "a" {
		t.Errorf("payload reader: Name = %q, %v", name, err)
	}
	if off := got[0].Reader().Offset(); off != 10 {
		t.Errorf("payload reader starts at offset %#x", off)
	}
}

func TestWalkErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte // after a preamble, at offset 8
		err  string
	}{
		{"size missing", []byte{SecType}, "type section at offset 0x8: size: truncated u32 LEB128 at offset 0x9"},
		{"size truncated", []byte{SecCode, 0x80}, "code section at offset 0x8: size: truncated u32 LEB128 at offset 0x9"},
		{"size overflows u32", []byte{SecCode, 0xff, 0xff, 0xff, 0xff, 0x7f}, "code section at offset 0x8: size: u32 LEB128 overflow at offset 0x9"},
		{"payload truncated", []byte{SecType, 0x05, 0x00}, "type section at offset 0x8: size 5 exceeds the 1 bytes left"},
		{"size 2^32-1", []byte{SecData, 0xff, 0xff, 0xff, 0xff, 0x0f}, "data section at offset 0x8: size 4294967295 exceeds the 0 bytes left"},
		{"second section truncated", []byte{SecType, 0x00, 0x0e, 0x01}, "unknown section at offset 0xa: size 1 exceeds the 0 bytes left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Walk(NewReader(tc.in, Header), CoreSectionName, func(Section) error { calls++; return nil })
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if calls > 1 {
				t.Fatalf("%d sections visited", calls)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
		})
	}
	stop := Errorf(3, "stop")
	err := Walk(NewReader([]byte{SecType, 0x00, SecType, 0x00}, 0), CoreSectionName, func(Section) error { return stop })
	if err != stop {
		t.Fatalf("Walk returned %v, want the callback's error unchanged", err)
	}
	if _, err := NewReader(nil, 4).Section(ComponentSectionName); err == nil || err.Error() != "section header: unexpected end of data at offset 0x4" {
		t.Fatalf("Section at the end: %v", err)
	}
	if _, err := NewReader([]byte{CompSecCanon}, 0).Section(ComponentSectionName); err == nil || err.Error() != "canon section at offset 0x0: size: truncated u32 LEB128 at offset 0x1" {
		t.Fatalf("component section names: %v", err)
	}
}

// FuzzWalk checks, for any input, that Walk never panics and that the sections
// it yields tile the input: each starts where the previous one ended, its
// payload lies inside it, and on success the last one ends at the end.
func FuzzWalk(f *testing.F) {
	f.Add([]byte{SecCustom, 0x03, 0x01, 'a', 0xff, SecType, 0x00})
	f.Add([]byte{SecType, 0x05, 0x00})
	f.Add([]byte{SecCode, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		const base = 0x100
		next := base
		err := Walk(NewReader(in, base), CoreSectionName, func(s Section) error {
			if s.Start != next || s.Offset <= s.Start || s.End() > base+len(in) ||
				!bytes.Equal(s.Payload, in[s.Offset-base:s.End()-base]) {
				t.Fatalf("section %+v does not follow offset %#x in %d bytes", s, next, len(in))
			}
			next = s.End()
			return nil
		})
		if err == nil && next != base+len(in) {
			t.Fatalf("walk ended at %#x of %#x", next, base+len(in))
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
	})
}
