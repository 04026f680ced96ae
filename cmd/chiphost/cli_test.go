package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// chiphostBin builds the real binary once per test run.
func chiphostBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chiphost-cli-test-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "chiphost")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{out}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct{ out []byte }

func (e *buildError) Error() string { return "go build: " + string(e.out) }

func repo(rel string) string { return filepath.Join("..", "..", rel) }

// runCLI runs chiphost with a private cache and no default plugin root.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(chiphostBin(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "chiphost-test-cache-cli"), "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(t, cmd)
}

// runCmd runs cmd and returns its output and exit status.
func runCmd(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestInspect(t *testing.T) {
	out, errOut, code := runCLI(t, "", "inspect", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got inspectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Kind != "parser" || got.APIVersion != "0.1.0" || got.Version != "0.1.0" || len(got.ConfigSchemas) != 7 {
		t.Fatalf("got %+v", got)
	}
	var types []string
	for _, it := range got.ConfigSchemas {
		types = append(types, string(it.InputType.Type))
	}
	if strings.Join(types, ",") != "boolean,text,integer,float,files,directories,dropdown" {
		t.Errorf("types %v", types)
	}
	if !strings.Contains(out, `"default": 1.55`) || !strings.Contains(out, `"extensions": [`) || !strings.Contains(out, `"options": [`) {
		t.Errorf("defaults, extensions or options missing:\n%s", out)
	}
	if r := got.RenderOptions; r == nil || len(r.Columns) != 2 || r.Columns[1].Width != -1 || r.MaxWidth != 600 {
		t.Errorf("render options %+v", r)
	}
	// By discovered name, from an extra plugin root.
	out, errOut, code = runCLI(t, "", "inspect", "--plugins-dir", repo("testdata/plugins"), "file_source")
	if code != 0 || !strings.Contains(out, `"kind": "bytesource"`) || !strings.Contains(out, `"renderOptions": null`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON (%v): %q", err, sc.Text())
		}
		rows = append(rows, m)
	}
	return rows
}

func TestParse(t *testing.T) {
	sample, err := os.ReadFile(repo("examples/sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sample), "\n"), "\n")
	// string_parser prints to its stdout during init: none of it may reach
	// chiphost's stdout, which carries rows only.
	out, errOut, code := runCLI(t, "", "parse", "--output", "jsonl", "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", "prefix=>", repo("examples/sample.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := jsonLines(t, out)
	if len(rows) != len(lines) {
		t.Fatalf("%d rows, want %d", len(rows), len(lines))
	}
	for i, r := range rows {
		cols, _ := r["columns"].([]any)
		if r["index"] != float64(i) || len(cols) != 2 || cols[1] != "> "+lines[i] {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	// Built-in text parser over stdin, text output.
	out, _, code = runCLI(t, "one\ntwo\r\nthree", "parse", "--parser", "text", "-")
	if code != 0 || out != "one\ntwo\nthree\n" {
		t.Fatalf("exit %d: %q", code, out)
	}
}

func TestParseAttachmentsAndSource(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("line|first\nattach|notes.txt|aGVsbG8=\ncols|a,b,c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	att := filepath.Join(dir, "att")
	// Read the input through the file_source byte-source plugin.
	out, errOut, code := runCLI(t, "", "parse", "--output", "jsonl", "--plugins-dir", repo("testdata/plugins"), "--no-default-plugins",
		"--parser", "go_records", "--source", "file_source", "--source-config", "input-path="+input, "--attachments", att)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := jsonLines(t, out)
	if len(rows) != 3 || rows[0]["line"] != "first" {
		t.Fatalf("rows %v", rows)
	}
	a, ok := rows[1]["attachment"].(map[string]any)
	if !ok || a["name"] != "notes.txt" || a["size"] != float64(5) || a["createdDate"] != "2024-01-01" {
		t.Fatalf("attachment row %v", rows[1])
	}
	b, err := os.ReadFile(a["path"].(string))
	if err != nil || string(b) != "hello" || filepath.Dir(a["path"].(string)) != att {
		t.Fatalf("attachment file %v: %q %v", a["path"], b, err)
	}
	if cols, _ := rows[2]["columns"].([]any); len(cols) != 3 {
		t.Fatalf("columns row %v", rows[2])
	}
}

var stringParser = repo("testdata/plugins/parsers/string_parser/string_parser.wasm")

// TestCLIErrors checks exit statuses: 2 for usage errors (flags, arguments,
// and configuration values that chiphost's validation or the plugin's init
// rejects), 1 for everything else; stdout stays empty.
func TestCLIErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no such plugin", []string{"inspect", "--no-default-plugins", "nope"}, 1, "plugin nope: not-found: not a file"},
		{"unsupported component", []string{"inspect", repo("testdata/plugins/negative/p2_imports.wasm")}, 1, "wasi:"},
		{"unknown config id", []string{"parse", "--parser", stringParser, "--config", "nope=1", "-"}, 2, "invalid configuration for string_parser: nope: no such configuration item"},
		{"bad config value", []string{"parse", "--parser", stringParser, "--config", "lossy=maybe", "-"}, 2, "lossy: want true or false"},
		{"bad dropdown", []string{"parse", "--parser", stringParser, "--config", "dropdown_idx=Option 9", "-"}, 2, "dropdown_idx: \"Option 9\" is not one of the options"},
		{"missing config file", []string{"parse", "--parser", stringParser, "--config", "files_idx=/nonexistent.log", "-"}, 2, "invalid configuration for string_parser: files_idx: /nonexistent.log does not exist"},
		{"config without =", []string{"parse", "--parser", stringParser, "--config", "lossy", "-"}, 2, "lossy: want id=value"},
		{"config given twice", []string{"parse", "--parser", stringParser, "--config", "lossy=true", "--config", "lossy=false", "-"}, 2, "lossy: given more than once"},
		{"plugin rejects its config", []string{"parse", "--parser", "text", "--source", repo("testdata/plugins/bytesources/file_source/file_source.wasm")}, 2, "(config)"},
		{"unknown flag", []string{"parse", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{"bad flag value", []string{"inspect", "--memory-limit", "lots", stringParser}, 2, `invalid argument "lots" for "--memory-limit" flag`},
		{"missing --parser", []string{"parse", "x.log"}, 2, "--parser (or --producer) is required"},
		{"unknown command", []string{"frobnicate"}, 2, `chiphost: unknown command "frobnicate"`},
		{"misspelt command", []string{"pars"}, 2, `unknown command "pars" (did you mean parse?)`},
		{"unknown help topic", []string{"help", "frobnicate"}, 2, `unknown help topic "frobnicate"`},
		{"unknown root flag", []string{"--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{"long flag with one dash", []string{"parse", "-parser", "text", "-"}, 2, "unknown shorthand flag: 'p' in -parser (long flags take two dashes: --parser)"},
		{"two files", []string{"parse", "--parser", "text", "a.log", "b.log"}, 2, "accepts at most 1 arg(s), received 2"},
		{"file and --source", []string{"parse", "--parser", "text", "--source", "file_source", "a.log"}, 2, "give one FILE (or - for stdin), or --source, not both"},
		{"bad --output", []string{"parse", "--parser", "text", "--output", "xml", "-"}, 2, `--output must be text or jsonl, found "xml"`},
		{"bad --progress", []string{"parse", "--parser", "text", "--progress", "sometimes", "-"}, 2, `want auto, always or never, found "sometimes"`},
		{"bad --framing", []string{"serve", "--framing", "xml"}, 2, `--framing: want header or ndjson, found "xml"`},
		{"serve argument", []string{"serve", "extra"}, 2, `unexpected arguments ["extra"]`},
		{"plugins argument", []string{"plugins", "extra"}, 2, `unexpected arguments ["extra"]`},
		{"inspect without PLUGIN", []string{"inspect"}, 2, "accepts 1 arg(s), received 0"},
		{"version argument", []string{"version", "extra"}, 2, `unexpected arguments ["extra"]`},
		{"missing input file", []string{"parse", "--parser", "text", "/nonexistent/input.log"}, 1, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.stderr)
			}
			if out != "" {
				t.Fatalf("stdout must stay empty on errors, got %q", out)
			}
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestConfigErrorsMatchServer gives the same invalid configuration to
// `chiphost parse --config` and to the server's sessions/open: the CLI's
// message (exit 2) is the server's -32602 message, word for word, because
// both run the same validation.
func TestConfigErrorsMatchServer(t *testing.T) {
	dir := t.TempDir()
	binFile := filepath.Join(dir, "data.bin")
	input := filepath.Join(dir, "in.log")
	for _, f := range []string{binFile, input} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []struct {
		name  string
		flags []string // id=value
		json  string   // the config object
	}{
		{"missing file", []string{"files_idx=/nonexistent.log"}, `{"files_idx":["/nonexistent.log"]}`},
		{"wrong extension", []string{"files_idx=" + binFile}, `{"files_idx":[` + q(binFile) + `]}`},
		{"file as directory", []string{"dirs_idx=" + input}, `{"dirs_idx":[` + q(input) + `]}`},
		{"not an option", []string{"dropdown_idx=Option 9"}, `{"dropdown_idx":"Option 9"}`},
		{"unknown id", []string{"no_such_item=1"}, `{"no_such_item":1}`},
	}

	srv := exec.Command(chiphostBin(t), "serve", "--framing", "ndjson", "--no-default-plugins", "--no-cache", "--temp-dir", t.TempDir())
	stdin, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); srv.Wait() }()
	replies := bufio.NewScanner(stdout)
	replies.Buffer(nil, 1<<20)
	send := func(msg string) {
		if _, err := io.WriteString(stdin, msg+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	// reply returns the error message of the response with the given id.
	reply := func(id int) string {
		for replies.Scan() {
			var m struct {
				ID    *int `json:"id"`
				Error *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(replies.Bytes(), &m) != nil || m.ID == nil || *m.ID != id {
				continue // notifications
			}
			if m.Error == nil || m.Error.Code != -32602 {
				t.Fatalf("response %d: %s, want a -32602 error", id, replies.Text())
			}
			return m.Error.Message
		}
		t.Fatalf("server output ended before response %d: %v", id, replies.Err())
		return ""
	}
	send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`)
	for replies.Scan() && !strings.Contains(replies.Text(), `"id":0`) {
	}
	send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := i + 1
			send(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"sessions/open","params":{"source":{"file":` + q(input) +
				`},"parser":{"plugin":` + q(mustAbs(t, stringParser)) + `,"config":` + tc.json + `}}}`)
			want := reply(id)
			args := []string{"parse", "--parser", stringParser}
			for _, f := range tc.flags {
				args = append(args, "--config", f)
			}
			_, errOut, code := runCLI(t, "", append(args, input)...)
			if got := strings.TrimSpace(strings.TrimPrefix(errOut, "chiphost parse: ")); code != 2 || got != want {
				t.Errorf("CLI: exit %d, %q\nserver: %q", code, got, want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUnusableDefaults runs inspect and parse on a real plugin whose float
// defaults are NaN and +inf and whose dropdown default is not an option:
// inspect prints valid JSON without those defaults and with warnings naming
// the plugin and the item (also logged); parse asks for the float values
// (exit 2) and, given them, runs with the dropdown's first option.
func TestUnusableDefaults(t *testing.T) {
	plugin := repo("testdata/plugins/hostile/odd_schema.wasm")
	out, errOut, code := runCLI(t, "", "inspect", plugin)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	var got inspectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(got.ConfigSchemas) != 4 || got.ConfigSchemas[0].InputType.Default != nil || got.ConfigSchemas[2].InputType.Default != "low" {
		t.Errorf("config schemas %+v", got.ConfigSchemas)
	}
	const nanWarning = `plugin odd_schema: config "ratio": the float default NaN is not a finite number`
	if len(got.Warnings) != 3 || !strings.HasPrefix(got.Warnings[0], nanWarning) || !strings.Contains(got.Warnings[2], `config "level": the dropdown default "medium"`) {
		t.Errorf("warnings %q", got.Warnings)
	}
	if !strings.Contains(errOut, "chiphost inspect: warning: "+nanWarning) {
		t.Errorf("the warnings are not logged: %q", errOut)
	}

	_, errOut, code = runCLI(t, "", "parse", "--parser", plugin, "-")
	if want := "invalid configuration for odd_schema: ratio: no value given, and the plugin declares no usable default; scale: no value given"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("parse without values: exit %d, %q; want 2 and %q", code, errOut, want)
	}
	out, errOut, code = runCLI(t, "a\nb\n", "parse", "--parser", plugin, "--config", "ratio=0.5", "--config", "scale=2", "--log-level", "info", "-")
	if code != 0 || out != "a\nb\n" || !strings.Contains(errOut, `chiphost parse: info: level = Dropdown("low") (from=log plugin=odd_schema)`) {
		t.Errorf("parse: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// runEnv runs chiphost with exactly the given environment (plus PATH).
func runEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(chiphostBin(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	return runCmd(t, cmd)
}

// TestTempDirLeftNothing: a parse whose plugin uses its temporary
// directory leaves nothing in $TMPDIR, not even an empty chiphost directory.
func TestTempDirLeftNothing(t *testing.T) {
	tmp := t.TempDir()
	_, errOut, code := runEnv(t, []string{"TMPDIR=" + tmp, "HOME=" + t.TempDir()}, "parse", "--parser", stringParser, repo("examples/sample.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left in $TMPDIR: %v", entries)
	}
}

// TestUnsafeDirectoriesRefused: a temporary directory (chiphost-UID in
// $TMPDIR or in --temp-dir) or a cache directory that others can write, or
// (as root) that belongs to another user, is refused with exit 1 and a
// message naming it and what is wrong; nothing is created in it.
func TestUnsafeDirectoriesRefused(t *testing.T) {
	uid := strconv.Itoa(os.Geteuid())
	type dirCase struct {
		name string
		mode os.FileMode
		own  int // uid to chown to, -1 to keep
		want string
	}
	cases := []dirCase{
		{"world-writable", 0o777, -1, "it is writable by others (mode 0777)"},
		{"group-writable", 0o770, -1, "it is writable by others (mode 0770)"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, dirCase{"another user's", 0o700, 65534, "it is owned by uid 65534, not by this user (uid 0)"})
	} else {
		t.Log("not root: the cases of directories owned by another user need chown and are not run")
	}
	mk := func(t *testing.T, path string, c dirCase) {
		t.Helper()
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		if c.own >= 0 {
			if err := os.Chown(path, c.own, c.own); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name+" temp dir", func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "chiphost-"+uid)
			mk(t, dir, c)
			_, errOut, code := runEnv(t, []string{"TMPDIR=" + tmp, "HOME=" + t.TempDir()}, "parse", "--parser", stringParser, repo("examples/sample.log"))
			if want := "refusing " + dir + ": " + c.want; code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("created in the refused directory: %v", entries)
			}
		})
		t.Run(c.name+" server temp dir", func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "chiphost-"+uid)
			mk(t, dir, c)
			_, errOut, code := runEnv(t, []string{"TMPDIR=" + t.TempDir(), "HOME=" + t.TempDir()}, "serve", "--no-default-plugins", "--temp-dir", base)
			if want := "refusing " + dir + ": " + c.want; code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
		})
		t.Run(c.name+" cache dir", func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "cache")
			mk(t, cache, c)
			_, errOut, code := runEnv(t, []string{"TMPDIR=" + t.TempDir(), "HOME=" + t.TempDir()}, "inspect", "--cache-dir", cache, stringParser)
			if want := "cache directory: refusing " + cache + ": " + c.want; code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("created in the refused directory: %v", entries)
			}
		})
	}
}

// TestNoUserCacheDir: with neither $HOME nor $XDG_CACHE_HOME there is no
// private place for the caches, so they are off (said in the log), and
// nothing is written to the shared temporary directory.
func TestNoUserCacheDir(t *testing.T) {
	tmp := t.TempDir()
	out, errOut, code := runEnv(t, []string{"TMPDIR=" + tmp}, "inspect", stringParser)
	if code != 0 || !strings.Contains(out, `"name": "string_parser"`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "no user cache directory: the on-disk caches are off") {
		t.Errorf("no log line saying the caches are off: %q", errOut)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("written to $TMPDIR: %v", entries)
	}
}

// TestRefusedImportsCLI: inspect and parse of a component that imports
// WASI 0.2 interfaces chiphost does not serve (wasi:http) print, on stderr,
// one summary line first (plugin, kind of import, count), the imports by
// interface, then the hint; stdout stays empty.
func TestRefusedImportsCLI(t *testing.T) {
	p2 := repo("testdata/plugins/negative/p2_imports.wasm")
	for _, args := range [][]string{{"inspect", p2}, {"parse", "--parser", p2, "-"}} {
		out, errOut, code := runCLI(t, "a\n", args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		want := "chiphost " + args[0] + ": plugin p2_imports: load: unsupported: 36 WASI 0.2 imports that chiphost does not provide (2 interfaces)"
		if code != 1 || out != "" || lines[0] != want || len(lines[0]) > 300 {
			t.Errorf("%v: exit %d, stdout %q, first line %q; want exit 1, no stdout, %q", args, code, out, lines[0], want)
		}
		if len(lines) != 4 || !strings.HasPrefix(lines[1], "  wasi:http/types@0.2.10: fields{constructor, ") ||
			lines[2] != "  wasi:http/outgoing-handler@0.2.10: handle" || !strings.HasPrefix(lines[3], "hint: built with componentize-js? ") {
			t.Errorf("%v: want 2 interface lines and a hint:\n%s", args, errOut)
		}
	}
}

// TestComposedComponentCLI: a composed component (string_parser nested in
// an outer component) inspects and parses exactly as string_parser: the
// same description but its name and path, the same rows.
func TestComposedComponentCLI(t *testing.T) {
	run := func(args ...string) string {
		out, errOut, code := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	nested, plain := repo("testdata/plugins/composed/nested.wasm"), stringParser
	// The name, path, title and description come from the file and its
	// metadata file; the rest from the plugin.
	described := func(p string) map[string]any {
		var d map[string]any
		if err := json.Unmarshal([]byte(run("inspect", p)), &d); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"name", "path", "title", "description"} {
			delete(d, k)
		}
		return d
	}
	if got, want := described(nested), described(plain); !reflect.DeepEqual(got, want) || got["kind"] != "parser" {
		t.Errorf("inspect differs:\n%v\nwant:\n%v", got, want)
	}
	parse := func(p string) string {
		return run("parse", "--output", "jsonl", "--parser", p, "--config", "prefix=>", "--config", "lossy=false", repo("examples/sample.log"))
	}
	if got, want := parse(nested), parse(plain); got != want || len(want) == 0 {
		t.Errorf("parse differs:\n%s\nwant:\n%s", got, want)
	}
}

// TestWASIP2ComponentCLI: the JavaScript parser built with WASI 0.2 on
// (its main module imports wasi:io, wasi:clocks and wasi:random directly)
// parses through the CLI with the same rows as its WASI-off build.
func TestWASIP2ComponentCLI(t *testing.T) {
	in := "hello\nw\xc3\xb6rld\r\ntail"
	var rows []string
	for _, fx := range []string{"parsers/js_string_parser/js_string_parser.wasm", "wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm"} {
		out, errOut, code := runCLI(t, in, "parse", "--parser", repo("testdata/plugins/"+fx), "--output", "jsonl", "-")
		if code != 0 || strings.Count(out, "\n") != 3 {
			t.Fatalf("%s: exit %d, stdout %q, stderr %s", fx, code, out, errOut)
		}
		rows = append(rows, out)
	}
	if rows[0] != rows[1] {
		t.Errorf("WASI 0.2 build:\n%s\nWASI-off build:\n%s", rows[1], rows[0])
	}
}
