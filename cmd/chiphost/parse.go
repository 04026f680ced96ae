package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chiphost/chiphost/internal/rowjson"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// parseFlags are the flags of parse.
type parseFlags struct {
	host           hostFlags
	parser         string
	producer       string
	source         string
	config         []string
	sourceConfig   []string
	output         string
	attachments    string
	chipmunkGuards bool
	follow         bool
	progress       progressMode
	grep           grepFlags
}

func (f *parseFlags) register(fs *pflag.FlagSet) {
	f.host.register(fs)
	fs.StringVar(&f.parser, "parser", "", "parser `PLUGIN` (.wasm path or discovered name); \"text\" for the built-in line parser (required, unless --producer)")
	fs.StringVar(&f.producer, "producer", "", "producer `PLUGIN` (.wasm path or discovered name) instead of --parser and FILE: it reads the input its --config names")
	fs.StringVar(&f.source, "source", "", "byte-source `PLUGIN` (.wasm path or discovered name) instead of FILE")
	fs.StringArrayVar(&f.config, "config", nil, "parser config value `id=value` (repeatable; repeat a files/directories id for several paths)")
	fs.StringArrayVar(&f.sourceConfig, "source-config", nil, "byte-source config value `id=value` (repeatable)")
	fs.StringVar(&f.output, "output", "text", "output `format`: text (columns separated by tabs) or jsonl")
	fs.StringVar(&f.attachments, "attachments", "", "`DIR` for attachments (default: a new temporary directory)")
	fs.BoolVar(&f.chipmunkGuards, "chipmunk-guards", false, "stop on Chipmunk's consecutive-error limits (2000 parse errors, 50 incompletes, 1024 initial skipped bytes)")
	fs.BoolVar(&f.follow, "follow", false, "keep reading FILE as it grows, like tail -F (truncation and rotation included), or keep polling a --source plugin whose reads come back empty; Ctrl-C ends the input and prints a summary")
	f.progress = progressAuto
	fs.Var(&f.progress, "progress", "progress line and compile messages on stderr: auto (when stderr is a terminal), always, never")
	f.grep.register(fs)
}

const parseLong = `parse runs a parser plugin over FILE (or stdin, or a byte-source plugin), or a
producer plugin (--producer, no FILE) on the input its config names, and
prints one row per line on stdout: the columns separated by tabs, or one JSON
object per row with --output jsonl. Errors, warnings and the progress line go
to stderr. Flags may come before or after FILE.

--grep PATTERN prints only the rows whose text (the columns joined by tabs)
contains PATTERN, as grep does with lines; jsonl rows keep their index. Give
it several times for rows that match any pattern. -i, --regex, --word and
--invert change how every pattern matches; --count prints only the number of
matching rows. With --follow, matching rows are printed as they arrive, and
--count prints the number when the input ends (Ctrl-C). The exit status is 0
whether or not a row matched (1 stays "the run failed"); a bad pattern is a
usage error (2), and so is going over the server's limits:
at most 64 patterns of at most 64 KiB (65536 bytes) each.`

const parseExample = `  chiphost parse --parser testdata/plugins/parsers/string_parser/string_parser.wasm examples/sample.log
  chiphost parse app.log --parser string_parser --config prefix='>' --output jsonl
  tail -n 100 app.log | chiphost parse --parser text -
  chiphost parse --parser my_parser --source file_source --source-config input-path=app.bin
  chiphost parse --parser string_parser --follow /var/log/app.log
  chiphost parse --parser text app.log --grep ERROR --grep WARN --output jsonl
  chiphost parse --parser text app.log --regex --grep 'took [0-9]{4,}ms' --count
  chiphost parse --parser text --follow app.log -i --grep timeout
  chiphost parse --producer file_producer --config input-path=app.log`

func newParseCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var pf parseFlags
	cmd := &cobra.Command{
		Use:     "parse (--parser PLUGIN [FILE|-] | --producer PLUGIN)",
		Short:   "Parse a file (or stdin, or a byte source) and print rows",
		Long:    parseLong,
		Example: parseExample,
		Args:    cobra.MaximumNArgs(1),
	}
	pf.register(cmd.Flags())
	completeValues(cmd, "output", "text", "jsonl")
	completeValues(cmd, "progress", string(progressAuto), string(progressAlways), string(progressNever))
	cmd.RunE = ran(func(cmd *cobra.Command, args []string) error {
		return parseCmd(cmd.Context(), &pf, args, stdin, stdout, stderr)
	})
	return cmd
}

// parseCmd runs parse on FILE (args[0]; none or "-" for stdin).
func parseCmd(ctx context.Context, pf *parseFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if pf.producer != "" {
		return produceCmd(ctx, pf, args, stdout, stderr)
	}
	if pf.parser == "" {
		return usageError{errorf("--parser (or --producer) is required")}
	}
	if pf.output != "text" && pf.output != "jsonl" {
		return usageError{errorf("--output must be text or jsonl, found %q", pf.output)}
	}
	if pf.source != "" && len(args) > 0 {
		return usageError{errorf("give one FILE (or - for stdin), or --source, not both")}
	}
	matcher, err := pf.grep.matcher()
	if err != nil {
		return err
	}
	file := "-"
	if len(args) == 1 {
		file = args[0]
	}
	if pf.follow && pf.source == "" && file == "-" {
		return usageError{errorf("--follow needs FILE or --source: stdin is always read until it ends")}
	}
	line := newStatusLine(pf.progress, stderr)
	if line != nil {
		defer line.finish()
		stderr = line // other stderr text erases the line first
		ctx = runtime.WithCompileTrace(ctx, line.compileTrace())
	}
	h, done, err := newHost(ctx, "parse", &pf.host, stderr)
	if err != nil {
		return err
	}
	defer done()
	roots := pf.host.roots()

	var parser driver.Parser
	parserName := "text"
	if pf.parser == "text" {
		parser = &driver.TextParser{}
	} else {
		p, err := resolvePlugin(ctx, h, pf.parser, roots, runtime.Parser)
		if err != nil {
			return err
		}
		settings, err := configFrom(p, pf.config)
		if err != nil {
			return err
		}
		pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
		if err != nil {
			return initError(err)
		}
		defer pi.Close()
		parser, parserName = pi, p.Name
	}

	// Following, the first SIGINT or SIGTERM (which cancels ctx) ends the
	// input instead of the run: the bytes in hand are parsed, the summary
	// printed, and the exit status is 0. A second signal ends the process.
	runCtx, fo := ctx, (*driver.FollowOptions)(nil)
	if pf.follow {
		runCtx = context.WithoutCancel(ctx)
		fo = &driver.FollowOptions{Stop: ctx.Done(), Log: h.Options().Logger}
	}
	var src driver.Source
	switch {
	case pf.source != "":
		p, err := resolvePlugin(ctx, h, pf.source, roots, runtime.ByteSource)
		if err != nil {
			return err
		}
		settings, err := configFrom(p, pf.sourceConfig)
		if err != nil {
			return err
		}
		si, err := p.NewSource(ctx, &runtime.InitOptions{Config: settings})
		if err != nil {
			return initError(err)
		}
		defer si.Close()
		src = si
		if pf.follow {
			src = driver.FollowSource(si, fo)
		}
	case file == "-":
		src = &driver.ReaderSource{R: stdin}
	case pf.follow:
		f, err := driver.FollowFile(file, fo)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	default:
		f, err := driver.OpenFile(file)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}

	w := bufio.NewWriterSize(stdout, 256<<10)
	defer w.Flush()
	var sink driver.Sink = &printSink{w: w, jsonl: pf.output == "jsonl", dir: pf.attachments}
	var grep *grepSink
	if matcher != nil {
		grep = &grepSink{next: sink, m: matcher}
		if pf.grep.count {
			grep.next = nil
		}
		sink = grep
	}
	runOpts := &driver.Options{ChipmunkGuards: pf.chipmunkGuards}
	if line != nil {
		if !pf.follow { // a followed input has no total
			line.setTotal(sourceSize(file, pf.source, stdin))
		}
		runOpts.Progress = line.update
	}
	stats, err := driver.Run(runCtx, src, parser, sink, runOpts)
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
		return fmt.Errorf("after %d rows (%d bytes read, %d skipped, %d parse errors, %d rows cut): %w", stats.Items, stats.Bytes, stats.SkippedBytes, stats.ParseErrors, stats.TruncatedRows, err)
	}
	if stats.TruncatedRows > 0 {
		fmt.Fprintf(stderr, "chiphost parse: warning: %d row(s) longer than %d bytes of text were cut to that size\n", stats.TruncatedRows, driver.DefaultMaxRowBytes)
	}
	if w := stats.CutDependentWarning(); w != "" {
		fmt.Fprintf(stderr, "chiphost parse: warning: %s: %s\n", parserName, w)
	}
	if pf.follow || stats.SkippedBytes > 0 || stats.ParseErrors > 0 || stats.CutDependentRows > 0 {
		fmt.Fprintf(stderr, "chiphost parse: %d rows, %d bytes skipped, %d parse errors, %d cut-dependent rows\n", stats.Items, stats.SkippedBytes, stats.ParseErrors, stats.CutDependentRows)
	}
	return nil
}

// printSink writes rows as text or JSON lines and saves attachments.
type printSink struct {
	w     *bufio.Writer
	jsonl bool
	dir   string
	store *driver.AttachmentStore
	buf   []byte
}

// Flush writes buffered rows out while the driver waits for input, so a
// row reaches stdout as soon as its bytes arrived on a pipe or a live source.
func (s *printSink) Flush(context.Context) error { return s.w.Flush() }

func (s *printSink) Rows(ctx context.Context, rows []driver.Row) error {
	for _, r := range rows {
		var path string
		if a := r.Item.Attachment; a != nil {
			if s.store == nil {
				dir := s.dir
				if dir == "" {
					d, err := os.MkdirTemp("", "chiphost-attachments-*")
					if err != nil {
						return err
					}
					dir = d
				}
				abs, _ := filepath.Abs(dir)
				s.store = &driver.AttachmentStore{Dir: abs}
			}
			p, err := s.store.Save(a.Name, a.Data)
			if err != nil {
				return err
			}
			path = p
		}
		if s.jsonl {
			s.buf = append(rowjson.AppendRow(s.buf[:0], r.Index, r.Item, path), '\n')
		} else {
			s.buf = appendRowText(s.buf[:0], r, path)
		}
		if _, err := s.w.Write(s.buf); err != nil {
			return err
		}
	}
	return nil
}

func appendRowText(b []byte, r driver.Row, path string) []byte {
	if m := r.Item.Message; m != nil {
		if m.Columns != nil {
			b = append(b, strings.Join(m.Columns, "\t")...)
		} else {
			b = append(b, m.Line...)
		}
	}
	if path != "" {
		if r.Item.Message != nil {
			b = append(b, '\t')
		}
		b = append(b, "[attachment "...)
		b = append(b, path...)
		b = append(b, ']')
	}
	return append(b, '\n')
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
