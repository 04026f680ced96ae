package abi

import (
	"context"
	"encoding/binary"
	"testing"
)

// FuzzLift lifts the parse result (and a few other Chipmunk types) from
// random memory at a random pointer: it must return a value or an error,
// never panic, and stay within MaxBytes. A value that lifts must survive a
// lower and a second lift unchanged.
func FuzzLift(f *testing.F) {
	mem, ret := parseFixture(f, 3, "héllo")
	f.Add(mem.b[:1024], ret)
	mem, ret = parseFixture(f, 1, "")
	f.Add(mem.b[:256], ret)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0}, uint32(0))
	f.Add(make([]byte, 64), uint32(8))

	sig := ExportSignature(fParse)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte, ptr uint32) {
		if len(data) > 1<<20 {
			data = data[:1<<20]
		}
		m := &fakeMem{b: data}
		l := NewLifter()
		l.MaxBytes = 16 << 20
		v, err := l.LiftResult(m, &sig, []uint64{uint64(ptr)})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
		} else {
			// Lower into a fresh memory and lift again.
			m2 := newFakeMem(1 << 16)
			p, _ := m2.realloc(ctx, 0, 0, 4, 16)
			if err := m2.lowerer().LowerTo(ctx, tParseResult, v, p); err != nil {
				t.Fatalf("lowering a lifted value: %v", err)
			}
			v2, err := NewLifter().LiftFrom(m2, tParseResult, p)
			if err != nil || !equal(v, v2) {
				t.Fatalf("relift: %v, equal %v", err, equal(v, v2))
			}
		}
		if l.used > l.MaxBytes+int64(len(data)) {
			t.Fatalf("lifter used %d bytes with MaxBytes %d", l.used, l.MaxBytes)
		}

		// Other types, from memory and from flat values made of the data.
		l.Reset()
		for _, s := range samples {
			_, _ = l.LiftFrom(m, s.t, ptr)
			flat := make([]uint64, len(Flatten(s.t)))
			for i := range flat {
				if off := 8 * i; off+8 <= len(data) {
					flat[i] = binary.LittleEndian.Uint64(data[off:])
				}
			}
			_, _ = l.LiftFlat(m, s.t, flat)
		}
	})
}
