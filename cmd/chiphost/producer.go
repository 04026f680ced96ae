package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// produceCmd is `parse --producer PLUGIN`: a producer plugin finds its own
// input (named in its config), so there is no FILE, parser or byte source.
func produceCmd(ctx context.Context, pf *parseFlags, args []string, stdout, stderr io.Writer) error {
	if err := checkProducerFlags(pf, args); err != nil {
		return err
	}
	matcher, err := pf.grep.matcher()
	if err != nil {
		return err
	}
	line := newStatusLine(pf.progress, stderr)
	if line != nil {
		defer line.finish()
		stderr = line
		ctx = runtime.WithCompileTrace(ctx, line.compileTrace())
	}
	h, done, err := newHost(ctx, "parse", &pf.host, stderr)
	if err != nil {
		return err
	}
	defer done()
	p, err := resolvePlugin(ctx, h, pf.producer, pf.host.roots(), runtime.Producer)
	if err != nil {
		return err
	}
	settings, err := configFrom(p, pf.config)
	if err != nil {
		return err
	}
	pr, err := p.NewProducer(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return initError(err)
	}
	defer pr.Close()

	w := bufio.NewWriterSize(stdout, 256<<10)
	defer w.Flush()
	var sink driver.Sink = &printSink{w: w, jsonl: pf.output == "jsonl", dir: pf.attachments}
	var grep *grepSink
	if matcher != nil { // --grep as with a parser
		grep = &grepSink{next: sink, m: matcher}
		if pf.grep.count {
			grep.next = nil
		}
		sink = grep
	}
	runOpts := &driver.Options{}
	if line != nil {
		line.setTotal(-1) // a producer's input has no size chiphost knows
		runOpts.Progress = line.update
	}
	stats, err := driver.RunProducer(ctx, pr, sink, runOpts)
	if line != nil {
		line.finish()
	}
	if err == nil && grep != nil && pf.grep.count {
		_, err = fmt.Fprintln(w, grep.matches)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("after %d rows (%d produce-next calls): %w", stats.Items, stats.Calls, err)
	}
	if stats.TruncatedRows > 0 {
		fmt.Fprintf(stderr, "chiphost parse: warning: %d row(s) longer than %d bytes of text were cut to that size\n", stats.TruncatedRows, driver.DefaultMaxRowBytes)
	}
	return nil
}

// checkProducerFlags refuses what a producer run cannot use.
func checkProducerFlags(pf *parseFlags, args []string) error {
	switch {
	case pf.follow: // before FILE: --follow FILE is the likely mistake
		return usageError{errorf("--follow does not apply to --producer: the producer reads the input its config names and decides when it ends (done)")}
	case len(args) > 0:
		return usageError{errorf("--producer takes no FILE: the producer reads the input its config names (--config id=value)")}
	case pf.parser != "":
		return usageError{errorf("give --parser or --producer, not both: a producer returns rows itself")}
	case pf.source != "" || len(pf.sourceConfig) > 0:
		return usageError{errorf("--source and --source-config do not apply to --producer: the producer reads its own input")}
	case pf.chipmunkGuards:
		return usageError{errorf("--chipmunk-guards does not apply to --producer: they count parse errors")}
	case pf.output != "text" && pf.output != "jsonl":
		return usageError{errorf("--output must be text or jsonl, found %q", pf.output)}
	}
	return nil
}
