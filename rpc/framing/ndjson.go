package framing

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// skipLine discards input up to and including the next newline.
func (s *Stream) skipLine() error {
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
func (s *Stream) readLine() ([]byte, int64, error) {
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
