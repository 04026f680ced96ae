package bench

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/internal/gorecords"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

const fixtures = "../testdata/plugins"

// newBencher starts a run for a test, closed when the test ends.
func newBencher(t testing.TB) *bencher {
	t.Helper()
	kit, err := benchkit.New(benchkit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kit.Close() })
	return &bencher{Bench: kit, cfg: &Config{Fixtures: fixtures}}
}

// TestNativeRecords checks the native go_records against the plugin.
func TestNativeRecords(t *testing.T) {
	ctx := context.Background()
	b := newBencher(t)
	h, err := b.Host(ctx, runtime.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, max := range []int32{0, 1} {
		p, err := b.NewParser(ctx, h, b.cfg.fixture(fxGo), map[string]schema.Value{"max-items": {Type: schema.Integer, Int: max}})
		if err != nil {
			t.Fatal(err)
		}
		if err := benchkit.SameRows(ctx, &gorecords.Parser{MaxItems: int(max)}, p, GenRecords(64<<10)); err != nil {
			t.Fatalf("max-items=%d: %v", max, err)
		}
	}
}

// TestSuiteQuick runs the command of docs/performance.md as a smoke run of
// sections 2 (through a spawned chiphost serve, with the Go reader and,
// when their tools are installed, the Python and Node clients, so that a
// client change that breaks their benchmark scripts fails here), 4
// (in-process, plus a plugin built with clang when present) and 7 (live
// sources: every line written to a pipe or a followed file reached the CLI
// and the server's clients, one at a time, and a fast follow delivered
// every row in order) and 8 (search: the server's searches and the CLI's
// --grep found as many rows as grep -c): nothing failed. CHIPHOST_BENCH_ALL=1
// runs every section (slow).
func TestSuiteQuick(t *testing.T) {
	args := []string{"run", "./cmd/chiphost-bench", "--quick", "--json", "--fixtures", fixtures}
	if os.Getenv("CHIPHOST_BENCH_ALL") == "" {
		args = append(args, "--sections", "2,4,7,8")
	}
	cmd := exec.Command("go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var rep benchkit.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	for _, s := range rep.Skipped {
		if strings.Contains(s, "failed") {
			t.Errorf("skipped: %s", s)
		}
	}
	sections := map[int]bool{}
	for _, f := range rep.Figures {
		sections[f.Section] = true
	}
	if !sections[2] || !sections[4] || !sections[7] || !sections[8] || len(rep.Ratios) == 0 {
		t.Fatalf("want figures of sections 2, 4, 7 and 8 and ratios, got %s", out)
	}
	checkLiveFigures(t, &rep)
	// The Go reader always runs; each client runs where its tools are.
	readers := map[string]string{"server": ""}
	if _, err := exec.LookPath("python3"); err == nil {
		readers["python"] = ""
	} else {
		t.Log("Python client not required: python3 not found")
	}
	_, errNode := exec.LookPath("node")
	if _, err := os.Stat("../clients/node/node_modules/vscode-jsonrpc"); err == nil && errNode == nil {
		readers["node"] = ""
	} else {
		t.Log("Node client not required: node or clients/node/node_modules (npm ci) missing")
	}
	for reader := range readers {
		n := 0
		for _, f := range rep.Figures {
			if strings.HasPrefix(f.Name, "through chiphost serve: "+reader+"-") && f.Median > 0 {
				n++
			}
		}
		if n != 4 { // grab and stream, MB/s and rows/s each
			t.Errorf("%d figures for the %s reader, want 4 (not measured: %q)", n, reader, rep.Skipped)
		}
	}
}

// checkLiveFigures checks that section 7 measured every case: the latency
// of each reader, input and parser, streaming reads against full windows
// on a file and a pipe with each parser, and each fast follow.
func checkLiveFigures(t *testing.T, rep *benchkit.Report) {
	t.Helper()
	count := func(prefix, unit string) int {
		n := 0
		for _, f := range rep.Figures {
			if f.Section == 7 && strings.HasPrefix(f.Name, prefix) && f.Unit == unit && f.Runs > 0 {
				n++
			}
		}
		return n
	}
	ratios := 0
	for _, r := range rep.Ratios {
		if r.Section == 7 && strings.HasPrefix(r.Name, "streaming / full windows") && r.Value > 0 {
			ratios++
		}
	}
	for _, c := range []struct {
		what string
		got  int
		want int
	}{
		{"latency p99 figures (2 inputs × 2 readers × 2 parsers, + updated/grab on the file × 2 parsers)", count("latency p99: ", "ms"), 10},
		{"streaming / full windows ratios (2 parsers × file and pipe × wall and CPU)", ratios, 8},
		{"fast follows with every row in order (CLI and server × 2 parsers, + 2 with chiphost stopped)", count("follow, ", "MB/s"), 6},
	} {
		if c.got != c.want {
			t.Errorf("section 7: %d %s, want %d (not measured: %q)", c.got, c.what, c.want, rep.Skipped)
		}
	}
}

// BenchmarkPipeline is §2's in-process pipeline (parse → JSON rows → a
// second goroutine) with the native and the C wasm string_parser.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	bb := newBencher(b)
	h, err := bb.Host(ctx, runtime.Options{NoCache: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := bb.NewParser(ctx, h, bb.cfg.fixture(fxString), nil)
	if err != nil {
		b.Fatal(err)
	}
	input := GenLog(8 << 20)
	for _, p := range []struct {
		name string
		p    driver.Parser
	}{{"native-go", &stringparser.Parser{}}, {"c-wasm", c}} {
		b.Run(p.name, func(b *testing.B) {
			run := pipelineRun(p.p, input)
			b.SetBytes(int64(len(input)))
			for i := 0; i < b.N; i++ {
				if _, err := run(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
