package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/chiphost/chiphost/bench"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// benchCmd runs the benchmark suite (docs/performance.md), or measures one
// plugin with --parser and --input.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixtures := fs.String("fixtures", "", "the repository's testdata/plugins (default: found from the working directory upwards)")
	runs := fs.Int("runs", 5, "timed runs per figure (medians are reported)")
	quick := fs.Bool("quick", false, "smoke run: small inputs, one run per figure")
	sections := fs.String("sections", "", "comma-separated section numbers to run (1-6; default all)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the in-process sections to this file")
	verbose := fs.Bool("v", false, "log progress to stderr")
	parser := fs.String("parser", "", "plugin-author mode: the parser plugin (.wasm) to measure")
	input := fs.String("input", "", "plugin-author mode: the input log")
	baseline := fs.String("baseline", "auto", "plugin-author mode: native baseline: auto, string_parser, text or none")
	var config stringList
	fs.Var(&config, "config", "plugin-author mode: parser config value id=value (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if (*parser == "") != (*input == "") {
		return usageError{fmt.Errorf("-parser and -input go together")}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := &bench.Config{Exe: exe, Runs: *runs, Quick: *quick, Parser: *parser, Input: *input, Baseline: *baseline}
	if env := os.Getenv("CHIPHOST_BENCH_EXE"); env != "" {
		cfg.Exe = env
	}
	if *verbose {
		cfg.Log = stderr
	}
	for _, s := range strings.Split(*sections, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 6 {
			return usageError{fmt.Errorf("-sections: want numbers 1-6, found %q", s)}
		}
		cfg.Sections = append(cfg.Sections, n)
	}
	cfg.Settings = func(p *runtime.Plugin) ([]schema.Setting, error) { return configFrom(p, config) }
	if *parser == "" {
		cfg.Fixtures = *fixtures
		if cfg.Fixtures == "" {
			cfg.Fixtures = findFixtures()
		}
		if cfg.Fixtures == "" {
			return usageError{fmt.Errorf("testdata/plugins not found from the working directory: run in the chiphost repository or give -fixtures")}
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		rep.Command = "chiphost bench " + strings.Join(args, " ")
		if *asJSON {
			if werr := rep.WriteJSON(stdout); err == nil {
				err = werr
			}
		} else if werr := rep.WriteTable(stdout); err == nil {
			err = werr
		}
	}
	return err
}

// findFixtures looks for testdata/plugins from the working directory up.
func findFixtures() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "testdata", "plugins")
		if _, err := os.Stat(filepath.Join(p, "parsers")); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
