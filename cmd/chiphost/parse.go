package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chiphost/chiphost/internal/rowjson"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

func parseCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hf hostFlags
	hf.register(fs)
	parserRef := fs.String("parser", "", "parser plugin (.wasm path or discovered name); \"text\" for the built-in line parser")
	sourceRef := fs.String("source", "", "byte-source plugin (.wasm path or discovered name) instead of FILE")
	var config, sourceConfig stringList
	fs.Var(&config, "config", "parser config value id=value (repeatable; repeat a files/directories id for several paths)")
	fs.Var(&sourceConfig, "source-config", "byte-source config value id=value (repeatable)")
	output := fs.String("output", "text", "output format: text (columns separated by tabs) or jsonl")
	attachDir := fs.String("attachments", "", "directory for attachments (default: a new temporary directory)")
	chipmunkGuards := fs.Bool("chipmunk-guards", false, "stop on Chipmunk's consecutive-error limits (2000 parse errors, 50 incompletes, 1024 initial skipped bytes)")
	follow := fs.Bool("follow", false, "keep reading FILE as it grows, like tail -F (truncation and rotation included), or keep polling a -source plugin whose reads come back empty; Ctrl-C ends the input and prints a summary")
	progress := registerProgress(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *parserRef == "" {
		return usageError{errorf("-parser is required")}
	}
	if *output != "text" && *output != "jsonl" {
		return usageError{errorf("-output must be text or jsonl, found %q", *output)}
	}
	if fs.NArg() > 1 || (*sourceRef != "" && fs.NArg() > 0) {
		return usageError{errorf("give one FILE (or - for stdin), or -source, not both")}
	}
	if *follow && *sourceRef == "" && (fs.NArg() == 0 || fs.Arg(0) == "-") {
		return usageError{errorf("-follow needs FILE or -source: stdin is always read until it ends")}
	}
	line := newStatusLine(*progress, stderr)
	if line != nil {
		defer line.finish()
		stderr = line // other stderr text erases the line first
		ctx = runtime.WithCompileTrace(ctx, line.compileTrace())
	}
	h, done, err := newHost(ctx, &hf, stderr)
	if err != nil {
		return err
	}
	defer done()
	roots := hf.roots()

	var parser driver.Parser
	parserName := "text"
	if *parserRef == "text" {
		parser = &driver.TextParser{}
	} else {
		p, err := resolvePlugin(ctx, h, *parserRef, roots, runtime.Parser)
		if err != nil {
			return err
		}
		settings, err := configFrom(p, config)
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
	if *follow {
		runCtx = context.WithoutCancel(ctx)
		fo = &driver.FollowOptions{Stop: ctx.Done(), Log: h.Options().Logger}
	}
	var src driver.Source
	switch {
	case *sourceRef != "":
		p, err := resolvePlugin(ctx, h, *sourceRef, roots, runtime.ByteSource)
		if err != nil {
			return err
		}
		settings, err := configFrom(p, sourceConfig)
		if err != nil {
			return err
		}
		si, err := p.NewSource(ctx, &runtime.InitOptions{Config: settings})
		if err != nil {
			return initError(err)
		}
		defer si.Close()
		src = si
		if *follow {
			src = driver.FollowSource(si, fo)
		}
	case fs.NArg() == 0 || fs.Arg(0) == "-":
		src = &driver.ReaderSource{R: stdin}
	case *follow:
		f, err := driver.FollowFile(fs.Arg(0), fo)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	default:
		f, err := driver.OpenFile(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}

	w := bufio.NewWriterSize(stdout, 256<<10)
	defer w.Flush()
	sink := &printSink{w: w, jsonl: *output == "jsonl", dir: *attachDir}
	runOpts := &driver.Options{ChipmunkGuards: *chipmunkGuards}
	if line != nil {
		if !*follow { // a followed input has no total
			line.setTotal(sourceSize(fs, *sourceRef, stdin))
		}
		runOpts.Progress = line.update
	}
	stats, err := driver.Run(runCtx, src, parser, sink, runOpts)
	if line != nil {
		line.finish()
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
	if *follow || stats.SkippedBytes > 0 || stats.ParseErrors > 0 || stats.CutDependentRows > 0 {
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
