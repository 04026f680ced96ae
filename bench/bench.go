// Package bench measures chiphost: parse throughput next to native Go
// parsers, the JSON-RPC server end to end, plugin load, per-call and
// cancellation overhead, peak memory and scale (GitHub issue 5). Every
// figure that matters is a ratio to a baseline measured in the same run,
// from medians of several interleaved runs, because the machines it runs on
// are noisy.
//
// The suite drives the public runtime and driver packages in-process, and
// the chiphost binary (serve and parse) as child processes. It must not
// import runtime/internal packages.
//
//	rep, err := bench.Run(ctx, &bench.Config{Fixtures: "testdata/plugins", Exe: exe})
//	rep.WriteTable(os.Stdout)
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// Config selects what to measure. The zero value (plus Fixtures and Exe)
// runs the default suite.
type Config struct {
	// Fixtures is testdata/plugins of the repository (the test plugins).
	Fixtures string
	// Exe is the chiphost binary, for the sections that spawn it.
	Exe string
	// Runs is the number of timed runs per figure (default 5; Quick: 1).
	Runs int
	// Quick shrinks every input and runs each figure once: a smoke run.
	Quick bool
	// Sections limits the suite to these section numbers (1–6); empty: all.
	Sections []int
	// Log receives progress lines (default: discard).
	Log io.Writer

	// Parser switches to plugin-author mode: measure this plugin on Input.
	Parser string
	Input  string
	// Settings turns the plugin's config flags into settings (author mode).
	Settings func(*runtime.Plugin) ([]schema.Setting, error)
	// Baseline is "auto" (string_parser when the plugin has its config
	// items lossy and prefix), "string_parser", "text" or "none".
	Baseline string
}

func (c *Config) runs() int {
	if c.Quick {
		return 1
	}
	if c.Runs > 0 {
		return c.Runs
	}
	return 5
}

func (c *Config) want(section int) bool {
	if len(c.Sections) == 0 {
		return true
	}
	for _, s := range c.Sections {
		if s == section {
			return true
		}
	}
	return false
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "bench: "+format+"\n", args...)
	}
}

func (c *Config) fixture(rel string) string {
	return filepath.Join(c.Fixtures, filepath.FromSlash(rel))
}

// Figure is one measured quantity: the median, min and max of its runs.
type Figure struct {
	Section int     `json:"section"`
	Name    string  `json:"name"`
	Unit    string  `json:"unit"`
	Median  float64 `json:"median"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Runs    int     `json:"runs"`
	Note    string  `json:"note,omitempty"`
}

// Ratio is a ratio of two medians from the same run, with the issue's
// target when there is one.
type Ratio struct {
	Section int     `json:"section"`
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Target  string  `json:"target,omitempty"`
	Met     *bool   `json:"met,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// Report is the result of a run.
type Report struct {
	Machine  Machine  `json:"machine"`
	Command  string   `json:"command,omitempty"`
	Quick    bool     `json:"quick"`
	Runs     int      `json:"runs"`
	Figures  []Figure `json:"figures"`
	Ratios   []Ratio  `json:"ratios"`
	Skipped  []string `json:"skipped,omitempty"`
	Duration float64  `json:"durationSeconds"`
}

// Machine describes where the run happened.
type Machine struct {
	GoVersion  string `json:"goVersion"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"numCPU"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu,omitempty"`
	MemTotal   string `json:"memTotal,omitempty"`
	Load       string `json:"loadavg,omitempty"`
}

func machine() Machine {
	m := Machine{GoVersion: goruntime.Version(), GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH, NumCPU: goruntime.NumCPU(), GOMAXPROCS: goruntime.GOMAXPROCS(0)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		l, _, _ := strings.Cut(string(b), "\n")
		m.MemTotal = strings.Join(strings.Fields(strings.TrimPrefix(l, "MemTotal:")), " ")
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

// Run runs the suite (or plugin-author mode when cfg.Parser is set).
func Run(ctx context.Context, cfg *Config) (*Report, error) {
	start := time.Now()
	r := &Report{Machine: machine(), Quick: cfg.Quick, Runs: cfg.runs()}
	b := &bencher{cfg: cfg, rep: r}
	defer b.cleanup()
	var err error
	if cfg.Parser != "" {
		err = b.author(ctx)
	} else {
		err = b.suite(ctx)
	}
	r.Duration = time.Since(start).Seconds()
	return r, err
}

// bencher carries one run's state.
type bencher struct {
	cfg      *Config
	rep      *Report
	tmp      string // temp dir, removed at the end
	cacheDir string // a populated compilation cache shared by the warm figures
	closers  []func()
}

func (b *bencher) cleanup() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

func (b *bencher) tempDir() (string, error) {
	if b.tmp == "" {
		d, err := os.MkdirTemp("", "chiphost-bench-*")
		if err != nil {
			return "", err
		}
		b.tmp = d
	}
	return b.tmp, nil
}

// section runs one section and records a failure as a skipped note instead
// of ending the suite.
func (b *bencher) section(ctx context.Context, n int, name string, f func(context.Context) error) error {
	if !b.cfg.want(n) {
		return nil
	}
	b.cfg.logf("section %d: %s", n, name)
	t := time.Now()
	err := f(ctx)
	b.cfg.logf("section %d done in %.1fs", n, time.Since(t).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.skip(n, fmt.Sprintf("%s: failed: %v", name, err))
	}
	return nil
}

func (b *bencher) skip(section int, why string) {
	why, _, _ = strings.Cut(why, "\n") // wasm stack traces follow the first line
	b.rep.Skipped = append(b.rep.Skipped, fmt.Sprintf("§%d %s", section, why))
	b.cfg.logf("§%d not measured: %s", section, why)
}

func (b *bencher) suite(ctx context.Context) error {
	if b.cfg.Fixtures == "" {
		return errors.New("bench: Config.Fixtures is required (testdata/plugins of the chiphost repository)")
	}
	if _, err := os.Stat(b.cfg.fixture("parsers/string_parser/string_parser.wasm")); err != nil {
		return fmt.Errorf("bench: fixtures: %w", err)
	}
	dir, err := b.tempDir()
	if err != nil {
		return err
	}
	b.cacheDir = filepath.Join(dir, "cache")
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
	}
	for _, s := range steps {
		if err := b.section(ctx, s.n, s.name, s.f); err != nil {
			return err
		}
	}
	return nil
}

// ---- recording -------------------------------------------------------------

// stats summarises samples of one quantity.
func stats(xs []float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

// figure records a figure and returns its median.
func (b *bencher) figure(section int, name, unit string, xs []float64, note string) float64 {
	med, lo, hi := stats(xs)
	b.rep.Figures = append(b.rep.Figures, Figure{Section: section, Name: name, Unit: unit, Median: med, Min: lo, Max: hi, Runs: len(xs), Note: note})
	return med
}

// ratio records num/den. target is "≥ x" or "≤ x" (or ""); note explains.
func (b *bencher) ratio(section int, name string, num, den float64, target, note string) float64 {
	v := 0.0
	if den != 0 {
		v = num / den
	}
	r := Ratio{Section: section, Name: name, Value: v, Target: target, Note: note}
	if target != "" {
		var x float64
		var op string
		if _, err := fmt.Sscanf(target, "%s %g", &op, &x); err == nil {
			met := (op == "≥" && v >= x) || (op == "≤" && v <= x)
			r.Met = &met
		}
	}
	b.rep.Ratios = append(b.rep.Ratios, r)
	return v
}

// sample is one timed run.
type sample struct {
	secs  float64
	bytes uint64
	items uint64
	calls uint64
}

func (s sample) mbps() float64    { return float64(s.bytes) / s.secs / 1e6 }
func (s sample) itemsps() float64 { return float64(s.items) / s.secs }
func (s sample) callsps() float64 { return float64(s.calls) / s.secs }

// runner is one contender of an interleaved comparison.
type runner struct {
	name string
	run  func(context.Context) (sample, error)
}

// interleave runs every contender once per round, for runs rounds after a
// warm-up round (skipped in quick mode), so that a noisy neighbour hits all
// of them alike. It returns the samples per contender.
func (b *bencher) interleave(ctx context.Context, runs int, rs []runner) ([][]sample, error) {
	out := make([][]sample, len(rs))
	warm := 1
	if b.cfg.Quick {
		warm = 0
	}
	for round := -warm; round < runs; round++ {
		for i, r := range rs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s, err := r.run(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			if round >= 0 {
				out[i] = append(out[i], s)
			}
		}
	}
	return out, nil
}

func mapf(ss []sample, f func(sample) float64) []float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return xs
}

func timed(f func() (sample, error)) (sample, error) {
	t := time.Now()
	s, err := f()
	s.secs = time.Since(t).Seconds()
	return s, err
}
