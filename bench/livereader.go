package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// rowFunc is told about every row a reader receives: the number of the
// line it came from (noSeq when the row carries none) and when it arrived.
// A reader calls it from one goroutine.
type rowFunc func(seq uint64, at time.Time)

// noSeq marks a row without a line number.
const noSeq = ^uint64(0)

// liveInput is the input a live reader follows: a pipe, or a regular file
// that grows. The writer writes to W.
type liveInput struct {
	Pipe bool
	Path string   // the file (not a pipe)
	W    *os.File // the pipe's write end, or the file opened for appending
	r    *os.File // the pipe's read end, handed to chiphost
}

// newLiveInput makes an empty pipe or file in dir.
func newLiveInput(dir string, pipe bool) (*liveInput, error) {
	if pipe {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		return &liveInput{Pipe: true, W: w, r: r}, nil
	}
	f, err := os.CreateTemp(dir, "live-*.log")
	if err != nil {
		return nil, err
	}
	return &liveInput{Path: f.Name(), W: f}, nil
}

// handedOver closes the parent's copy of the pipe's read end once the
// child has it.
func (in *liveInput) handedOver() {
	if in.r != nil {
		in.r.Close()
		in.r = nil
	}
}

// remove closes what is still open and removes the file.
func (in *liveInput) remove() {
	in.handedOver()
	in.W.Close()
	if in.Path != "" {
		os.Remove(in.Path)
	}
}

// liveReader is chiphost following a live input, with the rows it
// produces going to a rowFunc.
type liveReader struct {
	// Pid is the chiphost process (CLI or server).
	Pid int
	// finish ends the input (closes the pipe, or stops following: SIGINT
	// for the CLI, sessions/close for the server) and waits until the
	// reader has seen the last row and chiphost has exited.
	finish func(ctx context.Context) error
}

// liveParser names the parser of a live figure.
type liveParser struct {
	Name string // "text" or "string_parser"
	Wasm string // the plugin; "" for the built-in text parser
}

// startCLI runs chiphost parse on in (stdin for a pipe, --follow for a
// file) and hands each line of its stdout to onRow.
func (b *bencher) startCLI(ctx context.Context, in *liveInput, p liveParser, onRow rowFunc) (*liveReader, error) {
	parser := "text"
	if p.Wasm != "" {
		parser = p.Wasm
	}
	args := []string{"parse", "--parser", parser, "--no-default-plugins", "--cache-dir", b.CacheDir, "--log-level", "error"}
	if in.Pipe {
		args = append(args, "-")
	} else {
		args = append(args, "--follow", in.Path)
	}
	cmd := exec.CommandContext(ctx, b.cfg.Exe, args...)
	if in.Pipe {
		cmd.Stdin = in.r
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // not a terminal: no progress line
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	in.handedOver()
	read := make(chan error, 1)
	go func() { read <- readRows(stdout, onRow) }()
	finish := func(ctx context.Context) error {
		if err := endInput(in, func() error { return cmd.Process.Signal(os.Interrupt) }); err != nil {
			return err
		}
		rerr := <-read
		werr := cmd.Wait()
		if werr != nil {
			return fmt.Errorf("chiphost parse: %v: %s", werr, lastLines(stderr.Bytes(), 3))
		}
		return rerr
	}
	return &liveReader{Pid: cmd.Process.Pid, finish: finish}, nil
}

// endInput closes the writer's end; for a followed file, stop also tells
// chiphost to stop following.
func endInput(in *liveInput, stop func() error) error {
	err := in.W.Close()
	if in.Pipe {
		return err
	}
	return stop()
}

// readRows hands each line of r to onRow until r ends.
func readRows(r io.Reader, onRow rowFunc) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			at := time.Now()
			seq, ok := parseSeq(line)
			if !ok {
				seq = noSeq
			}
			onRow(seq, at)
			if err == bufio.ErrBufferFull { // a row longer than the buffer: skip its rest
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// rowSeq finds the line number in a row sent by the server.
func rowSeq(r *protocol.Row) uint64 {
	if r.Line != nil {
		if v, ok := parseSeq(*r.Line); ok {
			return v
		}
	}
	for _, c := range r.Columns {
		if v, ok := parseSeq(c); ok {
			return v
		}
	}
	return noSeq
}

// serverOpts say how a live figure reads through chiphost serve.
type serverOpts struct {
	// Grab reads rows with sessions/grab when sessions/updated announces
	// them, instead of sessions/stream.
	Grab bool
	// OnUpdate, when set, sees every sessions/updated of the session.
	OnUpdate func(*protocol.SessionsUpdatedParams)
}

// startServerReader runs chiphost serve, opens a session on in (a pipe
// passed with --input-fd, or a followed file) and hands the rows the Go
// reader receives to onRow.
func (b *bencher) startServerReader(ctx context.Context, in *liveInput, p liveParser, o serverOpts, onRow rowFunc) (*liveReader, error) {
	dir := b.TempDir()
	root := filepath.Join(dir, "root-live")
	if err := makeRoot(root, map[string]string{"string_parser": b.cfg.fixture(fxString)}); err != nil {
		return nil, err
	}
	var extra []*os.File
	var args []string
	if in.Pipe {
		extra, args = []*os.File{in.r}, []string{"--input-fd", "3"}
	}
	srv, id, err := b.serverWith(ctx, root, "string_parser", extra, args...)
	if err != nil {
		return nil, err
	}
	in.handedOver()
	params := protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: in.Path, Follow: !in.Pipe, Stdin: in.Pipe}, Parser: protocol.ParserSpec{Builtin: "text"}}
	if p.Wasm != "" {
		params.Parser = protocol.ParserSpec{Plugin: id}
	}
	sess, err := srv.openWith(ctx, params, o.OnUpdate)
	if err != nil {
		srv.close()
		return nil, err
	}
	read := make(chan error, 1)
	if o.Grab {
		go func() { read <- srv.grabLive(ctx, sess, onRow) }()
	} else {
		go func() {
			state, err := srv.streamRows(ctx, sess, func(rows []protocol.Row, at time.Time) {
				for i := range rows {
					onRow(rowSeq(&rows[i]), at)
				}
			})
			if err == nil && state != protocol.StateDone && state != protocol.StateClosed {
				err = fmt.Errorf("stream ended in state %s", state)
			}
			read <- err
		}()
	}
	finish := func(ctx context.Context) error {
		err := endInput(in, func() error { return srv.closeSession(ctx, sess) })
		if rerr := <-read; err == nil {
			err = rerr
		}
		if cerr := srv.close(); err == nil && cerr != nil {
			err = fmt.Errorf("chiphost serve: %w", cerr)
		}
		return err
	}
	return &liveReader{Pid: srv.pid(), finish: finish}, nil
}

// grabLive grabs a session's new rows each time sessions/updated announces
// them, until the session has ended and every row was read.
func (c *goReader) grabLive(ctx context.Context, session string, onRow rowFunc) error {
	s := c.session(session)
	var got uint64
	for {
		s.mu.Lock()
		state, rows := s.state, s.rows
		s.mu.Unlock()
		if rows > got {
			var r protocol.SessionsGrabResult
			if err := c.call(ctx, protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: session, Start: got, Count: min(rows-got, protocol.MaxGrabCount)}, &r); err != nil {
				if state == protocol.StateClosed {
					return nil
				}
				return err
			}
			at := time.Now()
			for i := range r.Items {
				onRow(rowSeq(&r.Items[i]), at)
			}
			got += uint64(len(r.Items))
			continue
		}
		switch state {
		case protocol.StateDone, protocol.StateClosed:
			return nil
		case protocol.StateFailed:
			return fmt.Errorf("session %s", state)
		}
		select {
		case <-s.updated:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
