package driver

import (
	"bytes"
	"context"
	"unicode/utf8"

	"github.com/chiphost/chiphost/runtime"
)

// TextParser is the built-in parser: one item per line, without the line
// terminator ("\n" or "\r\n"); invalid UTF-8 is replaced with U+FFFD. A last
// line without a newline is emitted when the input ends. A line longer than
// the driver's largest window (Options.MaxChunk, 10 MiB) is ended there by
// Finish, and the rest of it, up to its newline, is skipped; the driver cuts
// every row to Options.MaxRowBytes anyway.
//
// It keeps state between calls: use one per input.
type TextParser struct {
	items []runtime.Item
	msgs  []runtime.Message
	// inLine: Finish ended a line that goes on; skip to its newline.
	inLine bool
}

// Parse implements Parser.
func (t *TextParser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	t.items, t.msgs = t.items[:0], t.msgs[:0]
	off := 0
	if t.inLine {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.items = append(t.items, runtime.Item{Consumed: uint64(len(data))})
			return t.items, nil
		}
		t.items = append(t.items, runtime.Item{Consumed: uint64(i + 1)})
		t.inLine = false
		off = i + 1
	}
	for off < len(data) {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			break
		}
		t.add(data[off:off+i], uint64(i+1))
		off += i + 1
	}
	if len(t.items) == 0 {
		return nil, &runtime.Error{Kind: runtime.KindPluginError, Plugin: "text", Op: "parse", Code: "incomplete"}
	}
	return t.items, nil
}

// Restart implements Restarter: the next input starts with a line of its
// own.
func (t *TextParser) Restart() { t.inLine = false }

// Finish implements Finisher: data (without a newline) becomes a line. The
// driver calls it at the end of the input, and when a line is longer than
// its largest window; the next Parse then skips the rest of that line.
func (t *TextParser) Finish(ctx context.Context, data []byte) ([]runtime.Item, error) {
	t.items, t.msgs = t.items[:0], t.msgs[:0]
	if len(data) > 0 {
		t.add(data, uint64(len(data)))
		t.inLine = true
	}
	return t.items, nil
}

func (t *TextParser) add(line []byte, consumed uint64) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	var s string
	if utf8.Valid(line) {
		s = string(line)
	} else {
		s = string(bytes.ToValidUTF8(line, []byte("\uFFFD")))
	}
	// msgs never reallocates within a call once sized for the worst case,
	// so the pointers taken below stay valid.
	if cap(t.msgs) == len(t.msgs) {
		t.relink()
	}
	t.msgs = append(t.msgs, runtime.Message{Line: s})
	t.items = append(t.items, runtime.Item{Consumed: consumed, Message: &t.msgs[len(t.msgs)-1]})
}

// relink grows msgs and re-points the items already added at the new array.
func (t *TextParser) relink() {
	n := make([]runtime.Message, len(t.msgs), 2*cap(t.msgs)+64)
	copy(n, t.msgs)
	t.msgs = n
	m := 0
	for i := range t.items {
		if t.items[i].Message != nil { // the first item may skip the rest of a line
			t.items[i].Message = &t.msgs[m]
			m++
		}
	}
}
