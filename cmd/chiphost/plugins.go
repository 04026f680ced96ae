package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/chiphost/chiphost/runtime"
)

// pluginsOutput is what `chiphost plugins --json` prints.
type pluginsOutput struct {
	Roots   []string     `json:"roots"`
	Plugins []pluginInfo `json:"plugins"`
}

// pluginInfo describes one discovered plugin, valid or not.
type pluginInfo struct {
	Name        string             `json:"name"`
	Kind        runtime.PluginKind `json:"kind"`
	Version     string             `json:"version,omitempty"`
	APIVersion  string             `json:"apiVersion,omitempty"`
	Title       string             `json:"title"`
	Description *string            `json:"description,omitempty"`
	Path        string             `json:"path"`
	State       string             `json:"state"`            // "valid" or "invalid"
	Reason      string             `json:"reason,omitempty"` // why it is invalid
	Warnings    []string           `json:"warnings,omitempty"`
}

const pluginsExample = `  chiphost plugins
  chiphost plugins --plugins-dir testdata/plugins --no-default-plugins
  chiphost plugins --json | jq -r '.plugins[] | select(.state == "valid") | .name'`

func newPluginsCmd(stdout, stderr io.Writer) *cobra.Command {
	var hf hostFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List the plugins discovered under the plugin roots",
		Long: `plugins loads every plugin found with Chipmunk's layout under ~/.chipmunk/plugins
and the --plugins-dir roots, and lists them: name, kind, version, title and
description (from NAME.toml), and whether it is valid, or why not. The text
table goes to stdout and warnings to stderr; --json prints one JSON document
instead, warnings included.`,
		Example: pluginsExample,
		Args:    noArgs,
	}
	hf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document instead of a table")
	cmd.RunE = ran(func(cmd *cobra.Command, _ []string) error {
		return pluginsCmd(cmd.Context(), &hf, asJSON, stdout, stderr)
	})
	return cmd
}

// pluginsCmd lists the plugins discovered under hf's roots.
func pluginsCmd(ctx context.Context, hf *hostFlags, asJSON bool, stdout, stderr io.Writer) error {
	ctx = withCompileNotes(ctx, "plugins", stderr)
	h, done, err := newHost(ctx, "plugins", hf, stderr)
	if err != nil {
		return err
	}
	defer done()
	out := pluginsOutput{Roots: hf.roots(), Plugins: []pluginInfo{}}
	for _, e := range h.Discover(ctx, out.Roots) {
		out.Plugins = append(out.Plugins, describeEntry(e))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	if len(out.Plugins) == 0 {
		fmt.Fprintf(stderr, "chiphost plugins: no plugins under %s\n", strings.Join(out.Roots, ", "))
		return nil
	}
	for _, p := range out.Plugins {
		for _, w := range p.Warnings {
			fmt.Fprintf(stderr, "chiphost plugins: warning: %s: %s\n", p.Name, w)
		}
	}
	return writePluginTable(stdout, out.Plugins)
}

func describeEntry(e *runtime.Entry) pluginInfo {
	info := pluginInfo{
		Name: e.Name, Kind: e.Kind, Title: e.Title, Description: e.Description,
		Path: e.WasmPath, State: "valid", Warnings: e.Warnings,
	}
	if info.Path == "" {
		info.Path = e.Dir
	}
	if e.Plugin != nil {
		info.Version, info.APIVersion = e.Plugin.Version.String(), e.Plugin.APIVersion.String()
	}
	if !e.Valid() {
		info.State, info.Reason = "invalid", "unknown error"
		if e.Err != nil {
			info.Reason = e.Err.Error()
		}
	}
	return info
}

// Widths at which the text table cuts titles and descriptions (the JSON
// output has them whole).
const (
	tableTitleRunes = 40
	tableDescRunes  = 60
)

// writePluginTable prints plugins as a table aligned with spaces. The
// reason a plugin is invalid comes last, so that its length does not widen
// the other columns.
func writePluginTable(w io.Writer, plugins []pluginInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tTITLE\tDESCRIPTION\tSTATE")
	for _, p := range plugins {
		version, desc, state := p.Version, "", p.State
		if version == "" {
			version = "-"
		}
		if p.Description != nil {
			desc = *p.Description
		}
		if p.Reason != "" {
			state += ": " + reasonCell(p.Reason, p.Path)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, version,
			oneLine(p.Title, tableTitleRunes), oneLine(desc, tableDescRunes), state)
	}
	return tw.Flush()
}

// maxReasonRunes bounds the reason in the STATE cell.
const maxReasonRunes = 300

// reasonCell is the reason a plugin is invalid as the table shows it: its
// first line, and when that cuts it, where to read the whole of it.
func reasonCell(reason, path string) string {
	cell := oneLine(reason, maxReasonRunes)
	if cell == strings.TrimSpace(reason) || path == "" {
		return cell
	}
	return cell + " (all of it: chiphost inspect " + shellArg(path) + ")"
}

// shellArg quotes s for a POSIX shell when it holds anything but letters,
// digits and /._-+,:@%.
func shellArg(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("/._-+,:@%", r)))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine returns the first line of s (tabs made spaces), cut to max runes
// with an ellipsis.
func oneLine(s string, max int) string {
	line, _, more := strings.Cut(s, "\n")
	line = strings.ReplaceAll(strings.TrimSpace(line), "\t", " ")
	if r := []rune(line); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if more {
		return line + " …"
	}
	return line
}
