package rpc

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestJSONLineInHeaderFraming types JSON lines at the real binary in its
// default (header) framing, as a person at a terminal would, over real
// pipes: the first line gets a -32700 whose message says to start chiphost
// with --framing ndjson, and so does the log on stderr; a line of 1 MiB
// gets the same short answer (nothing of it is echoed); a well-framed
// request after them is answered.
func TestJSONLineInHeaderFraming(t *testing.T) {
	const hint = "start chiphost with --framing ndjson for line-based JSON"
	for _, tc := range []struct{ name, line string }{
		{"typed request", `{"jsonrpc":"2.0","id":1,"method":"initialize"}` + "\n"},
		{"indented batch", `  [{"jsonrpc":"2.0","id":1,"method":"initialize"}]` + "\r\n"},
		{"1 MiB line", `{"jsonrpc":"2.0","id":1,"method":"` + strings.Repeat("m", 1<<20) + `"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{raw: true})
			r := bufio.NewReaderSize(c.stdout, 1<<16)
			go c.stdin.Write([]byte(tc.line))
			body := readBody(t, r, "header")
			if len(body) > 1024 || !strings.Contains(string(body), hint) || !strings.Contains(string(body), `"code":-32700`) || !strings.Contains(string(body), `"id":null`) {
				t.Fatalf("want a short -32700 with id null and the hint %q, got %.300s", hint, body)
			}
			c.stdin.Write([]byte(frame("header", `{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}`)))
			if m := readFrame(t, r, "header"); m["id"] != float64(7) || m["result"] == nil {
				t.Fatalf("after the JSON line: want the initialize result, got %v", m)
			}
			// Once the server has exited, its stderr has been read to the end.
			c.stdin.Close()
			testutil.Await(t, c.exited, "chiphost to exit after stdin closed")
			log := c.stderrText()
			if !strings.Contains(log, "malformed frame: parse error: this looks like a JSON message without a Content-Length header; "+hint) {
				t.Fatalf("stderr has no hint:\n%s", log)
			}
			if strings.Contains(log, strings.Repeat("m", protocol.MaxGrabCount)) {
				t.Fatal("the log echoes the line")
			}
		})
	}
}
