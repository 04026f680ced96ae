package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/internal/gorecords"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

const (
	fxString  = "parsers/string_parser/string_parser.wasm"
	fxGo      = "parsers/go_records/go_records.wasm"
	fxJS      = "parsers/js_string_parser/js_string_parser.wasm"
	fxCoreStr = "core/string_parser.core.wasm"
)

// host returns a Host over the run's shared (warm) compilation cache,
// closed at the end of the run.
func (b *bencher) host(ctx context.Context, opts runtime.Options) (*runtime.Host, error) {
	if opts.CacheDir == "" && !opts.NoCache {
		opts.CacheDir = b.cacheDir
	}
	h, err := runtime.NewHost(ctx, &opts)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { h.Close(context.Background()) })
	return h, nil
}

// newParser loads path into h and opens a parser with cfg (other items at
// their defaults). The instance is closed at the end of the run.
func (b *bencher) newParser(ctx context.Context, h *runtime.Host, path string, cfg map[string]schema.Value) (*runtime.ParserInstance, error) {
	p, err := h.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	settings, err := schema.Complete(p.ConfigSchemas, cfg)
	if err != nil {
		return nil, err
	}
	pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, pi.Close)
	return pi, nil
}

// readSink reads every column of every row, as a consumer would.
func readSink() (driver.Sink, *int) {
	sum := new(int)
	return driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			if m := r.Item.Message; m != nil {
				*sum += len(m.Line)
				for _, c := range m.Columns {
					*sum += len(c)
				}
			}
		}
		return nil
	}), sum
}

var nopSink = driver.SinkFunc(func(context.Context, []driver.Row) error { return nil })

// parseRun parses input with p through driver.Run (chiphost's feeding).
func parseRun(p driver.Parser, input []byte, sink driver.Sink) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return timed(func() (sample, error) {
			st, err := driver.Run(ctx, &driver.ReaderSource{R: bytes.NewReader(input)}, p, sink, nil)
			return sample{bytes: uint64(len(input)), items: st.Items, calls: st.Calls}, err
		})
	}
}

func (b *bencher) size(full, quick int) int {
	if b.cfg.Quick {
		return quick
	}
	return full
}

func (b *bencher) parseSection(ctx context.Context) error {
	runs := b.cfg.runs()
	h, err := b.host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	plain, err := b.host(ctx, runtime.Options{NoInterruptChecks: true})
	if err != nil {
		return err
	}

	// string_parser: C wasm vs native Go, plus the decomposition of the
	// wasm time (no-op sink, guest only) and the interrupt checks (§4).
	input := GenLog(b.size(32<<20, 1<<20))
	c, err := b.newParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	cPlain, err := b.newParser(ctx, plain, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	if err := sameRows(ctx, &stringparser.Parser{}, c, input[:min(len(input), 4<<20)]); err != nil {
		return fmt.Errorf("string_parser rows differ from the native parser: %w", err)
	}
	guest, err := newGuestParser(ctx, b.cfg.fixture(fxCoreStr))
	if err != nil {
		return fmt.Errorf("guest-only string_parser: %w", err)
	}
	b.closers = append(b.closers, guest.close)
	sinkN, _ := readSink()
	sinkC, _ := readSink()
	sinkU, _ := readSink()
	ss, err := b.interleave(ctx, runs, []runner{
		{"native", parseRun(&stringparser.Parser{}, input, sinkN)},
		{"c-wasm", parseRun(c, input, sinkC)},
		{"c-wasm-unchecked", parseRun(cPlain, input, sinkU)},
		{"native-nop", parseRun(&stringparser.Parser{}, input, nopSink)},
		{"c-wasm-unchecked-nop", parseRun(cPlain, input, nopSink)},
		{"guest-only", parseRun(guest, input, nopSink)},
	})
	if err != nil {
		return err
	}
	nat := b.figure(1, "string_parser native Go (internal/stringparser), column-reading sink", "MB/s", mapf(ss[0], sample.mbps), fmt.Sprintf("%d MB generated log", len(input)>>20))
	b.figure(1, "string_parser native Go", "items/s", mapf(ss[0], sample.itemsps), "")
	cw := b.figure(1, "string_parser C wasm (interrupt checks on, the default)", "MB/s", mapf(ss[1], sample.mbps), "")
	b.figure(1, "string_parser C wasm", "items/s", mapf(ss[1], sample.itemsps), fmt.Sprintf("%d calls", ss[1][0].calls))
	cu := b.figure(1, "string_parser C wasm, NoInterruptChecks", "MB/s", mapf(ss[2], sample.mbps), "")
	natNop := b.figure(1, "string_parser native Go, no-op sink", "MB/s", mapf(ss[3], sample.mbps), "")
	full := b.figure(1, "string_parser C wasm, NoInterruptChecks, no-op sink", "MB/s", mapf(ss[4], sample.mbps), "")
	g := b.figure(1, "string_parser C core module, guest only (copy in + guest parse + post-return; no lift)", "MB/s", mapf(ss[5], sample.mbps), "direct wazero, fed by driver.Run like the plugin; reads only each record's consumed")
	b.ratio(1, "C wasm / native Go: string_parser", cw, nat, "≥ 0.5", "probe: 0.34")
	b.ratio(1, "C wasm / native Go, no-op sinks", full, natNop, "", "")
	b.ratio(1, "host share of wasm parse time (1 − guest-only / full, both unchecked, no-op sink)", 1-full/g, 1, "≤ 0.25", "lift + driver + Go-side call; probe: 0.50")
	b.ratio(1, "guest only / native Go", g, nat, "", "upper bound for wasm/native with a free lift")
	b.ratio(4, "cancellable parse / plain parse: C string_parser, interrupt checks / NoInterruptChecks", cw, cu, "≥ 0.8", "close-on-done: 0.20–0.23")

	// JavaScript string_parser (an interpreter in wasm) vs native on a small input.
	if js := b.cfg.fixture(fxJS); b.cfg.Quick {
		b.skip(1, "JS string_parser: skipped in quick mode (its 12 MB module compiles for tens of seconds cold)")
	} else if fileExists(js) {
		jsIn := GenLog(256 << 10)
		j, err := b.newParser(ctx, h, js, nil)
		if err != nil {
			return err
		}
		sinkJ, _ := readSink()
		ss, err := b.interleave(ctx, min(runs, 3), []runner{
			{"native", parseRun(&stringparser.Parser{}, jsIn, sinkN)},
			{"js-wasm", parseRun(j, jsIn, sinkJ)},
		})
		if err != nil {
			return err
		}
		n := b.figure(1, "string_parser native Go, JS input", "MB/s", mapf(ss[0], sample.mbps), fmt.Sprintf("%d KB log", len(jsIn)>>10))
		jw := b.figure(1, "string_parser JS wasm (componentize-js)", "MB/s", mapf(ss[1], sample.mbps), "")
		b.figure(1, "string_parser JS wasm", "items/s", mapf(ss[1], sample.itemsps), "")
		b.ratio(1, "JS wasm / native Go: string_parser", jw, n, "", "a JS interpreter compiled to wasm")
	} else {
		b.skip(1, "JS string_parser: fixture missing")
	}

	// go_records: Go wasm vs native Go, and one item per call.
	recIn := GenRecords(b.size(2<<20, 256<<10))
	gw, err := b.newParser(ctx, h, b.cfg.fixture(fxGo), nil)
	if err != nil {
		return err
	}
	g1, err := b.newParser(ctx, h, b.cfg.fixture(fxGo), map[string]schema.Value{"max-items": {Type: schema.Integer, Int: 1}})
	if err != nil {
		return err
	}
	if err := sameRows(ctx, &gorecords.Parser{}, gw, recIn[:min(len(recIn), 2<<20)]); err != nil {
		return fmt.Errorf("go_records rows differ from the native parser: %w", err)
	}
	ss, err = b.interleave(ctx, runs, []runner{
		{"native", parseRun(&gorecords.Parser{}, recIn, sinkN)},
		{"go-wasm", parseRun(gw, recIn, sinkN)},
		{"go-wasm-max1", parseRun(g1, recIn, sinkN)},
		{"native-max1", parseRun(&gorecords.Parser{MaxItems: 1}, recIn, sinkN)},
	})
	if err != nil {
		return err
	}
	rn := b.figure(1, "go_records native Go (internal/gorecords)", "MB/s", mapf(ss[0], sample.mbps), fmt.Sprintf("%d MB line|/cols| records", len(recIn)>>20))
	b.figure(1, "go_records native Go", "items/s", mapf(ss[0], sample.itemsps), "")
	rw := b.figure(1, "go_records Go wasm (wasip1)", "MB/s", mapf(ss[1], sample.mbps), "")
	b.figure(1, "go_records Go wasm", "items/s", mapf(ss[1], sample.itemsps), fmt.Sprintf("%d calls", ss[1][0].calls))
	r1 := b.figure(1, "go_records Go wasm, max-items=1 (one item per call)", "MB/s", mapf(ss[2], sample.mbps), "")
	b.figure(1, "go_records Go wasm, max-items=1", "calls/s", mapf(ss[2], sample.callsps), fmt.Sprintf("%d calls", ss[2][0].calls))
	n1 := b.figure(1, "go_records native Go, max-items=1", "MB/s", mapf(ss[3], sample.mbps), "")
	b.ratio(1, "Go wasm / native Go: go_records", rw, rn, "", "")
	b.ratio(1, "one item per call / all items per call: go_records wasm, chiphost's feeding", r1, rw, "≥ 0.25", "Chipmunk's feeding: 0.0007")
	b.ratio(1, "one item per call / all items per call: native go_records", n1, rn, "", "what the feeding alone costs")
	return nil
}

// sameRows checks that two parsers produce the same rows for input.
func sameRows(ctx context.Context, want, got driver.Parser, input []byte) error {
	collect := func(p driver.Parser) ([]string, error) {
		var rows []string
		_, err := driver.Run(ctx, &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
			for _, r := range rs {
				m := r.Item.Message
				if m == nil {
					rows = append(rows, "<none>")
					continue
				}
				s := strings.Clone(m.Line) // the lift's strings live until the next call
				if m.Columns != nil {
					s = fmt.Sprintf("%q", m.Columns)
				}
				rows = append(rows, s)
			}
			return nil
		}), nil)
		return rows, err
	}
	w, err := collect(want)
	if err != nil {
		return err
	}
	g, err := collect(got)
	if err != nil {
		return err
	}
	if len(w) != len(g) {
		return fmt.Errorf("%d rows, want %d", len(g), len(w))
	}
	for i := range w {
		if w[i] != g[i] {
			return fmt.Errorf("row %d: %q, want %q", i, g[i], w[i])
		}
	}
	return nil
}
