package conformance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// binary is the chiphost under test: $CHIPHOST or a fresh build.
var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("CHIPHOST")
	var tmp string
	if binary == "" {
		var err error
		tmp, err = os.MkdirTemp("", "chiphost-conformance-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary = filepath.Join(tmp, "chiphost")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/chiphost")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build ./cmd/chiphost: %v\n%s", err, out)
			os.RemoveAll(tmp)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

func repoRoot() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}

// Case is one conformance case (README.md).
type Case struct {
	Description string           `json:"description"`
	Comment     string           `json:"comment,omitempty"`
	Framings    []string         `json:"framings,omitempty"`
	Args        []any            `json:"args,omitempty"`
	Setup       map[string]any   `json:"setup,omitempty"`
	Ignore      *[]string        `json:"ignore,omitempty"`
	TimeoutMS   int              `json:"timeout_ms,omitempty"`
	Steps       []map[string]any `json:"steps"`
}

var defaultIgnore = []string{"window/logMessage", "sessions/updated", "$/progress", "plugins/changed"}

const defaultTimeoutMS = 10000

func loadCases(t *testing.T) map[string]*Case {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	cases := map[string]*Case{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Description == "" || len(c.Steps) == 0 {
			t.Fatalf("%s: a case needs a description and steps", f)
		}
		cases[strings.TrimSuffix(f, ".json")] = &c
	}
	return cases
}

// loadBaseline reads the known failures: case name → framings ("" = all).
func loadBaseline(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	b, err := os.ReadFile("baseline")
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		fr := ""
		if len(f) > 1 {
			fr = f[1]
		}
		out[f[0]] = append(out[f[0]], fr)
	}
	return out
}

func framings() []string {
	switch os.Getenv("CONFORMANCE_FRAMING") {
	case "ndjson":
		return []string{"ndjson"}
	case "both":
		return []string{"header", "ndjson"}
	}
	return []string{"header"}
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	baseline := loadBaseline(t)
	for name := range baseline {
		if cases[name] == nil {
			t.Errorf("baseline names %q, which is not a case", name)
		}
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cases[name]
		for _, fr := range framings() {
			if len(c.Framings) > 0 && !slices.Contains(c.Framings, fr) {
				continue
			}
			sub := name
			if len(framings()) > 1 {
				sub += "/" + fr
			}
			known := slices.Contains(baseline[name], "") || slices.Contains(baseline[name], fr)
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				err := runCase(t, c, fr)
				switch {
				case known && err == nil:
					t.Errorf("passes but is listed in baseline: remove it from spec/conformance/baseline")
				case known:
					t.Logf("known failure (baseline): %v", err)
				case err != nil:
					t.Errorf("%s\n%v", c.Description, err)
				}
			})
		}
	}
}

// TestCoverage checks that every method of the protocol table (both
// directions) appears in at least one case.
func TestCoverage(t *testing.T) {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "method" {
					seen[s] = true
				}
				if k == "macro" && e == "initialize" {
					seen[protocol.MethodInitialize], seen[protocol.MethodInitialized] = true, true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, c := range loadCases(t) {
		for _, st := range c.Steps {
			walk(st)
		}
	}
	for _, m := range protocol.Methods() {
		if !seen[m.Name] {
			t.Errorf("no conformance case mentions %q", m.Name)
		}
	}
}

// runner state of one case.
type runner struct {
	t       *testing.T
	c       *Case
	env     map[string]any
	ignore  []string
	stdin   io.WriteCloser
	framing string
	msgs    chan any
	buffer  []any
	history []any
	eof     bool
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *bytes.Buffer
}

func runCase(t *testing.T, c *Case, framing string) error {
	tmp := t.TempDir()
	env := map[string]any{"REPO": repoRoot(), "TMP": tmp}
	if c.Setup != nil {
		if err := applyFS(c.Setup, env); err != nil {
			return err
		}
	}
	args := []string{"--no-default-plugins", "--framing", framing}
	sa, err := substitute(c.Args, env)
	if err != nil {
		return err
	}
	if sa != nil {
		for _, a := range sa.([]any) {
			args = append(args, fmt.Sprint(a))
		}
	}
	cmd := exec.Command(binary, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		return err
	}
	r := &runner{t: t, c: c, env: env, stdin: stdin, framing: framing, msgs: make(chan any, 1024), cmd: cmd,
		exited: make(chan struct{}), stderr: &stderr, ignore: defaultIgnore}
	if c.Ignore != nil {
		r.ignore = *c.Ignore
	}
	readDone := make(chan struct{})
	go func() { r.read(stdout); close(readDone) }()
	// Wait closes stdout: call it only after the reader saw EOF.
	go func() { <-readDone; _ = cmd.Wait(); close(r.exited) }()
	defer r.stop()
	if err := r.run(); err != nil {
		if s := stderr.String(); s != "" {
			err = fmt.Errorf("%w\nserver stderr:\n%s", err, truncate(s, 4000))
		}
		return err
	}
	return nil
}

type syncWriter struct {
	w io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// stop closes the server's stdin, waits, then kills it (the client habit of
// the style guide, without SIGTERM's grace for a test).
func (r *runner) stop() {
	_ = r.stdin.Close()
	go func() { // unblock the reader
		for range r.msgs {
		}
	}()
	select {
	case <-r.exited:
	case <-time.After(3 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

func (r *runner) read(stdout io.Reader) {
	defer close(r.msgs)
	br := bufio.NewReaderSize(stdout, 1<<16)
	for {
		body, err := readFrame(br, r.framing)
		if err != nil {
			if err != io.EOF {
				r.msgs <- fmt.Errorf("reading server output: %w", err)
			}
			return
		}
		var m any
		if !utf8.Valid(body) {
			r.msgs <- fmt.Errorf("server sent invalid UTF-8: %q", truncate(string(body), 200))
			return
		}
		if err := json.Unmarshal(body, &m); err != nil {
			r.msgs <- fmt.Errorf("server sent invalid JSON %q: %w", truncate(string(body), 200), err)
			return
		}
		r.msgs <- m
	}
}

func readFrame(br *bufio.Reader, framing string) ([]byte, error) {
	if framing == "ndjson" {
		for {
			line, err := br.ReadBytes('\n')
			if t := bytes.TrimSpace(line); len(t) > 0 {
				return t, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	length, started := -1, false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err == io.EOF && (started || line != "") {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if !started {
				continue
			}
			break
		}
		started = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("invalid header line %q", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return nil, fmt.Errorf("invalid Content-Length %q", value)
			}
			length = n
		}
	}
	if length < 0 {
		return nil, errors.New("frame without Content-Length")
	}
	body := make([]byte, length)
	_, err := io.ReadFull(br, body)
	return body, err
}

func (r *runner) write(data []byte) error {
	_, err := r.stdin.Write(data)
	return err
}

func (r *runner) writeFrame(body []byte) error {
	if r.framing == "ndjson" {
		return r.write(append(append([]byte(nil), body...), '\n'))
	}
	return r.write(append([]byte(fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))), body...))
}

// next reads one more message into the buffer; false at EOF or deadline.
func (r *runner) next(deadline time.Time) (bool, error) {
	if r.eof {
		return false, nil
	}
	left := time.Until(deadline)
	if left <= 0 {
		return false, nil
	}
	select {
	case m, ok := <-r.msgs:
		if !ok {
			r.eof = true
			return false, nil
		}
		if err, isErr := m.(error); isErr {
			return false, err
		}
		r.history = append(r.history, m)
		r.buffer = append(r.buffer, m)
		return true, nil
	case <-time.After(left):
		return false, nil
	}
}

func (r *runner) ignored(m any) bool {
	o, ok := m.(map[string]any)
	if !ok {
		return false
	}
	_, hasID := o["id"]
	method, _ := o["method"].(string)
	return !hasID && slices.Contains(r.ignore, method)
}

func (r *runner) remove(m any) {
	for i, b := range r.buffer {
		if sameRef(b, m) {
			r.buffer = append(r.buffer[:i], r.buffer[i+1:]...)
			return
		}
	}
}

// sameRef compares buffered messages by identity (they are maps or slices
// decoded once; fall back to equality of their JSON).
func sameRef(a, b any) bool {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		return fmt.Sprintf("%p", ma) == fmt.Sprintf("%p", mb)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func (r *runner) fail(i int, st map[string]any, format string, args ...any) error {
	var recent []string
	from := max(0, len(r.history)-8)
	for _, m := range r.history[from:] {
		recent = append(recent, short(m, 400))
	}
	return fmt.Errorf("step %d %s: %s\n  last messages received:\n  %s", i, short(st, 200), fmt.Sprintf(format, args...), strings.Join(recent, "\n  "))
}

func (r *runner) run() error {
	steps, err := expandSteps(r.c.Steps)
	if err != nil {
		return err
	}
	for i, st := range steps {
		timeout := r.c.TimeoutMS
		if timeout == 0 {
			timeout = defaultTimeoutMS
		}
		if v, ok := st["timeout_ms"].(float64); ok {
			timeout = int(v)
		}
		deadline := time.Now().Add(time.Duration(timeout) * time.Millisecond)
		sub := func(key string) (any, error) { return substitute(st[key], r.env) }
		switch {
		case st["send"] != nil:
			v, err := sub("send")
			if err != nil {
				return err
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := r.writeFrame(b); err != nil {
				return r.fail(i, st, "write: %v", err)
			}
		case st["send_frame"] != nil:
			v, err := sub("send_frame")
			if err != nil {
				return err
			}
			if err := r.writeFrame([]byte(fmt.Sprint(v))); err != nil {
				return r.fail(i, st, "write: %v", err)
			}
		case st["send_frame_base64"] != nil:
			v, err := sub("send_frame_base64")
			if err != nil {
				return err
			}
			b, err := base64.StdEncoding.DecodeString(fmt.Sprint(v))
			if err != nil {
				return r.fail(i, st, "send_frame_base64: %v", err)
			}
			if err := r.writeFrame(b); err != nil {
				return r.fail(i, st, "write: %v", err)
			}
		case st["send_raw"] != nil:
			v, err := sub("send_raw")
			if err != nil {
				return err
			}
			if err := r.write([]byte(fmt.Sprint(v))); err != nil {
				return r.fail(i, st, "write: %v", err)
			}
		case hasKey(st, "expect"):
			pat, err := sub("expect")
			if err != nil {
				return err
			}
			var m any
			for {
				for _, b := range r.buffer {
					if !r.ignored(b) {
						m = b
						break
					}
				}
				if m != nil {
					break
				}
				ok, err := r.next(deadline)
				if err != nil {
					return r.fail(i, st, "%v", err)
				}
				if !ok {
					return r.fail(i, st, "no message (%s)", r.why())
				}
			}
			caps := map[string]any{}
			if msg := match(pat, m, caps, "$", false); msg != "" {
				return r.fail(i, st, "message %s does not match: %s", short(m, 300), msg)
			}
			r.remove(m)
			for k, v := range caps {
				r.env[k] = v
			}
		case hasKey(st, "await"):
			pat, err := sub("await")
			if err != nil {
				return err
			}
			scanned := 0
			for found := false; !found; {
				for _, b := range r.buffer[scanned:] {
					caps := map[string]any{}
					if match(pat, b, caps, "$", false) == "" {
						r.remove(b)
						for k, v := range caps {
							r.env[k] = v
						}
						found = true
						break
					}
				}
				if found {
					break
				}
				scanned = len(r.buffer)
				ok, err := r.next(deadline)
				if err != nil {
					return r.fail(i, st, "%v", err)
				}
				if !ok {
					return r.fail(i, st, "no matching message (%s)", r.why())
				}
			}
		case hasKey(st, "expect_none"):
			pat, err := sub("expect_none")
			if err != nil {
				return err
			}
			forMS := 300.0
			if v, ok := st["for_ms"].(float64); ok {
				forMS = v
			}
			deadline = time.Now().Add(time.Duration(forMS) * time.Millisecond)
			for {
				for _, b := range r.buffer {
					if match(pat, b, map[string]any{}, "$", false) == "" {
						return r.fail(i, st, "unexpected message %s", short(b, 300))
					}
				}
				ok, err := r.next(deadline)
				if err != nil {
					return r.fail(i, st, "%v", err)
				}
				if !ok {
					break
				}
			}
		case st["fs"] != nil:
			fs, _ := st["fs"].(map[string]any)
			if err := applyFS(fs, r.env); err != nil {
				return r.fail(i, st, "%v", err)
			}
		case st["close_stdin"] == true:
			_ = r.stdin.Close()
		case hasKey(st, "expect_exit"):
			for {
				ok, err := r.next(deadline)
				if err != nil {
					return r.fail(i, st, "%v", err)
				}
				if !ok {
					break
				}
			}
			if !r.eof {
				return r.fail(i, st, "the server did not close its output")
			}
			var left []any
			for _, b := range r.buffer {
				if !r.ignored(b) {
					left = append(left, b)
				}
			}
			if len(left) > 0 {
				return r.fail(i, st, "unexpected message(s) before exit: %s", short(left, 600))
			}
			select {
			case <-r.exited:
			case <-time.After(max(100*time.Millisecond, time.Until(deadline))):
				return r.fail(i, st, "the server did not exit")
			}
			want, _ := st["expect_exit"].(float64)
			if got := r.cmd.ProcessState.ExitCode(); got != int(want) {
				return r.fail(i, st, "exit code %d, want %d", got, int(want))
			}
		default:
			return fmt.Errorf("step %d: unknown step %s", i, short(st, 200))
		}
	}
	return nil
}

func (r *runner) why() string {
	if r.eof {
		return "end of output"
	}
	return "timeout"
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func expandSteps(steps []map[string]any) ([]map[string]any, error) {
	var out []map[string]any
	for _, st := range steps {
		m, ok := st["macro"]
		if !ok {
			out = append(out, st)
			continue
		}
		if m != "initialize" {
			return nil, fmt.Errorf("unknown macro %v", m)
		}
		var init []map[string]any
		if err := json.Unmarshal([]byte(`[
			{"send": {"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {"processId": null, "clientInfo": {"name": "conformance"}, "capabilities": {}}}},
			{"expect": {"jsonrpc": "2.0", "id": "init", "result": {"serverInfo": {"name": "chiphost"}}}},
			{"send": {"jsonrpc": "2.0", "method": "initialized", "params": {}}}
		]`), &init); err != nil {
			return nil, err
		}
		out = append(out, init...)
	}
	return out, nil
}

// appendFile appends the string content to the file rel below tmp, as a
// program writing a log does (fs["append"]).
func appendFile(tmp, rel string, content any, env map[string]any) error {
	p, err := substString(rel, env)
	if err != nil {
		return err
	}
	c, ok := content.(string)
	if !ok {
		return fmt.Errorf("append[%q]: want a string", rel)
	}
	if c, err = substString(c, env); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(tmp, p), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(c)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// applyFS creates fs["files"] and fs["links"] below ${TMP}, and appends
// fs["append"] to files there.
func applyFS(fs map[string]any, env map[string]any) error {
	tmp := env["TMP"].(string)
	files, _ := fs["files"].(map[string]any)
	for rel, content := range files {
		p, err := substString(rel, env)
		if err != nil {
			return err
		}
		path := filepath.Join(tmp, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var text string
		switch c := content.(type) {
		case string:
			if text, err = substString(c, env); err != nil {
				return err
			}
		case map[string]any:
			format, _ := c["format"].(string)
			if format == "" {
				format = "line {i}"
			}
			n, _ := c["lines"].(float64)
			var b strings.Builder
			for i := 0; i < int(n); i++ {
				b.WriteString(strings.ReplaceAll(format, "{i}", strconv.Itoa(i)))
				b.WriteByte('\n')
			}
			text = b.String()
		default:
			return fmt.Errorf("files[%q]: want a string or {lines, format}", rel)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	appends, _ := fs["append"].(map[string]any)
	for rel, content := range appends {
		if err := appendFile(tmp, rel, content, env); err != nil {
			return err
		}
	}
	links, _ := fs["links"].(map[string]any)
	for rel, target := range links {
		p, err := substString(rel, env)
		if err != nil {
			return err
		}
		tgt, err := substString(fmt.Sprint(target), env)
		if err != nil {
			return err
		}
		path := filepath.Join(tmp, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(tgt, path); err != nil {
			return err
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func lookup(name string, env map[string]any) (any, error) {
	v, ok := env[name]
	if !ok {
		return nil, fmt.Errorf("unknown placeholder ${%s}", name)
	}
	return v, nil
}

func substString(s string, env map[string]any) (string, error) {
	v, err := substitute(s, env)
	if err != nil {
		return "", err
	}
	if str, ok := v.(string); ok {
		return str, nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}

// substitute replaces ${NAME} in every string of v; a string that is exactly
// "${NAME}" becomes the variable's value, whatever its JSON type. $capture
// names are left alone.
func substitute(v any, env map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		if m := placeholder.FindStringSubmatch(x); m != nil && m[0] == x {
			return lookup(m[1], env)
		}
		var err error
		out := placeholder.ReplaceAllStringFunc(x, func(s string) string {
			val, e := lookup(s[2:len(s)-1], env)
			if e != nil {
				err = e
				return s
			}
			if str, ok := val.(string); ok {
				return str
			}
			b, _ := json.Marshal(val)
			return string(b)
		})
		return out, err
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			s, err := substitute(e, env)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "$capture" {
				out[k] = e
				continue
			}
			s, err := substitute(e, env)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	}
	return v, nil
}

var operators = []string{"$any", "$absent", "$type", "$regex", "$exact", "$contains", "$length", "$min", "$max", "$capture", "$not", "$anyOf"}

func isOperator(p any) bool {
	m, ok := p.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k := range m {
		if !strings.HasPrefix(k, "$") {
			return false
		}
	}
	return true
}

// match returns "" if value matches pattern, else the first mismatch.
// Plain objects match as subsets unless exact (inside $exact).
func match(pattern, value any, caps map[string]any, path string, exact bool) string {
	if isOperator(pattern) {
		return matchOps(pattern.(map[string]any), value, caps, path, exact)
	}
	switch p := pattern.(type) {
	case map[string]any:
		v, ok := value.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, found %s", path, short(value, 300))
		}
		if exact {
			var extra []string
			for k := range v {
				if _, ok := p[k]; !ok {
					extra = append(extra, k)
				}
			}
			if len(extra) > 0 {
				sort.Strings(extra)
				return fmt.Sprintf("%s: unexpected member(s) %s in %s", path, strings.Join(extra, ", "), short(value, 300))
			}
		}
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := p[k]
			if isOperator(sub) && sub.(map[string]any)["$absent"] == true {
				if e, has := v[k]; has {
					return fmt.Sprintf("%s.%s: want no such member, found %s", path, k, short(e, 300))
				}
				continue
			}
			e, has := v[k]
			if !has {
				return fmt.Sprintf("%s.%s: missing", path, k)
			}
			if msg := match(sub, e, caps, path+"."+k, exact); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		v, ok := value.([]any)
		if !ok {
			return fmt.Sprintf("%s: want an array, found %s", path, short(value, 300))
		}
		if len(p) != len(v) {
			return fmt.Sprintf("%s: want %d elements, found %d: %s", path, len(p), len(v), short(value, 300))
		}
		for i := range p {
			if msg := match(p[i], v[i], caps, fmt.Sprintf("%s[%d]", path, i), exact); msg != "" {
				return msg
			}
		}
		return ""
	}
	if !equal(pattern, value) {
		return fmt.Sprintf("%s: want %s, found %s", path, short(pattern, 300), short(value, 300))
	}
	return ""
}

func matchOps(ops map[string]any, value any, caps map[string]any, path string, exact bool) string {
	for k := range ops {
		if !slices.Contains(operators, k) {
			return fmt.Sprintf("%s: unknown operator %s (a bug in the case)", path, k)
		}
	}
	if ops["$absent"] == true {
		return path + ": want no such member"
	}
	if t, ok := ops["$type"]; ok {
		var types []any
		if l, isList := t.([]any); isList {
			types = l
		} else {
			types = []any{t}
		}
		okAny := false
		for _, ty := range types {
			if hasType(fmt.Sprint(ty), value) {
				okAny = true
			}
		}
		if !okAny {
			return fmt.Sprintf("%s: want type %v, found %s", path, t, short(value, 300))
		}
	}
	if re, ok := ops["$regex"].(string); ok {
		s, isStr := value.(string)
		if !isStr {
			return fmt.Sprintf("%s: want a string matching /%s/, found %s", path, re, short(value, 300))
		}
		rx, err := regexp.Compile(re)
		if err != nil {
			return fmt.Sprintf("%s: bad $regex: %v", path, err)
		}
		if !rx.MatchString(s) {
			return fmt.Sprintf("%s: %s does not match /%s/", path, short(value, 300), re)
		}
	}
	if e, ok := ops["$exact"]; ok {
		if msg := match(e, value, caps, path, true); msg != "" {
			return msg
		}
	}
	if n, ok := ops["$length"].(float64); ok {
		l := -1
		switch v := value.(type) {
		case []any:
			l = len(v)
		case string:
			l = len([]rune(v))
		case map[string]any:
			l = len(v)
		}
		if l != int(n) {
			return fmt.Sprintf("%s: want length %v, found %s", path, n, short(value, 300))
		}
	}
	if lo, ok := ops["$min"].(float64); ok {
		if f, isNum := value.(float64); !isNum || f < lo {
			return fmt.Sprintf("%s: want a number >= %v, found %s", path, lo, short(value, 300))
		}
	}
	if hi, ok := ops["$max"].(float64); ok {
		if f, isNum := value.(float64); !isNum || f > hi {
			return fmt.Sprintf("%s: want a number <= %v, found %s", path, hi, short(value, 300))
		}
	}
	if pats, ok := ops["$contains"].([]any); ok {
		v, isList := value.([]any)
		if !isList {
			return fmt.Sprintf("%s: want an array, found %s", path, short(value, 300))
		}
		for _, p := range pats {
			found := false
			for _, e := range v {
				c := clone(caps)
				if match(p, e, c, path+"[]", exact) == "" {
					for k, x := range c {
						caps[k] = x
					}
					found = true
					break
				}
			}
			if !found {
				return fmt.Sprintf("%s: no element matches %s in %s", path, short(p, 300), short(value, 300))
			}
		}
	}
	if alts, ok := ops["$anyOf"].([]any); ok {
		var errs []string
		matched := false
		for _, p := range alts {
			c := clone(caps)
			msg := match(p, value, c, path, exact)
			if msg == "" {
				for k, x := range c {
					caps[k] = x
				}
				matched = true
				break
			}
			errs = append(errs, msg)
		}
		if !matched {
			return fmt.Sprintf("%s: matches none of $anyOf: %s", path, strings.Join(errs, "; "))
		}
	}
	if n, ok := ops["$not"]; ok && match(n, value, clone(caps), path, exact) == "" {
		return fmt.Sprintf("%s: %s matches the $not pattern %s", path, short(value, 300), short(n, 300))
	}
	if name, ok := ops["$capture"].(string); ok {
		caps[name] = value
	}
	return ""
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func hasType(t string, v any) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

// equal is deep JSON equality (numbers compared as numbers).
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, has := y[k]
			if !has || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func short(v any, n int) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestMatch pins the matching rules the README documents (the Python
// runner has the same table in clients/python/tests/test_conformance.py).
func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		ok      bool
	}{
		{"scalar", `1`, `1.0`, true},
		{"scalar mismatch", `"a"`, `"b"`, false},
		{"subset object", `{"a": 1}`, `{"a": 1, "b": 2}`, true},
		{"missing member", `{"a": 1}`, `{"b": 2}`, false},
		{"exact object", `{"$exact": {"a": 1}}`, `{"a": 1, "b": 2}`, false},
		{"exact nested", `{"$exact": {"a": {"b": 1}}}`, `{"a": {"b": 1, "c": 2}}`, false},
		{"exact with operator", `{"$exact": {"a": {"$type": "object"}}}`, `{"a": {"c": 2}}`, true},
		{"array length", `[1, 2]`, `[1, 2, 3]`, false},
		{"any", `{"a": {"$any": true}}`, `{"a": null}`, true},
		{"absent", `{"a": {"$absent": true}}`, `{"b": 1}`, true},
		{"absent present", `{"a": {"$absent": true}}`, `{"a": 1}`, false},
		{"type", `{"$type": "integer"}`, `3`, true},
		{"type float", `{"$type": "integer"}`, `3.5`, false},
		{"types", `{"$type": ["string", "null"]}`, `null`, true},
		{"regex", `{"$regex": "^s[0-9]+$"}`, `"s12"`, true},
		{"regex mismatch", `{"$regex": "^s[0-9]+$"}`, `"x"`, false},
		{"contains", `{"$contains": [{"a": 2}]}`, `[{"a": 1}, {"a": 2}]`, true},
		{"contains none", `{"$contains": [{"a": 3}]}`, `[{"a": 1}]`, false},
		{"length", `{"$length": 2}`, `[0, 0]`, true},
		{"min max", `{"$min": 1, "$max": 5}`, `6`, false},
		{"not", `{"$not": "running"}`, `"done"`, true},
		{"anyOf", `{"$anyOf": [-32600, -32700]}`, `-32700`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p, v any
			if err := json.Unmarshal([]byte(tt.pattern), &p); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.value), &v); err != nil {
				t.Fatal(err)
			}
			msg := match(p, v, map[string]any{}, "$", false)
			if (msg == "") != tt.ok {
				t.Errorf("match(%s, %s) = %q, want ok=%v", tt.pattern, tt.value, msg, tt.ok)
			}
		})
	}
	caps := map[string]any{}
	var p, v any
	_ = json.Unmarshal([]byte(`{"result": {"session": {"$capture": "sid", "$type": "string"}}}`), &p)
	_ = json.Unmarshal([]byte(`{"id": 1, "result": {"session": "s1"}}`), &v)
	if msg := match(p, v, caps, "$", false); msg != "" || caps["sid"] != "s1" {
		t.Errorf("capture: %q %v", msg, caps)
	}
	got, err := substitute(map[string]any{"session": "${sid}", "path": "${sid}/x", "n": "${n}"}, map[string]any{"sid": "s1", "n": 3.0})
	if err != nil || !equal(got, map[string]any{"session": "s1", "path": "s1/x", "n": 3.0}) {
		t.Errorf("substitute: %v %v", got, err)
	}
}
