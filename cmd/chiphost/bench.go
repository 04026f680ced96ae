package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// benchCmd measures one parser plugin on one input (plugin-author mode).
// The project's own benchmark suite is a separate command (bench/), not
// part of this binary.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	parser := fs.String("parser", "", "the parser plugin (.wasm) to measure (required)")
	input := fs.String("input", "", "the input log (required)")
	baseline := fs.String("baseline", "auto", "native baseline: auto, string_parser, text or none")
	var config stringList
	fs.Var(&config, "config", "parser config value id=value (repeatable)")
	runs := fs.Int("runs", 5, "timed runs per figure (medians are reported)")
	quick := fs.Bool("quick", false, "smoke run: one run per figure")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *parser == "" || *input == "" {
		return usageError{fmt.Errorf("-parser and -input are required")}
	}
	opts := benchkit.Options{Runs: *runs, Quick: *quick}
	if *verbose {
		opts.Log = stderr
	}
	pl := benchkit.Plugin{Parser: *parser, Input: *input, Baseline: *baseline,
		Settings: func(p *runtime.Plugin) ([]schema.Setting, error) { return configFrom(p, config) }}
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
	rep, err := benchkit.MeasurePlugin(ctx, opts, pl)
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
