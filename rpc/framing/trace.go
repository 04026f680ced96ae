package framing

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/chiphost/chiphost/internal/jsonstr"
	"github.com/chiphost/chiphost/rpc/protocol"
)

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
	t.write(dir, "invalid", func(b []byte) []byte { return jsonstr.Append(b, string(frame)) })
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
