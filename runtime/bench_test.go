package runtime_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/stringparser"
	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// BenchmarkParse measures parse throughput (MB/s of log input, items/s)
// of each string_parser build next to the native Go implementation of the
// same parser, in the same run: compare the sub-benchmarks' MB/s for the
// wasm/native ratio. The sink reads every column, as a consumer would. The
// JavaScript build is left out: its interpreter runs at well under 1 MB/s,
// which says nothing about chiphost.
func BenchmarkParse(b *testing.B) {
	input := genLog(8<<20, false)
	h := newTestHost(b, nil)
	plain := newTestHost(b, &Options{NoInterruptChecks: true})
	parsers := []struct {
		name string
		new  func() driver.Parser
	}{
		{"native-go", func() driver.Parser { return &stringparser.Parser{} }},
		{"c-wasm", func() driver.Parser {
			return newParser(b, h, fixture(b, "parsers/string_parser/string_parser.wasm"), nil)
		}},
		// The same without interrupt checks: what the checks cost.
		{"c-wasm-unchecked", func() driver.Parser {
			return newParser(b, plain, fixture(b, "parsers/string_parser/string_parser.wasm"), nil)
		}},
	}
	for _, p := range parsers {
		b.Run(p.name, func(b *testing.B) {
			parser := p.new()
			b.SetBytes(int64(len(input)))
			b.ResetTimer()
			var items uint64
			var sum int
			for i := 0; i < b.N; i++ {
				stats, err := driver.Run(context.Background(), &driver.ReaderSource{R: bytes.NewReader(input)}, parser, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
					for _, r := range rows {
						for _, c := range r.Item.Message.Columns {
							sum += len(c)
						}
					}
					return nil
				}), nil)
				if err != nil {
					b.Fatal(err)
				}
				items += stats.Items
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
			if sum == 0 {
				b.Fatal("no columns")
			}
		})
	}
}

// BenchmarkLoad compares a cold load (no caches: decode, instrument,
// compile, metadata instance) with a warm one (a new Host, as a new process
// would create, over a populated on-disk cache), and a warm open: load plus
// a new initialised parser instance.
func BenchmarkLoad(b *testing.B) {
	for _, fx := range []string{"parsers/string_parser/string_parser.wasm", "parsers/go_records/go_records.wasm"} {
		path := fixture(b, fx)
		name := strings.TrimSuffix(filepath.Base(fx), ".wasm")
		ctx := context.Background()
		b.Run(name+"/cold", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h := newTestHost(b, &Options{NoCache: true})
				if _, err := h.Load(ctx, path); err != nil {
					b.Fatal(err)
				}
				h.Close(ctx)
			}
		})
		cache := b.TempDir()
		warm := newTestHost(b, &Options{CacheDir: cache})
		if _, err := warm.Load(ctx, path); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/warm", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h := newTestHost(b, &Options{CacheDir: cache})
				if _, err := h.Load(ctx, path); err != nil {
					b.Fatal(err)
				}
				h.Close(ctx)
			}
		})
		b.Run(name+"/warm-open", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h := newTestHost(b, &Options{CacheDir: cache})
				p, err := h.Load(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				pi, err := p.NewParser(ctx, nil)
				if err != nil && KindOf(err) != KindPluginError {
					b.Fatal(err)
				}
				if pi != nil {
					pi.Close()
				}
				h.Close(ctx)
			}
		})
	}
}

// BenchmarkCallOverhead parses a one-line input per call: the fixed cost of
// a plugin call (lowering, deadline arming, the call, lifting, post-return)
// next to the native parser doing the same work.
func BenchmarkCallOverhead(b *testing.B) {
	h := newTestHost(b, nil)
	line := []byte("2026-11-25T08:00:02.500Z INFO  http: GET /status 200 3ms\n")
	for _, p := range []struct {
		name string
		p    driver.Parser
	}{
		{"native-go", &stringparser.Parser{}},
		{"c-wasm", newParser(b, h, fixture(b, "parsers/string_parser/string_parser.wasm"), nil)},
	} {
		b.Run(p.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				items, err := p.p.Parse(ctx, line, nil)
				if err != nil || len(items) != 1 {
					b.Fatal(err, len(items))
				}
			}
		})
	}
}

// BenchmarkWASIP2 compares the JavaScript string parser built with WASI 0.2
// on (its main module imports wasi:io, wasi:clocks and wasi:random directly,
// served by chiphost's WASI 0.2 host) with the same code built without WASI:
// each iteration parses the same 256 KiB with one, then the other, so that
// a busy machine slows both alike. It reports both MB/s and their ratio,
// wasi-0.2/wasi-off (the target: at least 0.9). Run with
// -benchtime=5x; the JavaScript engine parses well under 1 MB/s.
func BenchmarkWASIP2(b *testing.B) {
	input := genLog(256<<10, false)
	h := newTestHost(b, nil)
	off := newParser(b, h, fixture(b, "parsers/js_string_parser/js_string_parser.wasm"), nil)
	on := newParser(b, h, fixture(b, "wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm"), nil)
	run := func(p driver.Parser) time.Duration {
		start := time.Now()
		if _, err := driver.Run(context.Background(), &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(context.Context, []driver.Row) error { return nil }), nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var tOff, tOn time.Duration
	for i := 0; i < b.N; i++ {
		tOff += run(off)
		tOn += run(on)
	}
	mb := float64(len(input)*b.N) / 1e6
	b.ReportMetric(mb/tOff.Seconds(), "MB/s-wasi-off")
	b.ReportMetric(mb/tOn.Seconds(), "MB/s-wasi-0.2")
	b.ReportMetric(tOff.Seconds()/tOn.Seconds(), "ratio")
}
