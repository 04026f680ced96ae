package framing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// Fuzz targets for the two frame readers (header.go, ndjson.go). Each
// target feeds arbitrary bytes to a stream with a small frame cap and checks
// that:
//
//   - reading never panics and ends with EOF (malformed frames are answered
//     and skipped, never fatal);
//   - no frame returned, and no read buffer kept, is larger than the cap,
//     whatever Content-Length or line length the input declares;
//   - a valid frame written by the server's own writer reads back
//     byte-for-byte (in NDJSON also after arbitrary garbage lines).
//
// Seeds are the f.Add calls below plus testdata/fuzz/<Target>/.

// fuzzCap is the frame cap used while fuzzing: small, so inputs can cross it.
const fuzzCap = 4096

// memRWC is an in-memory ReadWriteCloser: reads come from r, writes (the
// error answers to malformed frames) go to w.
type memRWC struct {
	r io.Reader
	w bytes.Buffer
}

func (m *memRWC) Read(p []byte) (int, error)  { return m.r.Read(p) }
func (m *memRWC) Write(p []byte) (int, error) { return m.w.Write(p) }
func (m *memRWC) Close() error                { return nil }

func fuzzStream(framing Framing, input []byte) (*Stream, *memRWC) {
	rwc := &memRWC{r: bytes.NewReader(input)}
	st := NewStream(rwc, Options{Framing: framing})
	st.maxIn = fuzzCap
	return st, rwc
}

// readAll reads frames until the stream ends, checking the invariants, and
// returns copies of the frames read.
func readAll(t *testing.T, st *Stream, inputLen int) [][]byte {
	t.Helper()
	var frames [][]byte
	for i := 0; ; i++ {
		if i > inputLen+1 {
			t.Fatalf("more frames (%d) than input bytes (%d): the reader does not advance", i, inputLen)
		}
		body, n, err := st.ReadFrame(context.Background())
		if cap(st.rbuf) > fuzzCap {
			t.Fatalf("read buffer grew to %d bytes, over the %d-byte cap", cap(st.rbuf), fuzzCap)
		}
		if err != nil {
			if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read error %v: only EOF may end a stream", err)
			}
			return frames
		}
		if len(body) > fuzzCap || n < int64(len(body)) || !json.Valid(body) {
			t.Fatalf("frame of %d bytes (consumed %d, valid JSON %v), cap %d", len(body), n, json.Valid(body), fuzzCap)
		}
		frames = append(frames, bytes.Clone(body))
	}
}

// roundTrip writes a notification carrying payload with the server's writer
// after junk, and checks that the reader returns it unchanged.
func roundTrip(t *testing.T, framing Framing, junk, payload []byte) {
	t.Helper()
	params, _ := json.Marshal([]string{string(payload)})
	msg := []byte(`{"jsonrpc":"2.0","method":"x/fuzz","params":` + string(params) + `}`)
	if len(msg) > fuzzCap {
		return
	}
	var out bytes.Buffer
	w := NewStream(&memRWC{r: bytes.NewReader(nil)}, Options{Framing: framing})
	w.w = &out
	if _, err := w.WriteFrame(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	// NDJSON: junk lines first, ended by a newline; the message must
	// survive them. (In header framing a junk header could declare a body
	// that swallows the message, so there is no junk.)
	var in bytes.Buffer
	if len(junk) > 0 && framing == NDJSON {
		in.Write(junk)
		in.WriteString("\n")
	}
	in.Write(out.Bytes())
	st, _ := fuzzStream(framing, in.Bytes())
	frames := readAll(t, st, in.Len())
	if len(frames) == 0 || !bytes.Equal(frames[len(frames)-1], msg) {
		t.Fatalf("round trip: wrote %q, read %q", msg, frames)
	}
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

func FuzzHeaderFrames(f *testing.F) {
	addSeeds(f,
		frame("header", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`),
		frame("header", `{"jsonrpc":"2.0","method":"exit"}`)+frame("header", `[{"jsonrpc":"2.0","id":2,"method":"shutdown"}]`),
		"Content-Length: 5\r\n\r\n{\"a\":",
		"Content-Length 5\r\n\r\n",
		"Content-Length: abc\r\n\r\n",
		"Content-Length: -3\r\n\r\n",
		"Content-Type: x\r\n\r\n",
		fmt.Sprintf("Content-Length: %d\r\n\r\n{}", fuzzCap+1),
		"Content-Length: 99999999999999999999\r\n\r\n",
		"\r\n\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n{}x",
		"Content-Length: 2\n\n{}",
		"Content-Length: 2\r\n\r\n{}Content-Length: 1",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := fuzzStream(Header, data)
		readAll(t, st, len(data))
		roundTrip(t, Header, nil, data)
	})
}

func FuzzNDJSONFrames(f *testing.F) {
	addSeeds(f,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`+"\n",
		"\n\n  \r\n"+`{"jsonrpc":"2.0","method":"exit"}`,
		`{"jsonrpc":"2.0","id":1,`+"\n",
		`{"hello":"world"}`+"\n",
		`[{"jsonrpc":"2.0","id":2,"method":"shutdown"},3]`+"\n",
		string(bytes.Repeat([]byte("x"), fuzzCap+10))+"\n{}\n",
		"\xff\xfe\r\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := fuzzStream(NDJSON, data)
		readAll(t, st, len(data))
		roundTrip(t, NDJSON, data, data)
	})
}

// TestHeaderBodyGrowth checks that a Content-Length under the cap is not
// trusted for allocation: a header promising 60 MiB followed by 2 bytes and
// EOF allocates one step, and a real 3 MiB body still reads back whole.
func TestHeaderBodyGrowth(t *testing.T) {
	st, _ := fuzzStream(Header, []byte("Content-Length: 60000000\r\n\r\n{}"))
	st.maxIn = protocol.MaxInFrame
	if _, _, err := st.ReadFrame(context.Background()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated body: err %v, want unexpected EOF", err)
	}
	if cap(st.rbuf) > bodyStep {
		t.Errorf("a 60 MB promise with a 2-byte body allocated %d bytes (step %d)", cap(st.rbuf), bodyStep)
	}
	big, _ := json.Marshal([]string{string(bytes.Repeat([]byte("a"), 3<<20))})
	msg := `{"jsonrpc":"2.0","method":"x","params":` + string(big) + `}`
	st, _ = fuzzStream(Header, []byte(frame("header", msg)))
	st.maxIn = protocol.MaxInFrame
	body, _, err := st.ReadFrame(context.Background())
	if err != nil || string(body) != msg {
		t.Fatalf("3 MiB frame: err %v, %d bytes read of %d", err, len(body), len(msg))
	}
}

// TestResponseID checks the id parsing that tracks answers on the wire
// (Options.OnResponse) against frames encoded by the library itself.
func TestResponseID(t *testing.T) {
	cases := []struct {
		name string
		msg  jsonrpc2.Message
		want any // nil: not a response with an id
	}{
		{"number", jsonrpc2.NewResponse(jsonrpc2.NewNumberID(42), jsonrpc2.RawMessage(`{}`), nil), int64(42)},
		{"negative", jsonrpc2.NewResponse(jsonrpc2.NewNumberID(-7), nil, jsonrpc2.NewError(protocol.CodeRequestCancelled, "x")), int64(-7)},
		{"string with escapes", jsonrpc2.NewResponse(jsonrpc2.NewStringID(`a"b\c,"result":`), nil, nil), `a"b\c,"result":`},
		{"null id", jsonrpc2.NewResponse(jsonrpc2.ID{}, nil, jsonrpc2.NewError(protocol.CodeParseError, "x")), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := jsonrpc2.EncodeMessage(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			id, end, ok := responseID(data)
			if ok && !bytes.HasPrefix(data[end:], []byte(`,"`)) {
				t.Errorf("%s: the id ends at %d, before %q", data, end, data[end:])
			}
			switch want := tc.want.(type) {
			case nil:
				if ok {
					t.Errorf("%s: got id %v, want none", data, id)
				}
			case int64:
				if n, isNum := id.Number(); !ok || !isNum || n != want {
					t.Errorf("%s: got %v %v, want %d", data, id, ok, want)
				}
			case string:
				if s, isStr := id.StringValue(); !ok || !isStr || s != want {
					t.Errorf("%s: got %v %v, want %q", data, id, ok, want)
				}
			}
		})
	}
	if _, _, ok := responseID([]byte(`{"jsonrpc":"2.0","method":"sessions/updated","params":{"id":1}}`)); ok {
		t.Errorf("a notification was taken for a response")
	}
}

// Resynchronisation targets: the fuzzer's bytes become garbage of several
// kinds, each followed by a valid frame, and every valid frame must be read
// back, in order, with exactly the error responses the garbage deserves
// (one per malformed header frame; at most one per garbage line in NDJSON).
//
// Garbage never holds "Content-Length:" except where a kind builds a
// header itself: a stray well-formed header with a wrong length would
// swallow the next frame, and no reader can tell.

// resyncFrame is the i-th valid frame: a notification the garbage cannot
// imitate (its method is removed from garbage).
func resyncFrame(i int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"x/resync","params":[%d]}`, i)
}

// defuse removes what could make garbage a header or a valid frame:
// "Content-Length:" (its colon becomes '_') and the valid frames' method.
func defuse(junk []byte) []byte {
	junk = bytes.ReplaceAll(junk, []byte("x/resync"), []byte("x-resync"))
	for i := indexContentLength(junk, 0); i >= 0; i = indexContentLength(junk, i) {
		junk[i+len(contentLengthColon)-1] = '_'
	}
	return junk
}

// headerGarbage is one malformed header frame of the given kind built from
// junk, and the number of error responses it must get (-1: zero or one).
func headerGarbage(kind byte, junk []byte) ([]byte, int) {
	clean := defuse(bytes.Clone(junk))
	oneLine := strings.NewReplacer("\r", "", "\n", "").Replace // no line break
	switch kind % 7 {
	case 0: // raw junk: a stray header line, a partial line, binary bytes
		return clean, -1
	case 1: // over the cap: skipped by its declared length
		body := bytes.Repeat(append([]byte("x"), junk...), fuzzCap/(len(junk)+1)+2)[:fuzzCap+1+len(junk)%100]
		return append(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n", len(body)), body...), 1
	case 2: // a header block without Content-Length, then an unframed body
		return append([]byte("X-Junk: 1\r\n\r\n"), clean...), 1
	case 3: // a body sent without the blank line
		return append(fmt.Appendf(nil, "Content-Length: %d\r\n{", len(clean)+1), clean...), 1
	case 4: // Content-Length counted in characters, not bytes
		body := fmt.Sprintf(`{"jsonrpc":"2.0","method":"x/chars","params":["é%s"]}`, strings.Repeat("é", len(junk)%50))
		return fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", utf8.RuneCountInString(body), body), 1
	case 5: // an invalid Content-Length value, then an unframed body
		return append(fmt.Appendf(nil, "Content-Length: %sx\r\n\r\n", oneLine(string(clean))), clean...), 1
	default: // a well-framed body that is not JSON
		body := append([]byte("}"), junk...)
		return append(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n", len(body)), body...), 1
	}
}

// countingRWC is a memRWC that counts the frames written to it (the server
// writes each frame with one Write).
type countingRWC struct {
	memRWC
	writes int
}

func (c *countingRWC) Write(p []byte) (int, error) {
	c.writes++
	return c.memRWC.Write(p)
}

// readResync reads input and checks that frame i of the valid frames is
// read after exactly want[i] error responses since frame i-1 (-1: zero or
// one; -2: any number up to the garbage's line count, given in lines[i]).
func readResync(t *testing.T, framing Framing, input []byte, want, lines []int) {
	t.Helper()
	rwc := &countingRWC{memRWC: memRWC{r: bytes.NewReader(input)}}
	st := NewStream(rwc, Options{Framing: framing})
	st.maxIn = fuzzCap
	next, errsBefore := 0, 0
	for range len(input) + 2 {
		body, _, err := st.ReadFrame(context.Background())
		if err != nil {
			if next != len(want) {
				t.Fatalf("stream ended (%v) after %d of %d valid frames", err, next, len(want))
			}
			return
		}
		if !bytes.Contains(body, []byte("x/resync")) {
			if framing == Header {
				t.Fatalf("garbage read as a frame: %q", body)
			}
			continue // an NDJSON garbage line that is a message
		}
		if next >= len(want) || !bytes.Equal(body, resyncFrame(next)) {
			t.Fatalf("read %q, want valid frame %d", body, next)
		}
		errs := rwc.writes - errsBefore
		switch w := want[next]; {
		case w >= 0 && errs != w, w == -1 && errs > 1, w == -2 && errs > lines[next]:
			t.Fatalf("valid frame %d came after %d error responses, want %d (garbage lines %d)", next, errs, w, lines[next])
		}
		errsBefore = rwc.writes
		next++
	}
	t.Fatalf("the reader does not advance")
}

// splitJunk cuts junk into n pieces.
func splitJunk(junk []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = junk[i*len(junk)/n : (i+1)*len(junk)/n]
	}
	return out
}

func FuzzHeaderResync(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6}, []byte("garbage\r\nX: y\r\n\r\n{\"a\":1}\r\nContent-Length: 3\r\n\r\n"))
	f.Add([]byte{0}, []byte("Content-Type: x\r\n"))
	f.Add([]byte{0, 0}, []byte("  \r\n\r\n\xff\xfe"))
	f.Add([]byte{3, 6}, []byte("Content-Length: 9\r\n\r\n"))
	f.Fuzz(func(t *testing.T, kinds, junk []byte) {
		kinds = kinds[:min(len(kinds), 8)]
		var input []byte
		want := make([]int, len(kinds))
		for i, part := range splitJunk(junk, len(kinds)) {
			g, n := headerGarbage(kinds[i], part)
			input = append(input, g...)
			input = fmt.Appendf(input, "Content-Length: %d\r\n\r\n%s", len(resyncFrame(i)), resyncFrame(i))
			want[i] = n
		}
		readResync(t, Header, input, want, make([]int, len(kinds)))
	})
}

func FuzzNDJSONResync(f *testing.F) {
	f.Add([]byte{0, 1, 0}, []byte("garbage\n{\"a\":\n\xff\xfe\n[1,2]\n"))
	f.Add([]byte{1}, []byte("x"))
	f.Fuzz(func(t *testing.T, kinds, junk []byte) {
		kinds = kinds[:min(len(kinds), 8)]
		var input []byte
		want := make([]int, len(kinds))
		lines := make([]int, len(kinds))
		for i, part := range splitJunk(junk, len(kinds)) {
			g := append(defuse(bytes.Clone(part)), '\n')
			want[i] = -2
			if kinds[i]%2 == 1 { // an over-long line
				g = append(bytes.Repeat([]byte("y"), fuzzCap+1), g...)
				want[i] = 1
				if bytes.Count(g, []byte("\n")) > 1 {
					want[i] = -2
				}
			}
			lines[i] = bytes.Count(g, []byte("\n"))
			input = append(input, g...)
			input = append(append(input, resyncFrame(i)...), '\n')
		}
		readResync(t, NDJSON, input, want, lines)
	})
}

// frame frames body as a client would.
func frame(framing, body string) string {
	if framing == "ndjson" {
		return body + "\n"
	}
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}
