package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// Framing selects how messages are delimited on the byte stream.
type Framing string

// The two framings.
const (
	// FramingHeader is LSP's base protocol: "Content-Length: N\r\n\r\n" and
	// N bytes of JSON. The default.
	FramingHeader Framing = "header"
	// FramingNDJSON is one compact JSON message per line (MCP's stdio
	// framing). Blank lines are ignored, so it can be typed in a terminal.
	FramingNDJSON Framing = "ndjson"
)

// Frame limits.
const (
	// maxHeaderLine bounds one header line.
	maxHeaderLine = 8 << 10
)

// stream is the jsonrpc2.Stream chiphost serves on. The library's own
// framers end the connection on the first malformed frame and allocate a
// declared Content-Length (up to 1 GiB) before reading it; this one answers
// malformed frames with an error response and reads on, caps incoming frames
// at MaxInFrame without allocating them, writes responses even when the
// request's context was cancelled (so -32800 replies go out), and traces
// every frame when asked to.
//
// It implements the library's frame interface (ReadFrame, WriteFrame), so
// batches keep working.
type stream struct {
	framing Framing
	r       *bufio.Reader
	w       io.Writer
	c       io.Closer
	trace   *tracer
	onBad   func(msg string) // logs a malformed frame
	onEOF   func()           // called on the read goroutine before EOF is reported
	onWrErr func(error)      // called when a write fails (the client is gone)
	maxIn   int              // largest frame accepted (MaxInFrame; smaller in fuzz tests)
	// onResponse, when set, is told the id of each response frame about to
	// be written; returning false drops the frame (answers.go).
	onResponse func(jsonrpc2.ID) bool

	rbuf   []byte
	resync bool     // header framing: discard up to the next Content-Length first
	in     *inbound // message checks, batches and alias ids (inbound.go)

	wmu  sync.Mutex
	wbuf []byte

	closeOnce sync.Once
	readDone  chan struct{} // closed when reading stops (EOF or error)
}

func newStream(rwc io.ReadWriteCloser, framing Framing, trace *tracer, onBad func(string)) *stream {
	if framing == "" {
		framing = FramingHeader
	}
	return &stream{
		framing:  framing,
		r:        bufio.NewReaderSize(rwc, 64<<10),
		w:        rwc,
		c:        rwc,
		trace:    trace,
		onBad:    onBad,
		maxIn:    protocol.MaxInFrame,
		in:       newInbound(),
		readDone: make(chan struct{}),
	}
}

// frameError is a malformed frame that was skipped; the stream can go on.
type frameError struct {
	code jsonrpc2.Code
	msg  string
}

func (e *frameError) Error() string { return e.msg }

// Read implements jsonrpc2.Stream (used only if the library bypasses
// ReadFrame).
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
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
func (s *stream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	for {
		if m := s.in.pop(); m != nil {
			return m, int64(len(m)), nil
		}
		var (
			body []byte
			n    int64
			err  error
		)
		if s.framing == FramingNDJSON {
			body, n, err = s.readLine()
		} else {
			body, n, err = s.readHeaderFrame()
		}
		var fe *frameError
		if errors.As(err, &fe) {
			s.reject(fe.code, fe.msg, nil)
			continue
		}
		if err != nil {
			if s.onEOF != nil && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				s.onEOF()
			}
			s.closeOnce.Do(func() { close(s.readDone) })
			return nil, 0, err
		}
		if s.framing == FramingNDJSON && len(bytes.TrimSpace(body)) == 0 {
			continue
		}
		if !json.Valid(body) {
			s.reject(protocol.CodeParseError, "parse error: invalid JSON", body)
			s.resync = s.framing == FramingHeader // a miscounted length leaves the tail of the body
			continue
		}
		if !utf8.Valid(body) {
			body = validUTF8(body)
		}
		s.trace.record("recv", body)
		if i := skipSpace(body); i < len(body) && body[i] == '[' {
			s.splitBatch(body)
			continue
		}
		if m := s.checkMessage(body); m != nil {
			return m, n, nil
		}
	}
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// reject answers a malformed frame with a null-id error response.
func (s *stream) reject(code jsonrpc2.Code, msg string, body []byte) {
	if body != nil {
		s.trace.recordInvalid("recv", body)
	}
	s.answerError(jsonrpc2.ID{}, code, msg)
}

// contentLengthColon is the header the header reader resynchronises on after
// a malformed frame, in lower case with its colon.
const contentLengthColon = "content-length:"

// errLongLine reports a header line longer than maxHeaderLine.
var errLongLine = errors.New("header line too long")

// readHeaderFrame reads one Content-Length frame.
//
// Resynchronisation: a malformed frame sets s.resync, and the next call
// first discards input up to the next "Content-Length:" (any case, even in
// the middle of a line), so one bad frame costs one error response and the
// frames after it are read. Bytes glued before a Content-Length header
// ("junk" + header, or a body sent without its blank line) are taken as a
// malformed frame at once. A frame over the size cap is skipped exactly by
// its declared length, without holding it.
func (s *stream) readHeaderFrame() ([]byte, int64, error) {
	if s.resync {
		s.resync = false
		if err := s.seekHeader(); err != nil {
			return nil, 0, err
		}
	}
	length := int64(-1)
	var consumed int64
	headers := 0
	for {
		line, err := s.peekLine()
		if errors.Is(err, errLongLine) {
			s.discard(len(line))
			return nil, 0, s.broken(protocol.CodeParseError, fmt.Sprintf("parse error: header line longer than %d bytes", maxHeaderLine))
		}
		if err != nil {
			s.discard(len(line))
			if err == io.EOF && (headers > 0 || len(line) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, err
		}
		if i := indexContentLength(line, 1); i > 0 {
			junk := line[:i]
			s.discard(i)
			if len(bytes.Trim(junk, " \t")) > 0 {
				return nil, 0, s.broken(protocol.CodeParseError, "parse error: "+echo(string(junk))+" before a Content-Length header is not a header line")
			}
			continue // indentation before the header: tolerated
		}
		s.discard(len(line))
		consumed += int64(len(line))
		t := bytes.TrimRight(line, "\r\n")
		if len(t) == 0 {
			if headers == 0 {
				continue // stray blank line between frames
			}
			break
		}
		headers++
		name, value, ok := bytes.Cut(t, []byte(":"))
		if !ok || !isToken(name) {
			return nil, 0, s.broken(protocol.CodeParseError, "parse error: invalid header line "+echo(string(t)))
		}
		if asciiEqualFold(name, contentLengthColon[:len(contentLengthColon)-1]) {
			v := bytes.TrimSpace(value)
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || n < 0 {
				return nil, 0, s.broken(protocol.CodeParseError, "parse error: invalid Content-Length "+echo(string(v)))
			}
			length = n // the last one counts
		}
	}
	if length < 0 {
		return nil, 0, s.broken(protocol.CodeParseError, "parse error: header without Content-Length")
	}
	if length > int64(s.maxIn) {
		// Skip the body without holding it.
		if _, err := io.CopyN(io.Discard, s.r, length); err != nil {
			return nil, 0, io.ErrUnexpectedEOF
		}
		return nil, 0, s.broken(protocol.CodeInvalidRequest, fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", length, s.maxIn))
	}
	body, err := s.readBody(int(length))
	if err != nil {
		return nil, 0, err
	}
	return body, consumed + length, nil
}

// broken reports a malformed header frame and makes the next read
// resynchronise.
func (s *stream) broken(code jsonrpc2.Code, msg string) error {
	s.resync = true
	return &frameError{code, msg}
}

// discard drops n buffered bytes (n never exceeds what was peeked).
func (s *stream) discard(n int) { _, _ = s.r.Discard(n) }

// peekLine returns the next line, '\n' included, without consuming it. It
// returns errLongLine and the first maxHeaderLine bytes when no newline comes
// within them, and the bytes left with the error at the end of the input.
func (s *stream) peekLine() ([]byte, error) {
	scanned := 0
	for {
		buf, _ := s.r.Peek(s.r.Buffered())
		if i := bytes.IndexByte(buf[scanned:min(len(buf), maxHeaderLine)], '\n'); i >= 0 {
			return buf[:scanned+i+1], nil
		}
		if len(buf) >= maxHeaderLine {
			return buf[:maxHeaderLine], errLongLine
		}
		scanned = len(buf)
		if _, err := s.r.Peek(len(buf) + 1); err != nil {
			buf, _ = s.r.Peek(s.r.Buffered())
			return buf, err
		}
	}
}

// seekHeader discards input up to the next "Content-Length:" (any case).
func (s *stream) seekHeader() error {
	for {
		if _, err := s.r.Peek(len(contentLengthColon)); err != nil {
			s.discard(s.r.Buffered()) // too short to hold a header
			return err
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		if i := indexContentLength(buf, 0); i >= 0 {
			s.discard(i)
			return nil
		}
		// Keep a tail that may be the start of the header.
		s.discard(len(buf) - len(contentLengthColon) + 1)
	}
}

// indexContentLength returns the index of the first "Content-Length:" (any
// case) in b at or after from, or -1.
func indexContentLength(b []byte, from int) int {
	const n = len(contentLengthColon)
	for i := from; i+n <= len(b); i++ {
		if b[i]|0x20 == 'c' && asciiEqualFold(b[i:i+n], contentLengthColon) {
			return i
		}
	}
	return -1
}

// asciiEqualFold reports whether b equals lower (lower-case ASCII) ignoring
// ASCII case.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// isToken reports whether b is an HTTP header name (RFC 9110 token).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// bodyStep is how much of a large declared body is read before the buffer
// grows again: memory follows the bytes that arrive, not the declared
// Content-Length.
const bodyStep = 1 << 20

// readBody reads a body of the given length (at most s.maxIn) into s.rbuf.
// A body larger than bodyStep is read in steps, the buffer at most doubling
// each time, so a header that promises 64 MiB and sends nothing costs
// bodyStep bytes, not 64 MiB.
func (s *stream) readBody(length int) ([]byte, error) {
	if cap(s.rbuf) > 4*protocol.MaxOutFrame && length < protocol.MaxOutFrame {
		s.rbuf = nil // shrink after a huge frame
	}
	if cap(s.rbuf) >= length || length <= bodyStep {
		if cap(s.rbuf) < length {
			s.rbuf = make([]byte, length)
		}
		body := s.rbuf[:length]
		if _, err := io.ReadFull(s.r, body); err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		return body, nil
	}
	body := s.rbuf[:0]
	for len(body) < length {
		if len(body) == cap(body) {
			nb := make([]byte, len(body), min(length, max(2*cap(body), bodyStep)))
			copy(nb, body)
			body = nb
		}
		n, err := io.ReadFull(s.r, body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil {
			s.rbuf = body[:0]
			return nil, io.ErrUnexpectedEOF
		}
	}
	s.rbuf = body
	return body, nil
}

// skipLine discards input up to and including the next newline.
func (s *stream) skipLine() error {
	for {
		_, err := s.r.ReadSlice('\n')
		if err == nil {
			return nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// readLine reads one NDJSON frame.
func (s *stream) readLine() ([]byte, int64, error) {
	if cap(s.rbuf) > 4*protocol.MaxOutFrame {
		s.rbuf = nil // shrink after a huge line
	}
	s.rbuf = s.rbuf[:0]
	var n int64
	for {
		chunk, err := s.r.ReadSlice('\n')
		n += int64(len(chunk))
		if len(s.rbuf)+len(chunk) > s.maxIn {
			if errors.Is(err, bufio.ErrBufferFull) {
				if err := s.skipLine(); err != nil {
					return nil, 0, err
				}
			}
			s.rbuf = nil
			return nil, 0, &frameError{protocol.CodeInvalidRequest, fmt.Sprintf("line exceeds the %d-byte limit", s.maxIn)}
		}
		if need := len(s.rbuf) + len(chunk); need > cap(s.rbuf) {
			// Grow by doubling, but never past the frame cap (append's own
			// growth could overshoot it).
			nb := make([]byte, len(s.rbuf), min(s.maxIn, max(need, 2*cap(s.rbuf), 4096)))
			copy(nb, s.rbuf)
			s.rbuf = nb
		}
		s.rbuf = append(s.rbuf, chunk...)
		if err == nil {
			body := bytes.TrimRight(s.rbuf, "\r\n")
			return body, n, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(bytes.TrimSpace(s.rbuf)) > 0 {
			return bytes.TrimSpace(s.rbuf), n, nil // last line without a newline
		}
		return nil, 0, err
	}
}

// Write implements jsonrpc2.Stream.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := jsonrpc2.EncodeMessage(msg)
	if err != nil {
		return 0, fmt.Errorf("encoding message: %w", err)
	}
	return s.WriteFrame(ctx, data)
}

// WriteFrame frames data and writes it with one Write. It deliberately
// ignores ctx: a response to a cancelled request must still be sent.
func (s *stream) WriteFrame(_ context.Context, data []byte) (int64, error) {
	return s.writeFrame(data, true)
}

// writeFrame is WriteFrame; track says whether to report response ids to
// onResponse (the server's own forced answers are not reported). A
// response to an alias id gets the request's own id back, and joins its
// batch's response when it has one.
func (s *stream) writeFrame(data []byte, track bool) (int64, error) {
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
func (s *stream) emit(data []byte) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	buf := s.wbuf[:0]
	if s.framing == FramingNDJSON {
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
func (s *stream) Close() error { return s.c.Close() }

// tracer writes every frame to a trace file as one JSON line:
// {"time":"…","dir":"recv"|"send","msg":{…}} (or "invalid":"…" for a frame
// that was not JSON). A nil *tracer records nothing.
type tracer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func newTracer(w io.Writer) *tracer {
	if w == nil {
		return nil
	}
	return &tracer{w: w}
}

func (t *tracer) record(dir string, msg []byte) {
	if bytes.IndexByte(msg, '\n') >= 0 {
		var c bytes.Buffer
		if json.Compact(&c, msg) == nil {
			msg = c.Bytes()
		}
	}
	t.write(dir, "msg", func(b []byte) []byte { return append(b, msg...) })
}

func (t *tracer) recordInvalid(dir string, frame []byte) {
	t.write(dir, "invalid", func(b []byte) []byte { return appendString(b, string(frame)) })
}

// write appends one trace line {"time","dir",key:value} with the value
// produced by appendValue.
func (t *tracer) write(dir, key string, appendValue func([]byte) []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf[:0]
	b = append(b, `{"time":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","dir":"`...)
	b = append(b, dir...)
	b = append(b, `","`...)
	b = append(b, key...)
	b = append(b, `":`...)
	b = appendValue(b)
	b = append(b, "}\n"...)
	_, _ = t.w.Write(b)
	if cap(b) <= 4*protocol.MaxOutFrame {
		t.buf = b
	}
}
