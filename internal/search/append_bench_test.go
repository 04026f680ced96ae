package search

import (
	"bytes"
	"testing"

	"github.com/chiphost/chiphost/internal/loggen"
)

// BenchmarkAppend appends loggen's lines to a store (records, index,
// spills to the files).
func BenchmarkAppend(b *testing.B) {
	log := loggen.Log(64<<20, false)
	lines := bytes.Split(log[:len(log)-1], []byte("\n"))
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		st, err := NewStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		for i, l := range lines {
			if err := st.Append(uint64(i), Text{Line: l}); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/row")
}
