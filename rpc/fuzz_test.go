package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"go.lsp.dev/jsonrpc2"
)

// Fuzz targets for the two frame readers (stream.go). Each target feeds
// arbitrary bytes to a stream with a small frame cap and checks that:
//
//   - reading never panics and ends with EOF (malformed frames are answered
//     and skipped, never fatal);
//   - no frame returned, and no read buffer kept, is larger than the cap,
//     whatever Content-Length or line length the input declares;
//   - a valid frame written by the server's own writer reads back
//     byte-for-byte (in NDJSON also after arbitrary garbage lines).
//
// Seeds are the f.Add calls below plus rpc/testdata/fuzz/<Target>/.

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

func fuzzStream(framing Framing, input []byte) (*stream, *memRWC) {
	rwc := &memRWC{r: bytes.NewReader(input)}
	st := newStream(rwc, framing, nil, nil)
	st.maxIn = fuzzCap
	return st, rwc
}

// readAll reads frames until the stream ends, checking the invariants, and
// returns copies of the frames read.
func readAll(t *testing.T, st *stream, inputLen int) [][]byte {
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
	w := newStream(&memRWC{r: bytes.NewReader(nil)}, framing, nil, nil)
	w.w = &out
	if _, err := w.WriteFrame(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	// NDJSON: junk lines first, ended by a newline; the message must
	// survive them. (In header framing a junk header could declare a body
	// that swallows the message, so there is no junk.)
	var in bytes.Buffer
	if len(junk) > 0 && framing == FramingNDJSON {
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
		st, _ := fuzzStream(FramingHeader, data)
		readAll(t, st, len(data))
		roundTrip(t, FramingHeader, nil, data)
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
		st, _ := fuzzStream(FramingNDJSON, data)
		readAll(t, st, len(data))
		roundTrip(t, FramingNDJSON, data, data)
	})
}

// TestHeaderBodyGrowth checks that a Content-Length under the cap is not
// trusted for allocation: a header promising 60 MiB followed by 2 bytes and
// EOF allocates one step, and a real 3 MiB body still reads back whole.
func TestHeaderBodyGrowth(t *testing.T) {
	st, _ := fuzzStream(FramingHeader, []byte("Content-Length: 60000000\r\n\r\n{}"))
	st.maxIn = MaxInFrame
	if _, _, err := st.ReadFrame(context.Background()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated body: err %v, want unexpected EOF", err)
	}
	if cap(st.rbuf) > bodyStep {
		t.Errorf("a 60 MB promise with a 2-byte body allocated %d bytes (step %d)", cap(st.rbuf), bodyStep)
	}
	big, _ := json.Marshal([]string{string(bytes.Repeat([]byte("a"), 3<<20))})
	msg := `{"jsonrpc":"2.0","method":"x","params":` + string(big) + `}`
	st, _ = fuzzStream(FramingHeader, []byte(frame("header", msg)))
	st.maxIn = MaxInFrame
	body, _, err := st.ReadFrame(context.Background())
	if err != nil || string(body) != msg {
		t.Fatalf("3 MiB frame: err %v, %d bytes read of %d", err, len(body), len(msg))
	}
}

// TestResponseID checks the id parsing that tracks answers on the wire
// (answers.go) against frames encoded by the library itself.
func TestResponseID(t *testing.T) {
	cases := []struct {
		name string
		msg  jsonrpc2.Message
		want any // nil: not a response with an id
	}{
		{"number", jsonrpc2.NewResponse(jsonrpc2.NewNumberID(42), jsonrpc2.RawMessage(`{}`), nil), int64(42)},
		{"negative", jsonrpc2.NewResponse(jsonrpc2.NewNumberID(-7), nil, jsonrpc2.NewError(CodeRequestCancelled, "x")), int64(-7)},
		{"string with escapes", jsonrpc2.NewResponse(jsonrpc2.NewStringID(`a"b\c,"result":`), nil, nil), `a"b\c,"result":`},
		{"null id", jsonrpc2.NewResponse(jsonrpc2.ID{}, nil, jsonrpc2.NewError(CodeParseError, "x")), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := jsonrpc2.EncodeMessage(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			id, ok := responseID(data)
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
	if _, ok := responseID([]byte(`{"jsonrpc":"2.0","method":"sessions/updated","params":{"id":1}}`)); ok {
		t.Errorf("a notification was taken for a response")
	}
	ids := batchResponseIDs([]byte(`[{"jsonrpc":"2.0","id":1,"result":null},{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}]`))
	if len(ids) != 2 {
		t.Errorf("batch: %v, want 2 ids", ids)
	}
}
