package framing

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// Framing selects how messages are delimited on the byte stream.
type Framing string

// The two framings.
const (
	// Header is LSP's base protocol: "Content-Length: N\r\n\r\n" and N
	// bytes of JSON. The default.
	Header Framing = "header"
	// NDJSON is one compact JSON message per line (MCP's stdio framing).
	// Blank lines are ignored, so it can be typed in a terminal.
	NDJSON Framing = "ndjson"
)

// Options configure a Stream. Every field may be left zero.
type Options struct {
	// Framing of the byte stream (default Header).
	Framing Framing
	// Trace, when set, receives every frame read or written as a JSON
	// line (see the package documentation).
	Trace io.Writer
	// OnMalformed is told why a frame was malformed, for the log; the
	// frame has been answered with an error response already.
	OnMalformed func(msg string)
	// OnEOF is called on the reading goroutine when the input ends, before
	// the end is reported to the library (which writes nothing after it):
	// the last chance to write answers.
	OnEOF func()
	// OnWriteError is called when a write fails (the peer is gone).
	OnWriteError func(error)
	// OnResponse is told the id of each response frame the library is
	// about to write; returning false drops the frame (a response the
	// server has given already, see WriteAnswer).
	OnResponse func(jsonrpc2.ID) bool
}

// Frame limits.
const (
	// maxHeaderLine bounds one header line.
	maxHeaderLine = 8 << 10
)

// Stream is the jsonrpc2.Stream chiphost serves on. The library's own
// framers end the connection on the first malformed frame and allocate a
// declared Content-Length (up to 1 GiB) before reading it; this one answers
// malformed frames with an error response and reads on, caps incoming frames
// at protocol.MaxInFrame without allocating them, writes responses even when
// the request's context was cancelled (so -32800 replies go out), and traces
// every frame when asked to.
//
// It implements the library's frame interface (ReadFrame, WriteFrame), so
// batches keep working.
type Stream struct {
	framing    Framing
	r          *bufio.Reader
	w          io.Writer
	c          io.Closer
	trace      *tracer
	onBad      func(msg string)       // Options.OnMalformed
	onEOF      func()                 // Options.OnEOF
	onWrErr    func(error)            // Options.OnWriteError
	onResponse func(jsonrpc2.ID) bool // Options.OnResponse
	maxIn      int                    // largest frame accepted (protocol.MaxInFrame; smaller in fuzz tests)

	rbuf   []byte
	resync bool     // header framing: discard up to the next Content-Length first
	in     *inbound // message checks, batches and alias ids (inbound.go)

	wmu  sync.Mutex
	wbuf []byte

	closeOnce sync.Once
	readDone  chan struct{} // closed when reading stops (EOF or error)
}

// NewStream returns a stream that reads and writes messages on rwc.
func NewStream(rwc io.ReadWriteCloser, o Options) *Stream {
	if o.Framing == "" {
		o.Framing = Header
	}
	return &Stream{
		framing:    o.Framing,
		r:          bufio.NewReaderSize(rwc, 64<<10),
		w:          rwc,
		c:          rwc,
		trace:      newTracer(o.Trace),
		onBad:      o.OnMalformed,
		onEOF:      o.OnEOF,
		onWrErr:    o.OnWriteError,
		onResponse: o.OnResponse,
		maxIn:      protocol.MaxInFrame,
		in:         newInbound(),
		readDone:   make(chan struct{}),
	}
}

// ReadDone is closed when reading stops: the input ended or failed.
func (s *Stream) ReadDone() <-chan struct{} { return s.readDone }

// AliasOf returns the id under which the request with the client's id runs
// in the library, when it runs under another (a batch member, see
// inbound.go); $/cancelRequest must cancel both.
func (s *Stream) AliasOf(id jsonrpc2.ID) (jsonrpc2.ID, bool) { return s.in.aliasOf(id) }

// WriteAnswer writes a response the server gives itself, in place of the
// library (a request that did not answer in time): it is not reported to
// OnResponse, and the library's own response for that id is to be dropped
// there.
func (s *Stream) WriteAnswer(data []byte) (int64, error) { return s.writeFrame(data, false) }

// frameError is a malformed frame that was skipped; the stream can go on.
type frameError struct {
	code jsonrpc2.Code
	msg  string
}

func (e *frameError) Error() string { return e.msg }

// Read implements jsonrpc2.Stream (used only if the library bypasses
// ReadFrame).
func (s *Stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	body, n, err := s.ReadFrame(ctx)
	if err != nil {
		return nil, 0, err
	}
	msg, err := jsonrpc2.DecodeMessage(body)
	return msg, n, err
}

// ReadFrame returns the next well-formed message. Malformed frames and
// invalid requests are answered here and skipped; batches are split into
// their members (inbound.go).
func (s *Stream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	for {
		if m := s.in.pop(); m != nil {
			return m, int64(len(m)), nil
		}
		body, n, err := s.readRaw()
		var fe *frameError
		if errors.As(err, &fe) {
			s.reject(fe.code, fe.msg, nil)
			continue
		}
		if err != nil {
			s.endOfInput(err)
			return nil, 0, err
		}
		if m := s.accept(body); m != nil {
			return m, n, nil
		}
	}
}

// readRaw reads the next frame's body in the stream's framing.
func (s *Stream) readRaw() ([]byte, int64, error) {
	if s.framing == NDJSON {
		return s.readLine()
	}
	return s.readHeaderFrame()
}

// endOfInput reports that reading stopped with err: at the end of the
// input OnEOF runs first, while the library still writes.
func (s *Stream) endOfInput(err error) {
	if s.onEOF != nil && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
		s.onEOF()
	}
	s.closeOnce.Do(func() { close(s.readDone) })
}

// accept checks a frame's body and returns the message to hand to the
// library, or nil when there is none: a blank NDJSON line, invalid JSON
// (answered), a batch (split, see inbound.go) or an invalid request
// (answered).
func (s *Stream) accept(body []byte) []byte {
	if s.framing == NDJSON && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if !json.Valid(body) {
		s.reject(protocol.CodeParseError, "parse error: invalid JSON", body)
		s.resync = s.framing == Header // a miscounted length leaves the tail of the body
		return nil
	}
	if !utf8.Valid(body) {
		body = validUTF8(body)
	}
	s.trace.record("recv", body)
	if i := skipSpace(body); i < len(body) && body[i] == '[' {
		s.splitBatch(body)
		return nil
	}
	return s.checkMessage(body)
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// reject answers a malformed frame with a null-id error response.
func (s *Stream) reject(code jsonrpc2.Code, msg string, body []byte) {
	if body != nil {
		s.trace.recordInvalid("recv", body)
	}
	s.answerError(jsonrpc2.ID{}, code, msg)
}

// Write implements jsonrpc2.Stream.
func (s *Stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := jsonrpc2.EncodeMessage(msg)
	if err != nil {
		return 0, fmt.Errorf("encoding message: %w", err)
	}
	return s.WriteFrame(ctx, data)
}

// WriteFrame frames data and writes it with one Write. It deliberately
// ignores ctx: a response to a cancelled request must still be sent.
func (s *Stream) WriteFrame(_ context.Context, data []byte) (int64, error) {
	return s.writeFrame(data, true)
}

// writeFrame is WriteFrame; track says whether to report response ids to
// onResponse (the server's own forced answers are not reported). A
// response to an alias id gets the request's own id back, and joins its
// batch's response when it has one.
func (s *Stream) writeFrame(data []byte, track bool) (int64, error) {
	id, end, ok := responseID(data)
	if !ok {
		return s.emit(data)
	}
	if track && s.onResponse != nil && !s.onResponse(id) {
		return int64(len(data)), nil // already answered by the server
	}
	a, ok := s.in.resolve(id)
	if !ok {
		return s.emit(data)
	}
	data = a.withOwnID(data, end)
	if a.batch == nil {
		return s.emit(data)
	}
	if all := a.batch.add(data); all != nil {
		return s.emit(all)
	}
	return int64(len(data)), nil
}

// emit frames data and writes it with one Write.
func (s *Stream) emit(data []byte) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	buf := s.wbuf[:0]
	if s.framing == NDJSON {
		buf = append(buf, data...)
		buf = append(buf, '\n')
	} else {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(data)), 10)
		buf = append(buf, "\r\n\r\n"...)
		buf = append(buf, data...)
	}
	if cap(buf) <= 4*protocol.MaxOutFrame {
		s.wbuf = buf // keep the buffer unless a huge frame grew it
	}
	s.trace.record("send", data)
	n, err := s.w.Write(buf)
	if err != nil && s.onWrErr != nil {
		s.onWrErr(err)
	}
	return int64(n), err
}

// Close implements jsonrpc2.Stream.
func (s *Stream) Close() error { return s.c.Close() }
