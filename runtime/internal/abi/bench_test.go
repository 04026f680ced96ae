package abi

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchFixture is a parse result of 1000 items, each a columns message of
// two ~50-byte columns (mostly ASCII), lowered into a fake memory, plus the (ptr, len) of
// every column for the baseline.
func benchFixture(b *testing.B) (mem *fakeMem, ret uint32, cols [][2]uint32, total int) {
	ctx := context.Background()
	mem = newFakeMem(1 << 20)
	items := make([]Value, 1000)
	for i := range items {
		// ~3% of lines carry multi-byte UTF-8, as in a typical application log.
		c1 := "2024-05-01T12:00:00.000Z host-1 service[1234]: " + string(rune('A'+i%26))
		c2 := strings.Repeat("log line payload ", 3)[:50]
		if i%32 == 0 {
			c2 = strings.Repeat("é", 25)
		}
		items[i] = elems(some(cas(0, cas(1, strs(c1, c2)))), num(uint64(len(c1)+len(c2)+1)))
		total += len(c1) + len(c2)
	}
	ret, _ = mem.realloc(ctx, 0, 0, 4, 16)
	if err := mem.lowerer().LowerTo(ctx, tParseResult, cas(0, elems(items...)), ret); err != nil {
		b.Fatal(err)
	}
	for i := range items {
		for j := range 2 {
			c := mem.column(ret, i, j)
			cols = append(cols, [2]uint32{mem.u32(c), mem.u32(c + 4)})
		}
	}
	return mem, ret, cols, total
}

// BenchmarkLiftParseResult lifts the parse hot path: 1000 items with two
// columns of ~50 bytes. MB/s counts column bytes.
func BenchmarkLiftParseResult(b *testing.B) {
	mem, ret, _, total := benchFixture(b)
	sig := ExportSignature(fParse)
	l := NewLifter()
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		l.Reset()
		v, err := l.LiftResult(mem, &sig, []uint64{uint64(ret)})
		if err != nil || len(v.Elems[0].Elems) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiftParseResultBaseline does the minimal work of the same lift:
// copy every column out of memory into a reused buffer and check it with
// utf8.Valid. The ratio of the two benchmarks is the cost of walking,
// validating and building Values.
func BenchmarkLiftParseResultBaseline(b *testing.B) {
	mem, _, cols, total := benchFixture(b)
	buf := make([]byte, 0, total)
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, c := range cols {
			src, _ := mem.Read(c[0], c[1])
			off := len(buf)
			buf = append(buf, src...)
			if !utf8.Valid(buf[off:]) {
				b.Fatal("invalid")
			}
		}
	}
}

// BenchmarkLowerParseArgs lowers parse's arguments: a 1 MiB list<u8>.
func BenchmarkLowerParseArgs(b *testing.B) {
	ctx := context.Background()
	mem := newFakeMem(4 << 20)
	w := mem.lowerer()
	sig := ExportSignature(fParse)
	args := []Value{byts(make([]byte, 1<<20)...), some(num(1))}
	var out []uint64
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		mem.next = 8
		var err error
		if out, err = w.LowerParams(ctx, &sig, args, out[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
