package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// commands are chiphost's commands with a word of their one-line summary.
var commands = []struct{ name, summary string }{
	{"bench", "Measure a parser or producer plugin"},
	{"completion", "Generate the autocompletion script"},
	{"help", "Help about any command"},
	{"inspect", "Print a plugin's metadata as JSON"},
	{"parse", "Parse a file"},
	{"plugins", "List the plugins discovered"},
	{"serve", "JSON-RPC 2.0 server on stdin/stdout"},
	{"version", "Print chiphost's version"},
}

// TestHelpListsCommands: --help, -h and help print every command with its
// summary and examples on stdout, and exit 0.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := runCLI(t, "", args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range commands {
			if !regexp.MustCompile(`(?m)^  ` + c.name + ` +` + regexp.QuoteMeta(c.summary)).MatchString(out) {
				t.Errorf("%v: no line for %s with %q:\n%s", args, c.name, c.summary, out)
			}
		}
		if !strings.Contains(out, "Examples:\n  chiphost parse --parser") {
			t.Errorf("%v: no examples:\n%s", args, out)
		}
	}
}

// TestCommandHelp: `help CMD` and `CMD --help` print the same text: a
// usage line, an example and the flags.
func TestCommandHelp(t *testing.T) {
	flags := map[string]string{
		"serve": "--framing", "parse": "--parser PLUGIN", "inspect": "--plugins-dir DIR",
		"plugins": "--json", "bench": "--input", "version": "--help",
	}
	for name, flag := range flags {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", "help", name)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, want := range []string{"Usage:\n  chiphost " + name, "Examples:\n  chiphost " + name, "Flags:\n", flag} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			out2, _, code := runCLI(t, "", name, "--help")
			if code != 0 || out2 != out {
				t.Errorf("%s --help: exit %d, differs from help %s:\n%s", name, code, name, out2)
			}
		})
	}
	out, _, _ := runCLI(t, "", "help", "parse")
	if !strings.Contains(out, "Usage:\n  chiphost parse (--parser PLUGIN [FILE|-] | --producer PLUGIN) [flags]\n") {
		t.Errorf("help parse: usage line:\n%s", out)
	}
}

// TestVersion: version and --version print the module version from the
// build info (the one `go version -m` reads from the binary), the wazero
// version of go.mod and the Go version of the toolchain that built it.
func TestVersion(t *testing.T) {
	out, errOut, code := runCLI(t, "", "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if flagOut, _, code := runCLI(t, "", "--version"); code != 0 || flagOut != out {
		t.Errorf("--version: exit %d, %q; want %q", code, flagOut, out)
	}
	mod, err := exec.Command("go", "version", "-m", chiphostBin(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\tmod\t\S+\t(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatalf("go version -m: no mod line:\n%s", mod)
	}
	wazero, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", wazeroModule).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "chiphost "+string(m[1]) {
		t.Errorf("first line %q, want chiphost %s", lines[0], m[1])
	}
	if want := "wazero   " + strings.TrimSpace(string(wazero)); !contains(lines, want) {
		t.Errorf("no line %q in %q", want, lines)
	}
	if want := "go       " + goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH; lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestCommitLine: the vcs settings Go stamps into a binary built from a git
// clone become the commit line. (The test binary is built in a worktree
// and with the machine's GOFLAGS, so it may carry none; this checks the
// formatting on the settings themselves.)
func TestCommitLine(t *testing.T) {
	cases := []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, ""},
		{[]debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "8e142e2c"}, {Key: "vcs.time", Value: "2026-06-01T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}},
			"8e142e2c (2026-06-01T12:00:00Z, modified)"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "8e142e2c"}, {Key: "vcs.modified", Value: "false"}}, "8e142e2c"},
	}
	for _, c := range cases {
		if got := commitLine(c.settings); got != c.want {
			t.Errorf("commitLine(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}

// TestFlagsAfterFile: flags may come before or after FILE, and between.
func TestFlagsAfterFile(t *testing.T) {
	sample := repo("examples/sample.log")
	want, errOut, code := runCLI(t, "", "parse", "--parser", stringParser, "--output", "jsonl", sample)
	if code != 0 || want == "" {
		t.Fatalf("flags first: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{
		{"parse", sample, "--parser", stringParser, "--output", "jsonl"},
		{"parse", "--output", "jsonl", sample, "--parser", stringParser},
	} {
		out, errOut, code := runCLI(t, "", args...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d, stderr %q, %d bytes of rows (want %d)", args, code, errOut, len(out), len(want))
		}
	}
}

// pluginsRoot makes a plugin root with string_parser and broken plugins:
// one that imports what chiphost does not provide, a parser under
// bytesources/, a directory without its .wasm file and a text file named
// .wasm.
func pluginsRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	put := func(rel, from string, data []byte) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if from != "" {
			var err error
			if data, err = os.ReadFile(repo(from)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("parsers/string_parser/string_parser.wasm", "testdata/plugins/parsers/string_parser/string_parser.wasm", nil)
	put("parsers/string_parser/string_parser.toml", "testdata/plugins/parsers/string_parser/string_parser.toml", nil)
	put("parsers/needs_wasi/needs_wasi.wasm", "testdata/plugins/negative/p2_imports.wasm", nil)
	put("parsers/needs_wasi/needs_wasi.toml", "", []byte("title = \"Needs WASI\"\ndescription = \"\"\"two\nlines\"\"\"\n"))
	put("bytesources/misplaced/misplaced.wasm", "testdata/plugins/parsers/string_parser/string_parser.wasm", nil)
	put("parsers/empty/README.md", "", []byte("no wasm here\n"))
	put("parsers/text_wasm/text_wasm.wasm", "", []byte("hello, not wasm\n"))
	return root
}

// TestPluginsJSON: plugins --json prints one JSON document with every
// plugin under the roots: name, kind, version, title and description from
// the TOML file, and valid, or invalid with the reason.
func TestPluginsJSON(t *testing.T) {
	root := pluginsRoot(t)
	out, errOut, code := runCLI(t, "", "plugins", "--json", "--no-default-plugins", "--plugins-dir", repo("testdata/plugins"), "--plugins-dir", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got pluginsOutput
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("more than one JSON document: %s", out)
	}
	byName := map[string][]pluginInfo{}
	for _, p := range got.Plugins {
		byName[p.Name] = append(byName[p.Name], p)
	}
	for _, name := range []string{"go_records", "js_string_parser", "file_source"} {
		if ps := byName[name]; len(ps) != 1 || ps[0].State != "valid" || ps[0].Version == "" || ps[0].Description == nil {
			t.Errorf("%s: %+v", name, ps)
		}
	}
	if fp := byName["file_producer"]; len(fp) != 1 || fp[0].Kind != "producer" || fp[0].State != "valid" || fp[0].APIVersion != "0.1.0" {
		t.Errorf("file_producer (producers/ of the root): %+v", fp)
	}
	sp := byName["string_parser"]
	if len(sp) != 2 || sp[0].Path == sp[1].Path {
		t.Fatalf("string_parser, once per root: %+v", sp)
	}
	if p := sp[0]; p.Kind != "parser" || p.Version != "0.1.0" || p.APIVersion != "0.1.0" || p.Title != "String Parser" ||
		p.Description == nil || *p.Description != "Example for parser plugins. It parses the bytes to UTF-8 strings" || p.State != "valid" || p.Reason != "" {
		t.Errorf("string_parser: %+v", p)
	}
	invalid := map[string]string{
		"needs_wasi": "unsupported: 36 WASI 0.2 imports that chiphost does not provide (2 interfaces)\n  wasi:http/types@0.2.10: fields{constructor, from-list,",
		"misplaced":  "plugin in bytesources/ exports a parser interface",
		"empty":      "plugin wasm file not found: " + filepath.Join(root, "parsers/empty/empty.wasm"),
		// Not a WebAssembly binary: unsupported, as Resolve says for a path
		// (abi is a plugin breaking the ABI while it runs).
		"text_wasm": "plugin text_wasm: load: unsupported: component: input starts with 68 65 6c 6c 6f",
	}
	for name, reason := range invalid {
		ps := byName[name]
		if len(ps) != 1 || ps[0].State != "invalid" || !strings.Contains(ps[0].Reason, reason) {
			t.Errorf("%s: %+v, want invalid with %q", name, ps, reason)
		}
	}
	if p := byName["needs_wasi"]; len(p) == 1 && (p[0].Title != "Needs WASI" || p[0].Description == nil || *p[0].Description != "two\nlines") {
		t.Errorf("needs_wasi: the TOML's title and description: %+v", p[0])
	}
}

// TestPluginsTable: plugins prints an aligned table on stdout (every value
// starts under its heading), the reason an invalid plugin is invalid, and
// warnings on stderr.
func TestPluginsTable(t *testing.T) {
	root := pluginsRoot(t)
	out, errOut, code := runCLI(t, "", "plugins", "--no-default-plugins", "--plugins-dir", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	header := lines[0]
	cols := []string{"NAME", "KIND", "VERSION", "TITLE", "DESCRIPTION", "STATE"}
	want := map[string][]string{
		"string_parser": {"string_parser", "parser", "0.1.0", "String Parser", "Example for parser plugins. It parses the bytes to UTF-8 st…", "valid"},
		"needs_wasi":    {"needs_wasi", "parser", "-", "Needs WASI", "two …", "invalid: plugin needs_wasi: load: unsupported: 36 WASI 0.2 imports that chiphost does not provide (2 interfaces) …"},
		"misplaced":     {"misplaced", "bytesource", "-", "misplaced", "", "invalid: plugin misplaced: discover: unsupported: plugin in bytesources/ exports a parser interface"},
		"empty":         {"empty", "parser", "-", "empty", "", "invalid: plugin empty: discover: not-found: plugin wasm file not found: " + filepath.Join(root, "parsers/empty/empty.wasm")},
		"text_wasm":     {"text_wasm", "parser", "-", "text_wasm", "", "invalid: plugin text_wasm: load: unsupported: component: input starts with"},
	}
	// A reason cut to its first line ends with where to read all of it,
	// and that command prints it.
	needsWasi := filepath.Join(root, "parsers/needs_wasi/needs_wasi.wasm")
	pointer := "(2 interfaces) … (all of it: chiphost inspect " + shellArg(needsWasi) + ")\n"
	if strings.Contains(out, "wasi:http/types") || !strings.Contains(out, pointer) {
		t.Errorf("the reason is not cut to its first line ending with %q:\n%s", pointer, out)
	}
	if strings.Count(out, "chiphost inspect") != 1 {
		t.Errorf("a reason that is not cut points to inspect:\n%s", out)
	}
	if _, all, _ := runCLI(t, "", "inspect", needsWasi); !strings.Contains(all, "wasi:http/types@0.2.10: fields{") || !strings.Contains(all, "hint: ") {
		t.Errorf("chiphost inspect %s does not print the whole reason: %q", needsWasi, all)
	}
	if len(lines) != 1+len(want) {
		t.Fatalf("%d lines, want a header and %d plugins:\n%s", len(lines), len(want), out)
	}
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(l, " ")
		runes := []rune(l) // tabwriter aligns runes
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected line %q", l)
			continue
		}
		for i, c := range cols {
			at := strings.Index(header, c)
			if w[i] == "" {
				continue
			}
			if at < 0 || at > len(runes) || !strings.HasPrefix(string(runes[at:]), w[i]) {
				t.Errorf("%s: column %s (at %d) does not start with %q:\n%s\n%s", name, c, at, w[i], header, l)
			}
		}
	}
	if !strings.Contains(errOut, "chiphost plugins: warning: misplaced: metadata file not found: misplaced.toml") {
		t.Errorf("stderr %q: no warning for the missing metadata file", errOut)
	}
	// No plugin at all: an empty stdout and a line saying where it looked.
	empty := t.TempDir()
	out, errOut, code = runCLI(t, "", "plugins", "--no-default-plugins", "--plugins-dir", empty)
	if code != 0 || out != "" || errOut != "chiphost plugins: no plugins under "+empty+"\n" {
		t.Errorf("no plugins: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestTerminalHint runs chiphost in a pseudo-terminal (util-linux script):
// with stdin and stderr on the terminal it prints one line saying what it
// expects and where the help is, then serves (Ctrl-D, which script sends
// at the end of its input, ends it with status 0). With stderr or stdin elsewhere,
// as for programs, it prints nothing.
func TestTerminalHint(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not found, no pseudo-terminal to run chiphost in:", err)
	}
	serve := shellQuote(chiphostBin(t)) + " --no-default-plugins --no-cache --framing ndjson"
	const hint = `chiphost: serving JSON-RPC 2.0 on stdin/stdout (one message per line); Ctrl-D ends, "chiphost help" lists the commands`
	start := func(t *testing.T, shell string) (io.WriteCloser, *bufio.Reader, *exec.Cmd) {
		t.Helper()
		cmd := exec.Command(script, "-qec", shell, "/dev/null")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return stdin, bufio.NewReader(stdout), cmd
	}

	t.Run("terminal", func(t *testing.T) {
		stdin, out, cmd := start(t, serve+"; echo status=$?")
		stdin.Close() // script passes Ctrl-D on: chiphost reads it after the hint
		all, _ := io.ReadAll(out)
		if err := cmd.Wait(); err != nil || strings.ReplaceAll(string(all), "\r\n", "\n") != hint+"\nstatus=0\n" {
			t.Errorf("output %q (%v), want the hint and status=0", all, err)
		}
	})
	errFile := filepath.Join(t.TempDir(), "err")
	for name, redirect := range map[string]string{"stderr to a file": " 2>" + shellQuote(errFile), "stdin from /dev/null": " </dev/null"} {
		t.Run(name, func(t *testing.T) {
			stdin, out, cmd := start(t, serve+redirect+"; echo status=$?")
			stdin.Close()
			all, _ := io.ReadAll(out)
			if err := cmd.Wait(); err != nil || strings.TrimSpace(string(all)) != "status=0" {
				t.Errorf("output %q (%v), want only status=0", all, err)
			}
		})
	}
	if b, err := os.ReadFile(errFile); err != nil || len(b) != 0 {
		t.Errorf("stderr file: %q (%v), want it empty", b, err)
	}
}

// TestCompletion: cobra's shell completion works, with the values of the
// flags that take a fixed set.
func TestCompletion(t *testing.T) {
	out, errOut, code := runCLI(t, "", "completion", "bash")
	if code != 0 || !strings.Contains(out, "complete -o default -F __start_chiphost chiphost") {
		t.Fatalf("completion bash: exit %d, %s; stdout:\n%.300s", code, errOut, out)
	}
	out, _, code = runCLI(t, "", "__complete", "parse", "--output", "")
	if code != 0 || !strings.HasPrefix(out, "text\njsonl\n:4\n") {
		t.Errorf("completing --output: exit %d, %q", code, out)
	}
}

// TestCompileNotes: plugins and inspect, run on a terminal, say which
// plugin they compile before the wait (a first use can take seconds); with
// stderr not a terminal they say nothing.
func TestCompileNotes(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not found, no pseudo-terminal to run chiphost in:", err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "parsers", "string_parser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(stringParser)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "string_parser.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"plugins", "--no-cache", "--no-default-plugins", "--plugins-dir", root},
		{"inspect", "--no-cache", stringParser},
	} {
		shell := shellQuote(chiphostBin(t))
		for _, a := range args {
			shell += " " + shellQuote(a)
		}
		cmd := exec.Command(script, "-qec", shell+" >/dev/null", "/dev/null")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		terminal, errOut, code := runCmd(t, cmd)
		want := fmt.Sprintf("chiphost %s: compiling string_parser (%.1f MB)\r\n", args[0], float64(len(wasm))/1e6)
		if code != 0 || !strings.HasPrefix(terminal, want) {
			t.Errorf("%s on a terminal: exit %d, %q %q; want it to start with %q", args[0], code, terminal, errOut, want)
		}
		if _, errOut, code := runCLI(t, "", args...); code != 0 || strings.Contains(errOut, "compiling") {
			t.Errorf("%s, stderr not a terminal: exit %d, stderr %q", args[0], code, errOut)
		}
	}
}

// TestNoTemplateExecution: nothing in chiphost executes a text/template
// (cobra's SetVersionTemplate or SetHelpTemplate would): template calls by
// reflection make the linker keep every exported method of every type,
// 3.4 MB more binary. The template executor's code is then not linked.
func TestNoTemplateExecution(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", chiphostBin(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "text/template.(*state).evalCall") {
		t.Error("the binary links text/template's executor: a template is executed somewhere (docs/design.md, How is the command line read?)")
	}
}
