package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"slices"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// inspectOutput is what `chiphost inspect` prints.
type inspectOutput struct {
	Name          string                 `json:"name"`
	Path          string                 `json:"path"`
	Kind          runtime.PluginKind     `json:"kind"`
	Title         string                 `json:"title"`
	Description   *string                `json:"description,omitempty"`
	APIVersion    string                 `json:"apiVersion"`
	Version       string                 `json:"version"`
	ConfigSchemas []schema.Item          `json:"configSchemas"`
	RenderOptions *runtime.RenderOptions `json:"renderOptions"`
	Warnings      []string               `json:"warnings,omitempty"`
}

func inspectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hf hostFlags
	hf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errorf("want exactly one PLUGIN argument, found %d", fs.NArg())}
	}
	h, done, err := newHost(ctx, &hf, stderr)
	if err != nil {
		return err
	}
	defer done()
	p, err := resolvePlugin(ctx, h, fs.Arg(0), hf.roots(), "")
	if err != nil {
		return err
	}
	md := runtime.ReadMetadata(p.Path)
	out := inspectOutput{
		Name: p.Name, Path: p.Path, Kind: p.Kind, Title: md.Title, Description: md.Description,
		APIVersion: p.APIVersion.String(), Version: p.Version.String(),
		ConfigSchemas: p.ConfigSchemas, RenderOptions: p.RenderOptions,
		Warnings: append(slices.Clip(p.Warnings), md.Warnings...),
	}
	if out.ConfigSchemas == nil {
		out.ConfigSchemas = []schema.Item{}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// newHost builds the logger and the runtime host for a command.
func newHost(ctx context.Context, hf *hostFlags, stderr io.Writer) (*runtime.Host, func(), error) {
	log, closeLog, err := hf.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	opts, err := hf.options(&log)
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	opts.OnLog = func(r runtime.LogRecord) {
		ev := log.Debug()
		switch r.Level {
		case runtime.LevelError:
			ev = log.Error()
		case runtime.LevelWarn:
			ev = log.Warn()
		case runtime.LevelInfo:
			ev = log.Info()
		}
		ev.Str("plugin", r.Plugin).Str("from", string(r.Source)).Msg(r.Message)
	}
	h, err := runtime.NewHost(ctx, opts)
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	return h, func() { h.Close(context.Background()); closeLog() }, nil
}
