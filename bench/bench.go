// Package bench is chiphost's own benchmark suite (docs/performance.md):
// parse throughput next to native Go parsers, the JSON-RPC server end to
// end (with a Go reader and the Python and Node clients), plugin load,
// per-call and cancellation overhead, peak memory, scale and live sources
// (latency of a growing input, streaming reads' cost, a fast follow). It is a
// development tool, not part of the chiphost binary; run it with
//
//	go run ./bench/cmd/chiphost-bench
//
// It drives the public runtime and driver packages in-process, and the
// chiphost binary (serve and parse) as child processes. It must not import
// runtime/internal packages. The measuring kit it shares with `chiphost
// bench` (one plugin, for plugin authors) is internal/benchkit.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/chiphost/chiphost/internal/benchkit"
)

// Config selects what to measure.
type Config struct {
	// Fixtures is testdata/plugins of the repository (the test plugins).
	Fixtures string
	// Exe is the chiphost binary, for the sections that spawn it.
	Exe string
	// BaselineExe, when set, is another chiphost binary (say, one built
	// before a change) that section 7 times chiphost parse against.
	BaselineExe string
	// Runs is the number of timed runs per figure (default 5; Quick: 1).
	Runs int
	// Quick shrinks every input and runs each figure once: a smoke run.
	Quick bool
	// Sections limits the suite to these section numbers (1–8); empty: all.
	Sections []int
	// Live limits section 7 to some of its parts: "latency", "cost"
	// (streaming reads against Options.FullWindows) and "follow" (a file
	// growing at 20 MB/s); empty: all.
	Live []string
	// Log receives progress lines (default: discard).
	Log io.Writer
}

func (c *Config) want(section int) bool {
	return len(c.Sections) == 0 || slices.Contains(c.Sections, section)
}

func (c *Config) wantLive(part string) bool {
	return len(c.Live) == 0 || slices.Contains(c.Live, part)
}

func (c *Config) fixture(rel string) string {
	return filepath.Join(c.Fixtures, filepath.FromSlash(rel))
}

// sectionTitles name the report's sections.
var sectionTitles = map[int]string{
	1: "1 parse throughput, in-process",
	2: "2 end to end through the JSON-RPC server",
	3: "3 plugin load",
	4: "4 per-call and cancellation overhead",
	5: "5 peak memory",
	6: "6 scale",
	7: "7 live sources (issue 10)",
	8: "8 search (issue 12)",
}

// The fixtures the suite measures, relative to Config.Fixtures.
const (
	fxString  = "parsers/string_parser/string_parser.wasm"
	fxGo      = "parsers/go_records/go_records.wasm"
	fxJS      = "parsers/js_string_parser/js_string_parser.wasm"
	fxCoreStr = "core/string_parser.core.wasm"
)

// Run runs the suite and returns its report (also when a section failed:
// failures are listed in Report.Skipped).
func Run(ctx context.Context, cfg *Config) (*benchkit.Report, error) {
	if cfg.Fixtures == "" {
		return nil, errors.New("bench: Config.Fixtures is required (testdata/plugins of the chiphost repository)")
	}
	if _, err := os.Stat(cfg.fixture(fxString)); err != nil {
		return nil, fmt.Errorf("bench: fixtures: %w", err)
	}
	kit, err := benchkit.New(benchkit.Options{Runs: cfg.Runs, Quick: cfg.Quick, Log: cfg.Log, SectionTitles: sectionTitles})
	if err != nil {
		return nil, err
	}
	b := &bencher{Bench: kit, cfg: cfg}
	err = b.suite(ctx)
	return kit.Close(), err
}

// bencher is one run of the suite.
type bencher struct {
	*benchkit.Bench
	cfg *Config
}

func (b *bencher) suite(ctx context.Context) error {
	steps := []struct {
		n    int
		name string
		f    func(context.Context) error
	}{
		{1, "parse throughput", b.parseSection},
		{2, "end to end through the JSON-RPC server", b.e2eSection},
		{3, "plugin load", b.loadSection},
		{4, "per-call and cancellation overhead", b.overheadSection},
		{5, "peak memory", b.memorySection},
		{6, "scale", b.scaleSection},
		{7, "live sources", b.liveSection},
		{8, "search", b.searchSection},
	}
	for _, s := range steps {
		if !b.cfg.want(s.n) {
			continue
		}
		if err := b.Section(ctx, s.n, s.name, s.f); err != nil {
			return err
		}
	}
	return nil
}

// sample and runner are the kit's, named briefly for the sections.
type (
	sample = benchkit.Sample
	runner = benchkit.Runner
)
