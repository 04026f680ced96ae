package bench

import (
	"context"
	"testing"

	"github.com/chiphost/chiphost/internal/gorecords"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

const fixtures = "../testdata/plugins"

func TestStats(t *testing.T) {
	med, lo, hi := stats([]float64{3, 1, 2, 10})
	if med != 2.5 || lo != 1 || hi != 10 {
		t.Fatalf("stats = %v %v %v", med, lo, hi)
	}
	b := &bencher{cfg: &Config{}, rep: &Report{}}
	if v := b.ratio(1, "x", 1, 2, "≥ 0.5", ""); v != 0.5 || !*b.rep.Ratios[0].Met {
		t.Fatalf("ratio = %v met %v", v, *b.rep.Ratios[0].Met)
	}
	if b.ratio(1, "y", 3, 2, "≤ 1.4", ""); *b.rep.Ratios[1].Met {
		t.Fatal("1.5 ≤ 1.4 met")
	}
}

// TestNativeRecords checks the native go_records against the plugin.
func TestNativeRecords(t *testing.T) {
	ctx := context.Background()
	b := &bencher{cfg: &Config{Fixtures: fixtures}, rep: &Report{}}
	defer b.cleanup()
	h, err := b.host(ctx, runtime.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, max := range []int32{0, 1} {
		p, err := b.newParser(ctx, h, b.cfg.fixture(fxGo), map[string]schema.Value{"max-items": {Type: schema.Integer, Int: max}})
		if err != nil {
			t.Fatal(err)
		}
		if err := sameRows(ctx, &gorecords.Parser{MaxItems: int(max)}, p, GenRecords(64<<10)); err != nil {
			t.Fatalf("max-items=%d: %v", max, err)
		}
	}
}

// BenchmarkPipeline is §2's in-process pipeline (parse → JSON rows → a
// second goroutine) with the native and the C wasm string_parser.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	bb := &bencher{cfg: &Config{Fixtures: fixtures}, rep: &Report{}}
	defer bb.cleanup()
	h, err := bb.host(ctx, runtime.Options{NoCache: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := bb.newParser(ctx, h, bb.cfg.fixture(fxString), nil)
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
