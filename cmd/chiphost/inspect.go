package main

import (
	"context"
	"encoding/json"
	"io"
	"slices"

	"github.com/spf13/cobra"

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

const inspectExample = `  chiphost inspect testdata/plugins/parsers/string_parser/string_parser.wasm
  chiphost inspect --plugins-dir testdata/plugins file_source`

func newInspectCmd(stdout, stderr io.Writer) *cobra.Command {
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "inspect PLUGIN",
		Short: "Print a plugin's metadata as JSON",
		Long: `inspect loads PLUGIN and prints its metadata as one JSON document: name, path,
kind, title and description (from NAME.toml), API version, version, config
schemas, render options and warnings.`,
		Example: inspectExample,
		Args:    cobra.ExactArgs(1),
	}
	hf.register(cmd.Flags())
	cmd.RunE = ran(func(cmd *cobra.Command, args []string) error {
		return inspectCmd(cmd.Context(), &hf, args[0], stdout, stderr)
	})
	return cmd
}

// inspectCmd prints the metadata of the plugin ref.
func inspectCmd(ctx context.Context, hf *hostFlags, ref string, stdout, stderr io.Writer) error {
	ctx = withCompileNotes(ctx, "inspect", stderr)
	h, done, err := newHost(ctx, "inspect", hf, stderr)
	if err != nil {
		return err
	}
	defer done()
	p, err := resolvePlugin(ctx, h, ref, hf.roots(), "")
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

// newHost builds the logger and the runtime host for command (its log lines
// on stderr read as the command's own warnings, see humanLog).
func newHost(ctx context.Context, command string, hf *hostFlags, stderr io.Writer) (*runtime.Host, func(), error) {
	log, closeLog, err := hf.logger(stderr, command)
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
