package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// benchFlags are the flags of bench.
type benchFlags struct {
	parser, producer     string
	input, baseline      string
	config               []string
	runs                 int
	quick, json, verbose bool
	cpuprofile           string
}

func (f *benchFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.parser, "parser", "", "the parser `PLUGIN` (.wasm) to measure (or --producer)")
	fs.StringVar(&f.producer, "producer", "", "the producer `PLUGIN` (.wasm) to measure instead, on the input its --config names (no --input)")
	fs.StringVar(&f.input, "input", "", "the input log `FILE` (required)")
	fs.StringVar(&f.baseline, "baseline", "auto", "native baseline: auto, string_parser, text or none")
	fs.StringArrayVar(&f.config, "config", nil, "parser or producer config value `id=value` (repeatable)")
	fs.IntVar(&f.runs, "runs", 5, "timed runs per figure (medians are reported)")
	fs.BoolVar(&f.quick, "quick", false, "smoke run: one run per figure")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON instead of tables")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the measurements to `FILE`")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log progress to stderr")
}

const benchExample = `  chiphost bench --parser my_parser.wasm --input app.log
  chiphost bench --parser my_parser.wasm --input app.log --config prefix='>' --json
  chiphost bench --producer my_producer.wasm --config input-path=app.log`

// newBenchCmd builds bench; cmdLine (chiphost's arguments) goes into the
// report.
func newBenchCmd(cmdLine []string, stdout, stderr io.Writer) *cobra.Command {
	var bf benchFlags
	cmd := &cobra.Command{
		Use:   "bench (--parser PLUGIN --input FILE | --producer PLUGIN)",
		Short: "Measure a parser or producer plugin: load times, throughput, ratio to a native baseline",
		Long: `bench measures one parser plugin on one input, for plugin authors: compile and
load times, throughput in MB/s and rows/s (medians of --runs runs), and the
ratio to a native baseline parser. With --producer it measures a producer
plugin instead, from init to done on the input its config names: rows/s,
produce-next calls/s, and MB/s of the files the config names.`,
		Example: benchExample,
		Args:    noArgs,
	}
	bf.register(cmd.Flags())
	completeValues(cmd, "baseline", "auto", "string_parser", "text", "none")
	cmd.RunE = ran(func(cmd *cobra.Command, _ []string) error {
		return benchCmd(cmd.Context(), &bf, cmdLine, stdout, stderr)
	})
	return cmd
}

// benchCmd measures one parser plugin on one input (plugin-author mode).
// The project's own benchmark suite is a separate command (bench/), not
// part of this binary.
func benchCmd(ctx context.Context, bf *benchFlags, cmdLine []string, stdout, stderr io.Writer) error {
	if bf.producer != "" && (bf.parser != "" || bf.input != "") {
		return usageError{fmt.Errorf("--producer takes neither --parser nor --input: the producer reads the input its --config names")}
	}
	if bf.producer == "" && (bf.parser == "" || bf.input == "") {
		return usageError{fmt.Errorf("--parser and --input are required (or --producer)")}
	}
	opts := benchkit.Options{Runs: bf.runs, Quick: bf.quick}
	if bf.verbose {
		opts.Log = stderr
	}
	settings := func(p *runtime.Plugin) ([]schema.Setting, error) { return configFrom(p, bf.config) }
	pl := benchkit.Plugin{Parser: bf.parser, Input: bf.input, Baseline: bf.baseline, Settings: settings}
	if bf.cpuprofile != "" {
		f, err := os.Create(bf.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rep *benchkit.Report
	var err error
	if bf.producer != "" {
		rep, err = benchkit.MeasureProducer(ctx, opts, benchkit.ProducerPlugin{Path: bf.producer, Settings: settings})
	} else {
		rep, err = benchkit.MeasurePlugin(ctx, opts, pl)
	}
	if rep != nil {
		rep.Command = "chiphost " + strings.Join(cmdLine, " ")
		if bf.json {
			if werr := rep.WriteJSON(stdout); err == nil {
				err = werr
			}
		} else if werr := rep.WriteTable(stdout); err == nil {
			err = werr
		}
	}
	return err
}
