package search

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/chiphost/chiphost/internal/loggen"
	"github.com/chiphost/chiphost/internal/stringparser"
)

// benchBytes is the size of the generated log the benchmarks search
// (CHIPHOST_SEARCH_BENCH_MB overrides it).
func benchBytes() int {
	if mb, err := strconv.Atoi(os.Getenv("CHIPHOST_SEARCH_BENCH_MB")); err == nil && mb > 0 {
		return mb << 20
	}
	return 128 << 20
}

// benchSetup stores loggen's dirty log as line rows (the parser's lossy
// text) in a finished store, and writes the same lines to a file for grep.
func benchSetup(b *testing.B) (st *Store, file string, size int64) {
	b.Helper()
	dir := b.TempDir()
	st, err := NewStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	log := loggen.Log(benchBytes(), true)
	var text bytes.Buffer
	text.Grow(len(log))
	var row uint64
	for len(log) > 0 {
		i := bytes.IndexByte(log, '\n')
		line := []byte(stringparser.Lossy(log[:i]))
		if err := st.Append(row, Text{Line: line}); err != nil {
			b.Fatal(err)
		}
		text.Write(line)
		text.WriteByte('\n')
		row++
		log = log[i+1:]
	}
	st.Finish()
	file = filepath.Join(dir, "log.txt")
	if err := os.WriteFile(file, text.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return st, file, int64(text.Len())
}

// BenchmarkScan searches a finished store (the whole Search: chunks read
// from the files, prefilter, matching, bitmap) and reports its throughput
// and its ratio to grep -c over the same lines, timed in the same run.
//
//	go test -run '^$' -bench Scan ./internal/search
func BenchmarkScan(b *testing.B) {
	if _, err := exec.LookPath("grep"); err != nil {
		b.Skipf("grep is not installed (%v): no ratio to report", err)
	}
	st, file, size := benchSetup(b)
	for _, bc := range []struct {
		name string
		q    Query
		grep []string
	}{
		{"literal", Query{Pattern: "ERROR disk", CaseSensitive: true}, []string{"-F", "ERROR disk"}},
		{"literal-frequent", Query{Pattern: "ERROR", CaseSensitive: true}, []string{"-F", "ERROR"}},
		{"literal-i", Query{Pattern: "error disk"}, []string{"-F", "-i", "error disk"}},
		{"regex", Query{Pattern: `took \d+ms ERROR`, Kind: KindRegex, CaseSensitive: true}, []string{"-E", "took [0-9]+ms ERROR"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := Compile(Filter{Queries: []Query{bc.q}})
			if err != nil {
				b.Fatal(err)
			}
			grepTime, grepCount := timeGrep(b, file, bc.grep)
			b.SetBytes(size)
			b.ResetTimer()
			var p Progress
			for b.Loop() {
				s := Start(context.Background(), st, m, nil)
				<-s.Done()
				p = s.Progress()
			}
			b.StopTimer()
			if p.State != StateDone || p.Matches != grepCount {
				b.Fatalf("%+v, grep counts %d", p, grepCount)
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(size)/perOp/1e6, "MB/s")
			b.ReportMetric(float64(size)/grepTime.Seconds()/1e6, "grep-MB/s")
			b.ReportMetric(grepTime.Seconds()/perOp, "x-grep")
		})
	}
}

// timeGrep runs grep -c over file three times and returns the fastest run
// and the count.
func timeGrep(b *testing.B, file string, args []string) (time.Duration, uint64) {
	b.Helper()
	best := time.Duration(0)
	var count uint64
	for range 3 {
		cmd := exec.Command("grep", append(append([]string{"-c", "-a"}, args...), file)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		start := time.Now()
		out, err := cmd.Output()
		d := time.Since(start)
		if err != nil && cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("grep: %v", err)
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(out)), 10, 64)
		if err != nil {
			b.Fatalf("grep printed %q", out)
		}
		if best == 0 || d < best {
			best, count = d, n
		}
	}
	return best, count
}

// BenchmarkPage pages 100 matches at random positions, and finds the
// nearest match to random rows, among 10 million matches (every other row).
func BenchmarkPage(b *testing.B) {
	s := &Search{matches: roaring.New()}
	batch := make([]uint32, 0, 8192)
	const matches = 10_000_000
	for n := range matches {
		batch = append(batch, uint32(2*n))
		if len(batch) == cap(batch) {
			s.publish(batch, uint64(2*n), StateRunning, false)
			batch = batch[:0]
		}
	}
	s.publish(batch, 2*matches, StateRunning, false)
	s.finish(StateDone, nil)
	r := rand.New(rand.NewPCG(9, 10))
	b.Run("page-100", func(b *testing.B) {
		for b.Loop() {
			if len(s.Page(uint64(r.IntN(matches-100)), 100)) != 100 {
				b.Fatal("short page")
			}
		}
	})
	b.Run("nearest", func(b *testing.B) {
		for b.Loop() {
			if _, _, ok := s.Nearest(uint64(r.IntN(2*matches)), r.IntN(2) == 0); !ok {
				b.Fatal("no match")
			}
		}
	})
}
