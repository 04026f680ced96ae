package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/internal/quote"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// contentLengthColon is the header the header reader resynchronises on after
// a malformed frame, in lower case with its colon.
const contentLengthColon = "content-length:"

// errLongLine reports a header line longer than maxHeaderLine.
var errLongLine = errors.New("header line too long")

// jsonLineHint answers a JSON message found where a header block starts:
// a client (or a person at a terminal) that speaks line-based JSON to the
// header framing.
const jsonLineHint = "parse error: this looks like a JSON message without a Content-Length header; start chiphost with --framing ndjson for line-based JSON"

// readHeaderFrame reads one Content-Length frame.
//
// Resynchronisation: a malformed frame sets s.resync, and the next call
// first discards input up to the next "Content-Length:" (any case, even in
// the middle of a line), so one bad frame costs one error response and the
// frames after it are read. Bytes glued before a Content-Length header
// ("junk" + header, or a body sent without its blank line) are taken as a
// malformed frame at once. A frame over the size cap is skipped exactly by
// its declared length, without holding it. A malformed frame that starts
// with a JSON object or array where a header block starts is answered with
// jsonLineHint, which says how to send line-based JSON.
func (s *Stream) readHeaderFrame() ([]byte, int64, error) {
	if s.resync {
		s.resync = false
		if err := s.seekHeader(); err != nil {
			return nil, 0, err
		}
	}
	length, consumed, err := s.readHeaders()
	if err != nil {
		return nil, 0, err
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

// readHeaders reads a header block up to its blank line and returns its
// Content-Length (the last one counts) and the bytes it took.
func (s *Stream) readHeaders() (length, consumed int64, err error) {
	length = -1
	headers := 0
	for {
		line, ok, err := s.nextHeaderLine(headers == 0)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			continue
		}
		consumed += int64(len(line))
		t := bytes.TrimRight(line, "\r\n")
		if len(t) == 0 {
			if headers == 0 {
				continue // stray blank line between frames
			}
			break
		}
		headers++
		n, isLength, err := s.parseHeader(t)
		if err != nil {
			return 0, 0, err
		}
		if isLength {
			length = n
		}
	}
	if length < 0 {
		return 0, 0, s.broken(protocol.CodeParseError, "parse error: header without Content-Length")
	}
	return length, consumed, nil
}

// nextHeaderLine consumes and returns the next line of a header block,
// '\n' included; first says whether the block starts there. It returns ok
// false for input it dropped without a line (indentation before a
// Content-Length header), and an error for the end of the input and for a
// malformed frame: junk before a header, a line over maxHeaderLine, a JSON
// message where a block starts.
func (s *Stream) nextHeaderLine(first bool) (line []byte, ok bool, err error) {
	line, err = s.peekLine()
	if errors.Is(err, errLongLine) {
		s.discard(len(line))
		msg := fmt.Sprintf("parse error: header line longer than %d bytes", maxHeaderLine)
		if first && looksLikeJSON(line) {
			msg = jsonLineHint
		}
		return nil, false, s.broken(protocol.CodeParseError, msg)
	}
	if err != nil {
		s.discard(len(line))
		if err == io.EOF && (!first || len(line) > 0) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	if i := indexContentLength(line, 1); i > 0 {
		junk := line[:i]
		s.discard(i)
		if len(bytes.Trim(junk, " \t")) > 0 {
			return nil, false, s.broken(protocol.CodeParseError, "parse error: "+quote.Value(string(junk))+" before a Content-Length header is not a header line")
		}
		return nil, false, nil // indentation before the header: tolerated
	}
	s.discard(len(line))
	if first && looksLikeJSON(line) {
		return nil, false, s.broken(protocol.CodeParseError, jsonLineHint)
	}
	return line, true, nil
}

// looksLikeJSON reports whether line starts (after blanks) a JSON object or
// array.
func looksLikeJSON(line []byte) bool {
	i := skipSpace(line)
	return i < len(line) && (line[i] == '{' || line[i] == '[')
}

// parseHeader reads one header line t (without its line end): a
// Content-Length gives its value and isLength; other headers are ignored.
func (s *Stream) parseHeader(t []byte) (n int64, isLength bool, err error) {
	name, value, ok := bytes.Cut(t, []byte(":"))
	if !ok || !isToken(name) {
		return 0, false, s.broken(protocol.CodeParseError, "parse error: invalid header line "+quote.Value(string(t)))
	}
	if !asciiEqualFold(name, contentLengthColon[:len(contentLengthColon)-1]) {
		return 0, false, nil
	}
	v := bytes.TrimSpace(value)
	n, err = strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false, s.broken(protocol.CodeParseError, "parse error: invalid Content-Length "+quote.Value(string(v)))
	}
	return n, true, nil
}

// broken reports a malformed header frame and makes the next read
// resynchronise.
func (s *Stream) broken(code jsonrpc2.Code, msg string) error {
	s.resync = true
	return &frameError{code, msg}
}

// discard drops n buffered bytes (n never exceeds what was peeked).
func (s *Stream) discard(n int) { _, _ = s.r.Discard(n) }

// peekLine returns the next line, '\n' included, without consuming it. It
// returns errLongLine and the first maxHeaderLine bytes when no newline comes
// within them, and the bytes left with the error at the end of the input.
func (s *Stream) peekLine() ([]byte, error) {
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
func (s *Stream) seekHeader() error {
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
func (s *Stream) readBody(length int) ([]byte, error) {
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
