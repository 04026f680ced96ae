// Package benchkit is the measuring kit shared by `chiphost bench` (one
// plugin, for plugin authors) and the project's own benchmark suite
// (bench/, not part of the chiphost binary): interleaved runs, medians,
// ratios to a baseline measured in the same run, and the report. Every
// figure that matters is a ratio, from medians of several interleaved runs,
// because the machines it runs on are noisy.
package benchkit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"
)

// Options are what every measurement takes.
type Options struct {
	// Runs is the number of timed runs per figure (default 5; Quick: 1).
	Runs int
	// Quick shrinks every input and runs each figure once: a smoke run.
	Quick bool
	// Log receives progress lines (default: discard).
	Log io.Writer
	// SectionTitles names the report's sections in its tables.
	SectionTitles map[int]string
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

// Ratio is a ratio of two medians from the same run, with a target when
// there is one.
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

	sectionTitles map[int]string
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

// Bench carries one run's state: the report being filled, a temporary
// directory and what to close at the end.
type Bench struct {
	opts  Options
	rep   *Report
	start time.Time
	tmp   string // temp dir, removed by Close
	// CacheDir is a compilation cache shared by the warm figures (under
	// the temporary directory).
	CacheDir string
	closers  []func()
}

// New starts a run. Close it to get the report and remove its files.
func New(opts Options) (*Bench, error) {
	b := &Bench{opts: opts, start: time.Now()}
	b.rep = &Report{Machine: machine(), Quick: opts.Quick, Runs: b.Runs(), sectionTitles: opts.SectionTitles}
	d, err := os.MkdirTemp("", "chiphost-bench-*")
	if err != nil {
		return nil, err
	}
	b.tmp, b.CacheDir = d, filepath.Join(d, "cache")
	return b, nil
}

// Close closes what the run opened, removes its files and returns the
// report.
func (b *Bench) Close() *Report {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
	os.RemoveAll(b.tmp)
	b.rep.Duration = time.Since(b.start).Seconds()
	return b.rep
}

// OnClose registers f to run when the run ends (last registered, first run).
func (b *Bench) OnClose(f func()) { b.closers = append(b.closers, f) }

// TempDir is the run's temporary directory.
func (b *Bench) TempDir() string { return b.tmp }

// Quick reports whether this is a smoke run.
func (b *Bench) Quick() bool { return b.opts.Quick }

// Runs is the number of timed runs per figure.
func (b *Bench) Runs() int {
	if b.opts.Quick {
		return 1
	}
	if b.opts.Runs > 0 {
		return b.opts.Runs
	}
	return 5
}

// Size picks an input size: full, or quick in a smoke run.
func (b *Bench) Size(full, quick int) int {
	if b.opts.Quick {
		return quick
	}
	return full
}

// Logf writes a progress line.
func (b *Bench) Logf(format string, args ...any) {
	if b.opts.Log != nil {
		fmt.Fprintf(b.opts.Log, "bench: "+format+"\n", args...)
	}
}

// Section runs one section and records a failure as a "not measured" note
// instead of ending the run; only cancellation ends it.
func (b *Bench) Section(ctx context.Context, n int, name string, f func(context.Context) error) error {
	b.Logf("section %d: %s", n, name)
	t := time.Now()
	err := f(ctx)
	b.Logf("section %d done in %.1fs", n, time.Since(t).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.Skip(n, fmt.Sprintf("%s: failed: %v", name, err))
	}
	return nil
}

// Skip records that something in a section was not measured, and why.
func (b *Bench) Skip(section int, why string) {
	why, _, _ = strings.Cut(why, "\n") // wasm stack traces follow the first line
	b.rep.Skipped = append(b.rep.Skipped, fmt.Sprintf("§%d %s", section, why))
	b.Logf("§%d not measured: %s", section, why)
}

// Stats summarises samples of one quantity.
func Stats(xs []float64) (med, lo, hi float64) {
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

// Figure records a figure and returns its median.
func (b *Bench) Figure(section int, name, unit string, xs []float64, note string) float64 {
	med, lo, hi := Stats(xs)
	b.rep.Figures = append(b.rep.Figures, Figure{Section: section, Name: name, Unit: unit, Median: med, Min: lo, Max: hi, Runs: len(xs), Note: note})
	return med
}

// Ratio records num/den. target is "≥ x" or "≤ x" (or ""); note explains.
func (b *Bench) Ratio(section int, name string, num, den float64, target, note string) float64 {
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

// Sample is one timed run.
type Sample struct {
	Secs  float64
	Bytes uint64
	Items uint64
	Calls uint64
}

// MBps is the sample's throughput in MB/s (10^6 bytes).
func (s Sample) MBps() float64 { return float64(s.Bytes) / s.Secs / 1e6 }

// ItemsPerSec is the sample's items per second.
func (s Sample) ItemsPerSec() float64 { return float64(s.Items) / s.Secs }

// CallsPerSec is the sample's parse calls per second.
func (s Sample) CallsPerSec() float64 { return float64(s.Calls) / s.Secs }

// Millis is the sample's duration in milliseconds.
func (s Sample) Millis() float64 { return s.Secs * 1000 }

// Runner is one contender of an interleaved comparison.
type Runner struct {
	Name string
	Run  func(context.Context) (Sample, error)
}

// Interleave runs every contender once per round, for runs rounds after a
// warm-up round (skipped in quick mode), so that a noisy neighbour hits all
// of them alike. It returns the samples per contender.
func (b *Bench) Interleave(ctx context.Context, runs int, rs []Runner) ([][]Sample, error) {
	out := make([][]Sample, len(rs))
	warm := 1
	if b.opts.Quick {
		warm = 0
	}
	for round := -warm; round < runs; round++ {
		for i, r := range rs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s, err := r.Run(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
			if round >= 0 {
				out[i] = append(out[i], s)
			}
		}
	}
	return out, nil
}

// Map applies f to every sample.
func Map(ss []Sample, f func(Sample) float64) []float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return xs
}

// Timed runs f and sets the sample's duration.
func Timed(f func() (Sample, error)) (Sample, error) {
	t := time.Now()
	s, err := f()
	s.Secs = time.Since(t).Seconds()
	return s, err
}
