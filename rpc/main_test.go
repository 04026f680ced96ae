package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/testutil"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// The tests drive the real chiphost binary, built once in TestMain, over
// real pipes with a small client built on go.lsp.dev/jsonrpc2's own framers
// (so both framings are checked against an independent implementation).

var (
	chiphostBin string // path of the built chiphost
	// cacheDir is the compile cache shared by the servers of one test run.
	// It is fresh for each run: a cache left by an older build can hold
	// core modules instrumented by an older runtime (the cache key does not
	// name the instrumentation version), such as loops without the yield
	// that lets the Go GC stop a spinning guest.
	cacheDir string
	plugins  = mustAbs("../testdata/plugins")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chiphost-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chiphostBin = filepath.Join(dir, "chiphost")
	cacheDir = filepath.Join(dir, "cache")
	args := []string{"build", "-o", chiphostBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/chiphost")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building chiphost:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// watchdog fails loudly, with every goroutine's stack, if a test hangs.
func watchdog(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.AfterFunc(d, func() {
		panic(fmt.Sprintf("%s: deadlock watchdog fired after %v", t.Name(), d))
	})
	t.Cleanup(func() { timer.Stop() })
}

type note struct {
	method string
	params json.RawMessage
}

// client is a fake front end driving one chiphost process.
type client struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.ReadCloser
	conn    jsonrpc2.Conn
	stderr  *bytes.Buffer
	tempDir string
	exited  chan struct{}
	exitErr error

	calls atomic.Int64 // calls made, to know the library's ids (1, 2, …)
	// onWrite, when set, sees every write of the client's connection to the
	// server's stdin, after it is in the pipe.
	onWrite atomic.Pointer[func([]byte)]

	mu      sync.Mutex
	notes   []note
	changed chan struct{}
	onNote  func(method string, params json.RawMessage) // runs on the read loop
}

type startOpts struct {
	framing string
	args    []string
	raw     bool       // no jsonrpc2 conn: the test reads and writes bytes
	extra   []*os.File // become fds 3, 4, … of the server
	tempDir string     // --temp-dir (default: a new one per server)
	prefix  []string   // command that runs the server: prefix..., chiphost, args...
}

// startWithInput starts chiphost with a pipe as --input-fd 3 (the source
// of {"stdin": true} sessions) and returns the pipe's write end, closed
// when the test ends.
func startWithInput(t *testing.T) (*client, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	c := start(t, startOpts{args: []string{"--input-fd", "3"}, extra: []*os.File{r}})
	r.Close()
	return c, w
}

// start runs chiphost with a fresh temp dir and no default plugin roots.
func start(t *testing.T, o startOpts) *client {
	t.Helper()
	if o.framing == "" {
		o.framing = "header"
	}
	if o.tempDir == "" {
		o.tempDir = t.TempDir()
	}
	c := &client{t: t, stderr: &bytes.Buffer{}, tempDir: o.tempDir, exited: make(chan struct{}), changed: make(chan struct{})}
	args := append([]string{"serve", "--framing", o.framing, "--no-default-plugins", "--cache-dir", cacheDir,
		"--temp-dir", c.tempDir, "--log-level", "debug"}, o.args...)
	c.cmd = exec.Command(chiphostBin, args...)
	if len(o.prefix) > 0 {
		c.cmd = exec.Command(o.prefix[0], append(append(o.prefix[1:], chiphostBin), args...)...)
	}
	c.cmd.Stderr = &lockedWriter{w: c.stderr}
	c.cmd.ExtraFiles = o.extra
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// stdout is a pipe of our own, not StdoutPipe: Wait closes that one as
	// soon as the process exits, maybe before the test has read it all.
	out, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdout, c.cmd.Stdout = out, outW
	t.Cleanup(func() { out.Close() })
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	go func() { c.exitErr = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.stdin.Close()
		// A safety net for a server that hangs, not a time limit: the wait
		// gives up only near the test binary's deadline.
		if _, ok := testutil.Wait(t, c.exited); !ok {
			c.cmd.Process.Kill()
			<-c.exited
			t.Errorf("chiphost still running long after stdin closed: hung")
		}
		if strings.Contains(c.stderr.String(), "DATA RACE") || strings.Contains(c.stderr.String(), "panic:") {
			t.Errorf("chiphost reported a data race or a panic")
		}
		if t.Failed() {
			t.Logf("chiphost stderr:\n%s", c.stderr.String())
		}
	})
	if o.raw {
		return c
	}
	rwc := &pipeRWC{r: c.stdout, w: c.stdin, onWrite: &c.onWrite}
	var st jsonrpc2.Stream
	if o.framing == "ndjson" {
		st = jsonrpc2.NewNDJSONStream(rwc)
	} else {
		st = jsonrpc2.NewHeaderStream(rwc)
	}
	c.conn = jsonrpc2.NewConn(st, jsonrpc2.WithCodec(codec{}))
	c.conn.Go(context.Background(), func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		// The method and params borrow the frame buffer: copy them.
		method, params := strings.Clone(req.Method()), json.RawMessage(bytes.Clone(req.Params()))
		if c.onNote != nil {
			c.onNote(method, params)
		}
		c.mu.Lock()
		c.notes = append(c.notes, note{method, params})
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		return nil, nil
	})
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type pipeRWC struct {
	r       io.Reader
	w       io.WriteCloser
	onWrite *atomic.Pointer[func([]byte)]
}

func (p *pipeRWC) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *pipeRWC) Close() error               { return p.w.Close() }

func (p *pipeRWC) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if f := p.onWrite.Load(); f != nil && err == nil {
		(*f)(b)
	}
	return n, err
}

// call sends a request and decodes its result; it returns the wire error.
func (c *client) call(method string, params, result any) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.calls.Add(1)
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

// mustCall is call that fails the test on error.
func (c *client) mustCall(method string, params, result any) {
	c.t.Helper()
	if err := c.call(method, params, result); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, params); err != nil {
		c.t.Fatalf("notify %s: %v", method, err)
	}
}

func (c *client) initialize(opts *protocol.InitializationOptions) {
	c.t.Helper()
	var res protocol.InitializeResult
	c.mustCall(protocol.MethodInitialize, protocol.InitializeParams{InitializationOptions: opts}, &res)
	if res.ServerInfo.Name != protocol.ServerName || res.ProtocolVersion != protocol.ProtocolVersion {
		c.t.Fatalf("initialize: unexpected result %+v", res)
	}
	c.notify(protocol.MethodInitialized, struct{}{})
}

// waitNote waits for a notification matching pred and returns its params.
func (c *client) waitNote(d time.Duration, pred func(note) bool) json.RawMessage {
	c.t.Helper()
	deadline := time.After(d)
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.notes); seen++ {
			if pred(c.notes[seen]) {
				p := c.notes[seen].params
				c.mu.Unlock()
				return p
			}
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			c.mu.Lock()
			var last []string
			for _, n := range c.notes[max(0, len(c.notes)-5):] {
				last = append(last, n.method+" "+string(n.params))
			}
			c.mu.Unlock()
			select {
			case <-c.conn.Done():
				c.t.Logf("client connection ended: %v", c.conn.Err())
			default:
			}
			c.t.Fatalf("no matching notification within %v; %d notifications, last:\n%s", d, len(c.notes), strings.Join(last, "\n"))
		}
	}
}

// waitFinal waits for the sessions/updated of session in a final state
// (done or failed).
func (c *client) waitFinal(session string, d time.Duration) protocol.SessionsUpdatedParams {
	c.t.Helper()
	var u protocol.SessionsUpdatedParams
	raw := c.waitNote(d, func(n note) bool {
		if n.method != protocol.MethodSessionsUpdated {
			return false
		}
		var p protocol.SessionsUpdatedParams
		return json.Unmarshal(n.params, &p) == nil && p.Session == session && (p.State == protocol.StateDone || p.State == protocol.StateFailed)
	})
	if err := json.Unmarshal(raw, &u); err != nil {
		c.t.Fatal(err)
	}
	return u
}

// waitExit waits for the process to exit and returns its status.
func (c *client) waitExit(d time.Duration) int {
	c.t.Helper()
	select {
	case <-c.exited:
	case <-time.After(d):
		c.t.Fatalf("chiphost did not exit within %v", d)
	}
	return c.cmd.ProcessState.ExitCode()
}

// wireErr returns err as a *jsonrpc2.Error with decoded data.
func wireErr(t *testing.T, err error, wantCode jsonrpc2.Code) *protocol.ErrorData {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d, got success", wantCode)
	}
	we, ok := err.(*jsonrpc2.Error)
	if !ok {
		t.Fatalf("want *jsonrpc2.Error %d, got %T %v", wantCode, err, err)
	}
	if we.Code != wantCode {
		t.Fatalf("want code %d, got %d (%s)", wantCode, we.Code, we.Message)
	}
	var d protocol.ErrorData
	if len(we.Data) > 0 {
		if err := json.Unmarshal(we.Data, &d); err != nil {
			t.Fatalf("error data %s: %v", we.Data, err)
		}
	}
	return &d
}

// writeLines writes a file of n lines "line <i> <padding>" and returns its
// path.
func writeLines(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.log")
	var b strings.Builder
	for i := range n {
		b.WriteString(lineText(i))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func lineText(i int) string { return "line " + strconv.Itoa(i) + " \"quoted\" \\ tab\t é" }

// rawClient helpers for malformed-frame tests.

// readFrame reads one frame of the given framing from r.
func readFrame(t *testing.T, r *bufio.Reader, framing string) map[string]any {
	t.Helper()
	body := readBody(t, r, framing)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("frame %q: %v", body, err)
	}
	return m
}

// readBody reads the body of one frame of the given framing from r.
func readBody(t *testing.T, r *bufio.Reader, framing string) []byte {
	t.Helper()
	var body []byte
	if framing == "ndjson" {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading line: %v", err)
		}
		body = line
	} else {
		n := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading header: %v", err)
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
	}
	return body
}

func frame(framing, body string) string {
	if framing == "ndjson" {
		return body + "\n"
	}
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}
