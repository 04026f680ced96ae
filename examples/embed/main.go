// Command embed shows how a Go log viewer uses chiphost's runtime in
// process, without JSON-RPC: it loads a Chipmunk parser plugin (a .wasm
// path, or a plugin name found by discovery in -plugins-dir), completes its
// configuration with schema.Complete, feeds a file through runtime/driver
// and prints the rows.
//
//	go run ./examples/embed -plugin testdata/plugins/parsers/string_parser/string_parser.wasm -config prefix='>' examples/sample.log
//	go run ./examples/embed -plugins-dir testdata/plugins -plugin string_parser examples/sample.log
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pluginRef := fs.String("plugin", "", "parser plugin: a .wasm path or a plugin name found in -plugins-dir")
	var roots, config list
	fs.Var(&roots, "plugins-dir", "plugin root with Chipmunk's layout (parsers/, bytesources/); repeatable")
	fs.Var(&config, "config", "config value id=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pluginRef == "" || fs.NArg() != 1 {
		return errors.New("usage: embed -plugin PLUGIN [-plugins-dir DIR] [-config id=value]... FILE")
	}

	// 1. A Host owns the wazero runtime and the compilation cache. Plugin
	// log lines arrive on OnLog; a viewer would show them in its log pane.
	host, err := runtime.NewHost(ctx, &runtime.Options{
		OnLog: func(r runtime.LogRecord) { fmt.Fprintf(stderr, "[%s %s] %s\n", r.Plugin, r.Source, r.Message) },
	})
	if err != nil {
		return err
	}
	defer host.Close(ctx)

	// 2. Load the plugin: a .wasm file, or a plugin name looked up in the
	// roots with Chipmunk's layout (only that plugin is loaded).
	entry, err := host.Resolve(ctx, *pluginRef, roots, runtime.Parser)
	if err != nil {
		return err
	}
	plugin := entry.Plugin

	// 3. Configuration: the plugin declares schema items; decode the user's
	// id=value pairs against them (the same check as chiphost's CLI and
	// server) and let schema.Complete add the defaults (a viewer would build
	// a form from the items).
	given, err := schema.ValuesFromText(plugin.ConfigSchemas, config)
	if err != nil {
		return schema.ForPlugin(plugin.Name, err)
	}
	settings, err := schema.Complete(plugin.ConfigSchemas, given)
	if err != nil {
		return schema.ForPlugin(plugin.Name, err)
	}

	// 4. One parser instance per opened file, as Chipmunk does per session.
	parser, err := plugin.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return err
	}
	defer parser.Close()

	// 5. The driver reads the source in chunks, calls the parser and hands
	// the rows to a sink, in order. Rows are valid only during the call.
	src, err := driver.OpenFile(fs.Arg(0))
	if err != nil {
		return err
	}
	defer src.Close()
	sink := driver.SinkFunc(func(ctx context.Context, rows []driver.Row) error {
		for _, r := range rows {
			if m := r.Item.Message; m != nil {
				text := m.Line
				if m.Columns != nil {
					text = strings.Join(m.Columns, " | ")
				}
				fmt.Fprintf(stdout, "%d\t%s\n", r.Index, text)
			}
			if a := r.Item.Attachment; a != nil {
				fmt.Fprintf(stdout, "%d\tattachment %s (%d bytes)\n", r.Index, a.Name, len(a.Data))
			}
		}
		return nil
	})
	stats, err := driver.Run(ctx, src, parser, sink, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d rows from %d bytes (%d skipped, %d parse errors)\n", stats.Items, stats.Bytes, stats.SkippedBytes, stats.ParseErrors)
	return nil
}
