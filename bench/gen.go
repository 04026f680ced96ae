package bench

import (
	"bytes"
	"io"
	"strings"

	"github.com/chiphost/chiphost/internal/loggen"
)

// GenLog makes a deterministic log of about size bytes (internal/loggen,
// the generator the runtime tests use too).
func GenLog(size int) []byte { return loggen.Log(size, false) }

// GenRecords makes go_records input of about size bytes: "line|text" and
// (every third line) "cols|a,b,c" records with the same text as GenLog.
func GenRecords(size int) []byte {
	src := GenLog(size * 9 / 10)
	var b bytes.Buffer
	b.Grow(size + 256)
	for i, line := range strings.Split(strings.TrimSuffix(string(src), "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i%3 == 2 {
			b.WriteString("cols|")
			b.WriteString(strings.Join(strings.Fields(line), ","))
		} else {
			b.WriteString("line|")
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// repeatReader yields block over and over until n bytes were read; block
// holds whole lines, so every read boundary that matters is a line end.
type repeatReader struct {
	block []byte
	off   int
	left  int64
}

func newRepeatReader(block []byte, n int64) *repeatReader {
	return &repeatReader{block: block, left: n}
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.block[r.off:])
	r.off += n
	if r.off == len(r.block) {
		r.off = 0
	}
	r.left -= int64(n)
	return n, nil
}
