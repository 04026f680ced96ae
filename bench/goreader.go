package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// goReader is the "Go reader" of the end-to-end figures: a spawned
// `chiphost serve` driven through go.lsp.dev/jsonrpc2 (the library the
// server and its tests are built on) with the rpc package's wire types.
// It decodes every row into protocol.Row, as a real client would.
type goReader struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	conn  jsonrpc2.Conn

	mu       sync.Mutex
	sessions map[string]*sessionState
	searches map[string]*searchState
}

// searchState is the last searches/updated of a search.
type searchState struct {
	mu      sync.Mutex
	last    protocol.SearchesUpdatedParams
	updated chan struct{} // signalled (non-blocking) on every update
}

// sessionState is what the reader learnt about a session from
// sessions/updated, plus the handler of the rows streamed to it.
type sessionState struct {
	mu       sync.Mutex
	state    string
	rows     uint64
	updated  chan struct{} // signalled (non-blocking) on every update
	onItems  func(p *protocol.SessionsItemsParams)
	onUpdate func(p *protocol.SessionsUpdatedParams) // called on the read loop
}

// v1Codec is encoding/json, as the server decodes with (jsonrpc2's default
// is encoding/json/v2).
type v1Codec struct{}

func (v1Codec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (v1Codec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// startServer spawns exe serve args... (header framing).
func startServer(ctx context.Context, exe string, args ...string) (*goReader, error) {
	return startServerWith(ctx, exe, nil, args...)
}

// startServerWith spawns exe serve args... with extra open files, the
// first of which is the child's descriptor 3 (for --input-fd 3).
func startServerWith(ctx context.Context, exe string, extra []*os.File, args ...string) (*goReader, error) {
	cmd := exec.CommandContext(ctx, exe, append([]string{"serve"}, args...)...)
	cmd.ExtraFiles = extra
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
	c := &goReader{cmd: cmd, stdin: stdin, sessions: map[string]*sessionState{}, searches: map[string]*searchState{}}
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewHeaderStream(stdio{stdout, stdin}), jsonrpc2.WithCodec(v1Codec{}))
	c.conn.Go(context.Background(), c.handle)
	return c, nil
}

// stdio joins the child's stdout and stdin into one stream.
type stdio struct {
	io.Reader
	io.WriteCloser
}

func (c *goReader) pid() int { return c.cmd.Process.Pid }

// close shuts the server down: stdin EOF, then a kill after 5 s.
func (c *goReader) close() error {
	c.stdin.Close()
	t := time.AfterFunc(5*time.Second, func() { c.cmd.Process.Kill() })
	defer t.Stop()
	err := c.cmd.Wait()
	c.conn.Close()
	return err
}

// handle receives the server's notifications (on the read loop: params
// are decoded before it returns).
func (c *goReader) handle(_ context.Context, req *jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case protocol.MethodSessionsUpdated:
		var p protocol.SessionsUpdatedParams
		if json.Unmarshal(req.Params(), &p) != nil {
			return nil, nil
		}
		s := c.session(p.Session)
		s.mu.Lock()
		s.state, s.rows = p.State, p.Rows
		f := s.onUpdate
		s.mu.Unlock()
		if f != nil {
			f(&p)
		}
		select {
		case s.updated <- struct{}{}:
		default:
		}
	case protocol.MethodSearchesUpdated:
		var p protocol.SearchesUpdatedParams
		if json.Unmarshal(req.Params(), &p) != nil {
			return nil, nil
		}
		s := c.search(p.Search)
		s.mu.Lock()
		s.last = p
		s.mu.Unlock()
		select {
		case s.updated <- struct{}{}:
		default:
		}
	case protocol.MethodSessionsItems:
		var p protocol.SessionsItemsParams
		if json.Unmarshal(req.Params(), &p) != nil {
			return nil, nil
		}
		s := c.session(p.Session)
		s.mu.Lock()
		f := s.onItems
		s.mu.Unlock()
		if f != nil {
			f(&p)
		}
	}
	return nil, nil
}

func (c *goReader) session(id string) *sessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[id]
	if s == nil {
		s = &sessionState{updated: make(chan struct{}, 1)}
		c.sessions[id] = s
	}
	return s
}

func (c *goReader) search(id string) *searchState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.searches[id]
	if s == nil {
		s = &searchState{updated: make(chan struct{}, 1)}
		c.searches[id] = s
	}
	return s
}

// call sends a request and decodes its result into out (when not nil).
func (c *goReader) call(ctx context.Context, method string, params, out any) error {
	if _, err := c.conn.Call(ctx, method, params, out); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// initialize runs the handshake and returns the plugins/list result.
func (c *goReader) initialize(ctx context.Context) (*protocol.PluginsListResult, error) {
	pid := os.Getpid()
	params := protocol.InitializeParams{ProcessID: &pid, ClientInfo: &protocol.ClientInfo{Name: "chiphost-bench"}}
	if err := c.call(ctx, protocol.MethodInitialize, params, &protocol.InitializeResult{}); err != nil {
		return nil, err
	}
	if err := c.conn.Notify(ctx, protocol.MethodInitialized, struct{}{}); err != nil {
		return nil, err
	}
	var list protocol.PluginsListResult
	if err := c.call(ctx, protocol.MethodPluginsList, struct{}{}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// open opens a session parsing file with the plugin id.
func (c *goReader) open(ctx context.Context, file, plugin string) (string, error) {
	return c.openWith(ctx, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: file}, Parser: protocol.ParserSpec{Plugin: plugin}}, nil)
}

// openWith opens a session; onUpdate, when not nil, sees each of its
// sessions/updated notifications on the read loop.
func (c *goReader) openWith(ctx context.Context, p protocol.SessionsOpenParams, onUpdate func(*protocol.SessionsUpdatedParams)) (string, error) {
	var r protocol.SessionsOpenResult
	err := c.call(ctx, protocol.MethodSessionsOpen, p, &r)
	if err == nil {
		s := c.session(r.Session)
		s.mu.Lock()
		s.onUpdate = onUpdate
		s.mu.Unlock()
	}
	return r.Session, err
}

func countRows(rows []protocol.Row) (n uint64) {
	for _, r := range rows {
		if r.Line != nil || len(r.Columns) > 0 || r.Attachment != nil {
			n++
		}
	}
	return n
}

// grabAll grabs rows in pages of 10000 until the session is done and every
// row was read. It returns the rows read.
func (c *goReader) grabAll(ctx context.Context, session string) (uint64, error) {
	s := c.session(session)
	var start uint64
	for {
		var r protocol.SessionsGrabResult
		if err := c.call(ctx, protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: session, Start: start, Count: protocol.MaxGrabCount}, &r); err != nil {
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
		case state == protocol.StateFailed || state == protocol.StateClosed:
			return start, fmt.Errorf("session %s", state)
		case state == protocol.StateDone && start >= rows:
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

// streamRows streams a session's rows to onRows (on the read loop, with
// the time the frame was decoded), granting as many credits as rows
// arrive, until the stream request is answered: the session is done,
// failed or closed. It returns the final state.
func (c *goReader) streamRows(ctx context.Context, session string, onRows func(rows []protocol.Row, at time.Time)) (string, error) {
	s := c.session(session)
	s.mu.Lock()
	s.onItems = func(p *protocol.SessionsItemsParams) {
		onRows(p.Items, time.Now())
		c.conn.Notify(ctx, protocol.MethodSessionsCredit, protocol.SessionsCreditParams{Session: session, Credits: protocol.Credits{Rows: uint64(len(p.Items))}})
	}
	s.mu.Unlock()
	var r protocol.SessionsStreamResult
	err := c.call(ctx, protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: session, Credits: protocol.StreamWindow(4 * protocol.MaxGrabCount)}, &r)
	return r.State, err
}

// streamAll streams every row, granting as many credits as rows arrive.
func (c *goReader) streamAll(ctx context.Context, session string) (uint64, error) {
	s := c.session(session)
	var got atomic.Uint64
	var bad atomic.Bool
	s.mu.Lock()
	s.onItems = func(p *protocol.SessionsItemsParams) {
		n := countRows(p.Items)
		if n != uint64(len(p.Items)) {
			bad.Store(true)
		}
		got.Add(n)
		c.conn.Notify(ctx, protocol.MethodSessionsCredit, protocol.SessionsCreditParams{Session: session, Credits: protocol.Credits{Rows: uint64(len(p.Items))}})
	}
	s.mu.Unlock()
	var r protocol.SessionsStreamResult
	err := c.call(ctx, protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: session, Credits: protocol.StreamWindow(4 * protocol.MaxGrabCount)}, &r)
	if err == nil && r.State != protocol.StateDone {
		err = fmt.Errorf("stream ended in state %s", r.State)
	}
	if err == nil && bad.Load() {
		err = errors.New("empty row")
	}
	return got.Load(), err
}

func (c *goReader) closeSession(ctx context.Context, session string) error {
	err := c.call(ctx, protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: session}, nil)
	c.mu.Lock()
	delete(c.sessions, session)
	c.mu.Unlock()
	return err
}
