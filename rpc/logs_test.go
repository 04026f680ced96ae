package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"testing"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// pipePair joins the read end of one OS pipe and the write end of another.
type pipePair struct {
	io.Reader
	io.WriteCloser
}

// TestLogRateLimit serves an in-process server over OS pipes with LogRate
// 10 and feeds it 3000 plugin log lines at once (more than its queue
// holds), through PluginLog (what runtime.Options.OnLog calls): the first
// lines are forwarded in order, the rest are counted, and the "lines
// dropped" warnings account for every line (forwarded + dropped = 3000),
// none lost silently. (How many are forwarded depends on timing: the burst
// of 10 is shared with the warnings.)
func TestLogRateLimit(t *testing.T) {
	const lines, perSecond = 3000, 10
	ctx := context.Background()
	host, err := runtime.NewHost(ctx, &runtime.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	srv, err := NewServer(&Options{Host: host, LogRate: perSecond, TempDir: t.TempDir(), Framing: FramingNDJSON})
	if err != nil {
		t.Fatal(err)
	}
	toServer, clientOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	clientIn, fromServer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, pipePair{toServer, fromServer}) }()
	defer func() {
		clientOut.Close()
		if _, ok := testutil.Wait(t, served); !ok {
			t.Error("server still serving after its input closed")
		}
		fromServer.Close()
		clientIn.Close()
	}()

	logs := make(chan protocol.LogMessageParams, lines+10)
	conn := jsonrpc2.NewConn(jsonrpc2.NewNDJSONStream(pipePair{clientIn, clientOut}), jsonrpc2.WithCodec(codec{}))
	conn.Go(ctx, func(_ context.Context, req *jsonrpc2.Request) (any, error) {
		var p protocol.LogMessageParams
		if req.Method() == protocol.MethodLogMessage && json.Unmarshal(bytes.Clone(req.Params()), &p) == nil {
			logs <- p
		}
		return nil, nil
	})
	defer conn.Close()
	if _, err := conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{}, &protocol.InitializeResult{}); err != nil {
		t.Fatal(err)
	}

	for i := range lines {
		srv.PluginLog(runtime.LogRecord{Level: runtime.LevelInfo, Source: runtime.FromStdout, Plugin: "p", Message: fmt.Sprint("line ", i)})
	}
	droppedMsg := regexp.MustCompile(`^(\d+) plugin log lines dropped \(more than 10 per second\)$`)
	forwarded, dropped, last := 0, 0, -1
	for forwarded+dropped < lines {
		p, ok := testutil.Wait(t, logs)
		if !ok {
			t.Fatalf("%d lines forwarded and %d reported dropped, want %d in all", forwarded, dropped, lines)
		}
		if m := droppedMsg.FindStringSubmatch(p.Message); m != nil && p.Source == "host" {
			n, _ := strconv.Atoi(m[1])
			dropped += n
			continue
		}
		var n int
		if _, err := fmt.Sscanf(p.Message, "line %d", &n); err != nil || n <= last || p.Plugin != "p" || p.Source != "stdout" {
			t.Fatalf("forwarded %+v, want a line after line %d, from plugin p on stdout", p, last)
		}
		last = n
		forwarded++
	}
	if forwarded+dropped != lines || forwarded == 0 || dropped == 0 {
		t.Errorf("forwarded %d, dropped %d: want some of each, %d in all", forwarded, dropped, lines)
	}
}
