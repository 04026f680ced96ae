package snippets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
)

// Pages are the Markdown pages whose blocks must run as written.
var Pages = []string{
	"README.md",
	"clients/python/README.md",
	"clients/node/README.md",
	"spec/protocol.md",
}

// TestPages runs every block of every page (see the package doc).
func TestPages(t *testing.T) {
	env := newEnv(t)
	for _, page := range Pages {
		t.Run(page, func(t *testing.T) {
			blocks, err := readBlocks(env.root, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range env.runPage(t, blocks) {
				t.Error(err)
			}
		})
	}
}

// TestFullTestCommand pins the README's "run all tests" block to what CI
// runs, so that the snippet test can leave it out without it rotting.
func TestFullTestCommand(t *testing.T) {
	root := testutil.RepoRoot(t)
	blocks, err := readBlocks(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	var found []block
	for _, b := range blocks {
		if b.mark.word == "ci" && b.mark.arg == ".ci/run" {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README.md has %d blocks marked `ci .ci/run`, want the one full-test command", len(found))
	}
	if got := commandLines(found[0].text); !slices.Equal(got, []string{"bash .ci/test"}) {
		t.Errorf("%s: the full-test command is %q, want [bash .ci/test]", found[0], got)
	}
	if err := checkCI(root, found[0]); err != nil {
		t.Error(err)
	}
}

// env is what the blocks run with: the repository, a fresh chiphost on
// PATH and private directories.
type env struct {
	root  string   // repository root, the blocks' working directory
	tmp   string   // private HOME, caches and scratch files
	bin   string   // directory of the fresh chiphost
	gobin string   // GOBIN, before bin on PATH: a block's `go install` wins
	base  []string // environment of every block
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	e := &env{root: testutil.RepoRoot(t), tmp: t.TempDir(), ctx: safetyNet(t)}
	e.bin = e.mkdir(t, "bin")
	e.gobin = e.mkdir(t, "gobin")
	build := exec.CommandContext(e.ctx, "go", "build", "-o", filepath.Join(e.bin, "chiphost"), "./cmd/chiphost")
	build.Dir = e.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/chiphost: %v\n%s", err, out)
	}
	e.base = e.environ(t)
	return e
}

func (e *env) mkdir(t *testing.T, name string) string {
	dir := filepath.Join(e.tmp, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// environ is the caller's environment with a private HOME, caches and
// TMPDIR, chiphost first on PATH, and no variable that would point the
// clients elsewhere. Go keeps its build and module caches, so `go run` in
// a block costs a link, not a build.
func (e *env) environ(t *testing.T) []string {
	goVars := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOTOOLCHAIN", "GOPRIVATE", "GONOSUMDB", "GONOPROXY"}
	out, err := exec.CommandContext(e.ctx, "go", append([]string{"env"}, goVars...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	set := map[string]string{
		"HOME":                          e.mkdir(t, "home"),
		"XDG_CACHE_HOME":                e.mkdir(t, "cache"),
		"XDG_CONFIG_HOME":               e.mkdir(t, "config"),
		"TMPDIR":                        e.mkdir(t, "tmp"),
		"PATH":                          e.gobin + string(os.PathListSeparator) + e.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GOBIN":                         e.gobin,
		"PYTHONPATH":                    filepath.Join(e.root, "clients", "python"),
		"PYTHONDONTWRITEBYTECODE":       "1",
		"PIP_NO_INDEX":                  "1", // an install must not need the network
		"PIP_DISABLE_PIP_VERSION_CHECK": "1",
	}
	for i, v := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if i < len(goVars) {
			set[goVars[i]] = v
		}
	}
	drop := map[string]bool{"CHIPHOST": true, "NODE_PATH": true, "NODE_OPTIONS": true, "VIRTUAL_ENV": true, "PYTHONHOME": true}
	var envv []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok && !drop[k] {
			envv = append(envv, kv)
		}
	}
	for k, v := range set {
		envv = append(envv, k+"="+v)
	}
	return envv
}

// step is a block with the output block that follows it (nil if none).
type step struct {
	block
	want *block
}

func (s step) wantText() string {
	if s.want == nil {
		return ""
	}
	return s.want.text
}

// steps pairs each block with the output block right after it.
func steps(blocks []block) ([]step, []error) {
	var out []step
	var errs []error
	for i := 0; i < len(blocks); i++ {
		s := step{block: blocks[i]}
		if s.lang == "output" {
			errs = append(errs, fmt.Errorf("%s: an output block must follow the block whose output it is", s.block))
			continue
		}
		if i+1 < len(blocks) && blocks[i+1].lang == "output" {
			s.want = &blocks[i+1]
			i++
		}
		out = append(out, s)
	}
	return out, errs
}

// runPage runs a page's blocks in order and returns one error per block
// that failed.
func (e *env) runPage(t *testing.T, blocks []block) []error {
	all, errs := steps(blocks)
	var sess *session
	var pythonSteps []step
	for _, s := range all {
		var err error
		switch {
		case s.mark.word == "no-run":
			if s.want != nil {
				err = fmt.Errorf("%s: a no-run block has an output block", s.block)
			}
		case s.mark.word == "ci":
			err = checkCI(e.root, s.block)
		case s.mark.word == "session":
			if sess != nil {
				err = fmt.Errorf("%s: a page holds one session", s.block)
				break
			}
			sess, err = e.startSession(t, s)
		case s.lang == "ndjson":
			if sess == nil {
				err = fmt.Errorf("%s: an ndjson block needs a `session` block before it", s.block)
				break
			}
			err = sess.paste(t, s)
		case s.mark.word == "venv":
			err = e.runVenv(t, s, pythonSteps)
		default:
			if s.lang == "python" {
				pythonSteps = append(pythonSteps, s)
			}
			err = e.run(t, s, e.base)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if sess != nil {
		if err := sess.finish(t); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// run runs one block with the given environment and compares its stdout
// with the expected output.
func (e *env) run(t *testing.T, s step, environ []string) error {
	cmd, err := e.command(t, s.block, environ)
	if err != nil {
		return err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %s block failed: %v\nstdout:\n%s\nstderr:\n%s", s.block, s.lang, err, stdout.String(), stderr.String())
	}
	if got, want := stdout.String(), s.wantText(); got != want {
		return fmt.Errorf("%s: %s block printed\n%s\nwant (its output block)\n%s\nstderr:\n%s", s.block, s.lang, got, want, stderr.String())
	}
	return nil
}

// command is the process that runs a block from the repository root with
// the given environment (whose PATH also picks the interpreter).
func (e *env) command(t *testing.T, b block, environ []string) (*exec.Cmd, error) {
	var tool, file string
	var err error
	switch b.lang {
	case "sh", "bash", "shell":
		tool = "bash"
	case "python":
		tool = "python3"
		file, err = e.writeSnippet(b, "py", ".py")
	case "js":
		tool = "node"
		file, err = e.writeNodeSnippet(t, b)
	default:
		return nil, fmt.Errorf("%s: no way to run a block of language %q: mark it `<!-- snippet: no-run (why) -->`", b, b.lang)
	}
	if err != nil {
		return nil, err
	}
	path, err := lookPath(tool, environ)
	if err != nil {
		return nil, missing(t, tool)
	}
	args := []string{file}
	if tool == "bash" {
		args = []string{"-euo", "pipefail", "-c", b.text}
	}
	cmd := exec.CommandContext(e.ctx, path, args...)
	cmd.Dir, cmd.Env = e.root, environ
	cmd.WaitDelay = time.Second
	return cmd, nil
}

// lookPath finds an executable on the PATH of environ.
func lookPath(name string, environ []string) (string, error) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(v) {
				p := filepath.Join(dir, name)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return p, nil
				}
			}
		}
	}
	return "", exec.ErrNotFound
}

// writeSnippet writes a block to a file of its own under dir.
func (e *env) writeSnippet(b block, dir, ext string) (string, error) {
	d := filepath.Join(e.tmp, dir)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	name := filepath.Join(d, fmt.Sprintf("%s-%d%s", strings.NewReplacer("/", "_", ".", "_").Replace(b.page), b.line, ext))
	return name, os.WriteFile(name, []byte(b.text), 0o600)
}

// writeNodeSnippet writes a js block next to a node_modules/chiphost link
// to clients/node, which is what installing the client makes: the
// snippet's require('chiphost') finds it, and the client finds its own
// dependencies in clients/node/node_modules (npm ci).
func (e *env) writeNodeSnippet(t *testing.T, b block) (string, error) {
	client := filepath.Join(e.root, "clients", "node")
	if _, err := os.Stat(filepath.Join(client, "node_modules", "vscode-jsonrpc")); err != nil {
		if err := missing(t, "the Node client's dependencies (run `npm ci` in clients/node; .ci/test does)"); err != nil {
			return "", err
		}
	}
	link := filepath.Join(e.tmp, "js", "node_modules", "chiphost")
	if _, err := os.Lstat(link); err != nil {
		if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
			return "", err
		}
		if err := os.Symlink(client, link); err != nil {
			return "", err
		}
	}
	return e.writeSnippet(b, "js", ".js")
}

// checkCI checks that every command line of a `ci FILE` block is a line of
// FILE, the script CI runs.
func checkCI(root string, b block) error {
	script, err := os.ReadFile(filepath.Join(root, b.mark.arg))
	if err != nil {
		return fmt.Errorf("%s: %w", b, err)
	}
	var lines []string
	for _, l := range strings.Split(string(script), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	cmds := commandLines(b.text)
	if len(cmds) == 0 {
		return fmt.Errorf("%s: a ci block without commands", b)
	}
	for _, c := range cmds {
		if !slices.Contains(lines, c) {
			return fmt.Errorf("%s: %q is not a line of %s, so CI does not run it as written", b, c, b.mark.arg)
		}
	}
	return nil
}

// missing skips the test for a tool a Go developer may lack, but fails it
// under CI (CI is set), where .ci/run installs everything.
func missing(t *testing.T, what string) error {
	if os.Getenv("CI") != "" {
		return fmt.Errorf("%s is missing (CI is set: .ci/run must install it)", what)
	}
	t.Skipf("%s is missing: the blocks that need it cannot run here", what)
	return errors.New("unreachable")
}

// safetyNet is a context that ends a little before the test binary's
// deadline, so that a hung block is killed and reported instead of taking
// the whole binary down. It is not a time limit on any block.
func safetyNet(t *testing.T) context.Context {
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		c, cancel := context.WithDeadline(ctx, d.Add(-time.Until(d)/10))
		t.Cleanup(cancel)
		return c
	}
	return ctx
}
