package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chiphost/chiphost/rpc"
)

// client is a minimal JSON-RPC 2.0 client over Content-Length framing that
// spawns chiphost serve: the "Go reader" of the end-to-end figures. It
// decodes every row into rpc.Row, as a real client would.
type client struct {
	cmd  *exec.Cmd
	w    *bufio.Writer
	wmu  sync.Mutex
	r    *bufio.Reader
	next atomic.Int64

	mu       sync.Mutex
	pending  map[int64]chan *wireMsg
	sessions map[string]*sessionState
	err      error
	done     chan struct{}
}

type wireMsg struct {
	ID     *int64          `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// sessionState is what the client learnt about a session from
// sessions/updated, plus the rows streamed to it.
type sessionState struct {
	mu      sync.Mutex
	state   string
	rows    uint64
	updated chan struct{} // signalled (non-blocking) on every update
	onItems func(p *rpc.SessionsItemsParams)
}

func startServer(ctx context.Context, exe string, args ...string) (*client, error) {
	cmd := exec.CommandContext(ctx, exe, append([]string{"serve"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &client{cmd: cmd, w: bufio.NewWriterSize(stdin, 64<<10), r: bufio.NewReaderSize(stdout, 1<<20),
		pending: map[int64]chan *wireMsg{}, sessions: map[string]*sessionState{}, done: make(chan struct{})}
	go c.readLoop(stdin)
	return c, nil
}

func (c *client) pid() int { return c.cmd.Process.Pid }

// close shuts the server down: stdin EOF, then a kill after 5 s.
func (c *client) close() error {
	c.wmu.Lock()
	if wc, ok := c.cmd.Stdin.(io.Closer); ok {
		wc.Close()
	}
	c.wmu.Unlock()
	t := time.AfterFunc(5*time.Second, func() { c.cmd.Process.Kill() })
	defer t.Stop()
	return c.cmd.Wait()
}

func (c *client) readLoop(stdin io.Closer) {
	defer close(c.done)
	for {
		body, err := c.readFrame()
		if err != nil {
			c.fail(err)
			return
		}
		var m wireMsg
		if err := json.Unmarshal(body, &m); err != nil {
			c.fail(err)
			return
		}
		switch {
		case m.ID != nil && m.Method == "":
			c.mu.Lock()
			ch := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- &m
			}
		case m.ID == nil:
			c.notify(&m)
		}
	}
}

func (c *client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
}

func (c *client) readFrame() ([]byte, error) {
	n := -1
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, err = strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, err
			}
		}
	}
	if n < 0 {
		return nil, errors.New("frame without Content-Length")
	}
	body := make([]byte, n)
	_, err := io.ReadFull(c.r, body)
	return body, err
}

func (c *client) notify(m *wireMsg) {
	switch m.Method {
	case rpc.MethodSessionsUpdated:
		var p rpc.SessionsUpdatedParams
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		s := c.session(p.Session)
		s.mu.Lock()
		s.state, s.rows = p.State, p.Rows
		s.mu.Unlock()
		select {
		case s.updated <- struct{}{}:
		default:
		}
	case rpc.MethodSessionsItems:
		var p rpc.SessionsItemsParams
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		s := c.session(p.Session)
		s.mu.Lock()
		f := s.onItems
		s.mu.Unlock()
		if f != nil {
			f(&p)
		}
	}
}

func (c *client) session(id string) *sessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[id]
	if s == nil {
		s = &sessionState{updated: make(chan struct{}, 1)}
		c.sessions[id] = s
	}
	return s
}

func (c *client) send(m any) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n", len(body))
	c.w.Write(body)
	return c.w.Flush()
}

func (c *client) notifyServer(method string, params any) error {
	return c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// call sends a request and decodes the result into out (when not nil).
func (c *client) call(ctx context.Context, method string, params, out any) error {
	id := c.next.Add(1)
	ch := make(chan *wireMsg, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: connection closed: %v", method, c.err)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// initialize runs the handshake and returns the plugins/list result.
func (c *client) initialize(ctx context.Context, pluginDirs []string) (*rpc.PluginsListResult, error) {
	var ir rpc.InitializeResult
	pid := os.Getpid()
	params := rpc.InitializeParams{ProcessID: &pid, ClientInfo: &rpc.ClientInfo{Name: "chiphost-bench"}}
	if len(pluginDirs) > 0 {
		params.InitializationOptions = &rpc.InitializationOptions{PluginDirs: pluginDirs}
	}
	if err := c.call(ctx, rpc.MethodInitialize, params, &ir); err != nil {
		return nil, err
	}
	if err := c.notifyServer(rpc.MethodInitialized, struct{}{}); err != nil {
		return nil, err
	}
	var list rpc.PluginsListResult
	if err := c.call(ctx, rpc.MethodPluginsList, struct{}{}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// open opens a session parsing file with the plugin id.
func (c *client) open(ctx context.Context, file, plugin string) (string, error) {
	var r rpc.SessionsOpenResult
	err := c.call(ctx, rpc.MethodSessionsOpen, rpc.SessionsOpenParams{Source: rpc.SourceSpec{File: file}, Parser: rpc.ParserSpec{Plugin: plugin}}, &r)
	if err == nil {
		c.session(r.Session)
	}
	return r.Session, err
}

func countRows(rows []rpc.Row) (n uint64) {
	for _, r := range rows {
		if r.Line != nil || len(r.Columns) > 0 || r.Attachment != nil {
			n++
		}
	}
	return n
}

// grabAll grabs rows in pages of 10000 until the session is done and every
// row was read. It returns the rows read.
func (c *client) grabAll(ctx context.Context, session string) (uint64, error) {
	s := c.session(session)
	var start uint64
	for {
		var r rpc.SessionsGrabResult
		if err := c.call(ctx, rpc.MethodSessionsGrab, rpc.SessionsGrabParams{Session: session, Start: start, Count: rpc.MaxGrabCount}, &r); err != nil {
			return start, err
		}
		if countRows(r.Items) != uint64(len(r.Items)) {
			return start, errors.New("empty row")
		}
		start += uint64(len(r.Items))
		if len(r.Items) > 0 {
			continue
		}
		s.mu.Lock()
		state, rows := s.state, s.rows
		s.mu.Unlock()
		switch {
		case state == rpc.StateFailed || state == rpc.StateClosed:
			return start, fmt.Errorf("session %s", state)
		case state == rpc.StateDone && start >= rows:
			return start, nil
		}
		select {
		case <-s.updated:
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return start, ctx.Err()
		}
	}
}

// streamAll streams every row, granting as many credits as rows arrive.
func (c *client) streamAll(ctx context.Context, session string) (uint64, error) {
	s := c.session(session)
	var got atomic.Uint64
	var bad atomic.Bool
	s.mu.Lock()
	s.onItems = func(p *rpc.SessionsItemsParams) {
		n := countRows(p.Items)
		if n != uint64(len(p.Items)) {
			bad.Store(true)
		}
		got.Add(n)
		c.notifyServer(rpc.MethodSessionsCredit, rpc.SessionsCreditParams{Session: session, Credits: rpc.Credits{Rows: uint64(len(p.Items))}})
	}
	s.mu.Unlock()
	var r rpc.SessionsStreamResult
	err := c.call(ctx, rpc.MethodSessionsStream, rpc.SessionsStreamParams{Session: session, Credits: rpc.StreamWindow(4 * rpc.MaxGrabCount)}, &r)
	if err == nil && r.State != rpc.StateDone {
		err = fmt.Errorf("stream ended in state %s", r.State)
	}
	if err == nil && bad.Load() {
		err = errors.New("empty row")
	}
	return got.Load(), err
}

func (c *client) closeSession(ctx context.Context, session string) error {
	err := c.call(ctx, rpc.MethodSessionsClose, rpc.SessionsCloseParams{Session: session}, nil)
	c.mu.Lock()
	delete(c.sessions, session)
	c.mu.Unlock()
	return err
}
