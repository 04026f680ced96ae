package abi

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// fakeMem is a linear memory over a byte slice with a bump allocator as
// its realloc; it grows like memory.grow when an allocation does not fit.
type fakeMem struct {
	b    []byte
	next uint32
}

func newFakeMem(n int) *fakeMem { return &fakeMem{b: make([]byte, n), next: 8} }

func (m *fakeMem) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.b)) {
		return nil, false
	}
	return m.b[off : off+n : off+n], true
}

func (m *fakeMem) Write(off uint32, v []byte) bool {
	if uint64(off)+uint64(len(v)) > uint64(len(m.b)) {
		return false
	}
	copy(m.b[off:], v)
	return true
}

func (m *fakeMem) realloc(_ context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
	if old != 0 || oldSize != 0 {
		return 0, fmt.Errorf("fakeMem: reallocation not supported")
	}
	p := alignTo(m.next, align)
	m.next = p + newSize
	for int(m.next) > len(m.b) {
		m.b = append(m.b, make([]byte, 64<<10)...)
	}
	return p, nil
}

func (m *fakeMem) lowerer() *Lowerer { return &Lowerer{Mem: m, Realloc: m.realloc} }

// Value constructors.
func num(n uint64) Value                   { return Value{Num: n} }
func sNum(n int64) Value                   { return Value{Num: uint64(n)} }
func str(s string) Value                   { return Value{Str: s} }
func byts(b ...byte) Value                 { return Value{Bytes: b} }
func elems(vs ...Value) Value              { return Value{Elems: vs} }
func cas(i uint64, payload ...Value) Value { return Value{Num: i, Elems: payload} }
func some(v Value) Value                   { return cas(1, v) }
func strs(ss ...string) Value {
	v := Value{}
	for _, s := range ss {
		v.Elems = append(v.Elems, str(s))
	}
	return v
}

// equal compares values treating nil and empty slices alike.
func equal(a, b Value) bool {
	if a.Num != b.Num || a.Str != b.Str || !bytes.Equal(a.Bytes, b.Bytes) || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !equal(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
