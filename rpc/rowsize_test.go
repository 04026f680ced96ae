package rpc

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/rowjson"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestLargestRowFitsInOneFrame: the largest row the driver lets through
// (driver.DefaultMaxRowBytes of text that JSON escapes six-fold, a full list
// of attachment message indexes, a long attachment path) is encoded within
// the budget sessions/items and sessions/grab leave for rows in one frame.
func TestLargestRowFitsInOneFrame(t *testing.T) {
	ctl := func(n int) string { return strings.Repeat("\x01", n) } // each byte becomes \u0001
	date := ctl(20)
	nums := make([]uint64, driver.MaxAttachmentMessages)
	for i := range nums {
		nums[i] = math.MaxUint64
	}
	line := ctl(driver.DefaultMaxRowBytes - 1000 - 2*len(date))
	it := &runtime.Item{
		Message:    &runtime.Message{Line: line},
		Attachment: &runtime.Attachment{Name: ctl(1000), Size: math.MaxUint64, CreatedDate: &date, ModifiedDate: &date, Messages: nums},
	}
	path := "/" + strings.Repeat("d", 4000) + "/" + strings.Repeat("n", 255)
	row := rowjson.AppendRow(nil, math.MaxUint64, it, path)
	const envelope = 256 // sessions/items params around the rows; the grab budget leaves 64
	if len(row)+envelope > protocol.MaxOutFrame {
		t.Fatalf("the largest row is %d bytes of JSON: with the envelope it exceeds the %d-byte frame", len(row), protocol.MaxOutFrame)
	}
	t.Logf("largest row: %d bytes of JSON (frame %d)", len(row), protocol.MaxOutFrame)
}

// TestLongLinesAreCutOverTheWire: a text session on a file with a 300 KiB
// line of control characters, which used to become a 1.8 MB row and a frame
// beyond the 1 MiB cap, gives three rows, the long one cut to the maximum row
// size, every grab frame within MaxOutFrame, and truncatedRows in the final
// sessions/updated.
func TestLongLinesAreCutOverTheWire(t *testing.T) {
	watchdog(t, 60*time.Second)
	long := strings.Repeat("\x01", 300<<10)
	in := "first\n" + long + "\nlast\n"
	path := filepath.Join(t.TempDir(), "long.log")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: path}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	fin := c.waitFinal(open.Session, 30*time.Second)
	if fin.State != protocol.StateDone || fin.Rows != 3 || fin.TruncatedRows != 1 || fin.Bytes != uint64(len(in)) || fin.SkippedBytes != 0 {
		t.Fatalf("final update %+v: want done, 3 rows, 1 truncated, %d bytes", fin, len(in))
	}
	var lines []string
	for len(lines) < 3 {
		var raw json.RawMessage
		c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Start: uint64(len(lines)), Count: 10}, &raw)
		if frame := len(raw) + len(`{"jsonrpc":"2.0","id":99,"result":}`); frame > protocol.MaxOutFrame {
			t.Fatalf("grab from %d: a %d-byte frame, over the %d cap", len(lines), frame, protocol.MaxOutFrame)
		}
		var g grabbed
		if err := json.Unmarshal(raw, &g); err != nil || len(g.Items) == 0 {
			t.Fatalf("grab from %d: %v, %d items", len(lines), err, len(g.Items))
		}
		for _, it := range g.Items {
			lines = append(lines, *it.Line)
		}
	}
	if len(lines) != 3 || lines[0] != "first" || lines[1] != long[:driver.DefaultMaxRowBytes] || lines[2] != "last" {
		t.Fatalf("rows of %d, %d, %d bytes; want first, %d control characters, last", len(lines[0]), len(lines[1]), len(lines[2]), driver.DefaultMaxRowBytes)
	}
}
