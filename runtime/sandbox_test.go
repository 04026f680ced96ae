package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

type logCollector struct {
	mu   sync.Mutex
	recs []LogRecord
}

func (c *logCollector) add(r LogRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
}

func (c *logCollector) find(source LogSource, substr string) *LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.recs {
		if c.recs[i].Source == source && strings.Contains(c.recs[i].Message, substr) {
			return &c.recs[i]
		}
	}
	return nil
}

// TestLoggingAndTempDirectory: the Go plugin logs at all five levels and
// writes a file into its sandbox directory at init; the directory is
// removed when the instance closes.
func TestLoggingAndTempDirectory(t *testing.T) {
	var logs logCollector
	root := t.TempDir()
	h := newTestHost(t, &Options{OnLog: logs.add, TempRoot: root})
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, "parsers/go_records/go_records.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	trace := LevelTrace
	pi, err := p.NewParser(ctx, &InitOptions{LogLevel: &trace, LogTag: "s42"})
	if err != nil {
		t.Fatal(err)
	}
	for lvl, name := range []string{"error", "warn", "info", "debug", "trace"} {
		r := logs.find(FromLogImport, "init: "+name+" message")
		if r == nil || r.Level != LogLevel(lvl) || r.Plugin != "go_records" || r.Instance == 0 || r.Tag != "s42" {
			t.Errorf("level %s: got %+v", name, r)
		}
	}
	if logs.find(FromLogImport, "wrote go_records.txt") == nil {
		t.Fatal("the plugin could not write into its temp directory")
	}
	if filepath.Dir(h.TempDir()) != root {
		t.Fatalf("the host's directory %s is not in the temp root %s", h.TempDir(), root)
	}
	dirs, _ := os.ReadDir(h.TempDir())
	if len(dirs) != 1 {
		t.Fatalf("want one sandbox directory in the host's directory, found %d", len(dirs))
	}
	pi.Close()
	if dirs, _ := os.ReadDir(h.TempDir()); len(dirs) != 0 {
		t.Fatalf("sandbox directory not removed on close: %v", dirs)
	}
}

// TestStdoutStderrCaptured: string_parser prints to stdout and stderr at
// init; both arrive as log records, never on the host's stdout.
func TestStdoutStderrCaptured(t *testing.T) {
	var logs logCollector
	h := newTestHost(t, &Options{OnLog: logs.add})
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	settings, err := schema.Complete(p.ConfigSchemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := p.NewParser(ctx, &InitOptions{Config: settings})
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	if r := logs.find(FromStdout, "Initialize called with the 7 custom configs."); r == nil || r.Level != LevelInfo {
		t.Errorf("stdout line: %+v", r)
	}
	if r := logs.find(FromStderr, "Log level is"); r == nil || r.Level != LevelInfo {
		t.Errorf("stderr line: %+v", r)
	}
}

// TestInitErrorKinds: errors the plugin reports from init keep their case.
func TestInitErrorKinds(t *testing.T) {
	h := newTestHost(t, nil)
	ctx := context.Background()
	sp, err := h.Load(ctx, fixture(t, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := h.Load(ctx, fixture(t, "bytesources/file_source/file_source.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		run    func() error
		code   string
		detail string
	}{
		{"missing lossy", func() error { _, err := sp.NewParser(ctx, nil); return err }, "config", "No configuration value for id 'lossy'"},
		{"file source without file", func() error {
			_, err := fs.NewSource(ctx, &InitOptions{Config: []schema.Setting{{ID: "input-path", Value: schema.Value{Type: schema.Files}}}})
			return err
		}, "config", "expects one file only"},
		{"file source missing file", func() error {
			_, err := fs.NewSource(ctx, &InitOptions{Config: []schema.Setting{{ID: "input-path", Value: schema.Value{Type: schema.Files, Paths: []string{filepath.Join(t.TempDir(), "missing.log")}}}}})
			return err
		}, "io", "No such file"},
		{"parser used as source", func() error { _, err := sp.NewSource(ctx, nil); return err }, "", "not a bytesource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || PluginErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got %v (code %q), want code %q mentioning %q", err, PluginErrorCode(err), tc.code, tc.detail)
			}
		})
	}
}

// TestSetLogSink: a sink attached after the Host is built receives the
// plugin's log lines in place of Options.OnLog, and nil detaches it.
func TestSetLogSink(t *testing.T) {
	var before, after logCollector
	h := newTestHost(t, &Options{OnLog: before.add})
	h.SetLogSink(after.add)
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, "parsers/go_records/go_records.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	level := LevelInfo
	pi, err := p.NewParser(ctx, &InitOptions{LogLevel: &level})
	if err != nil {
		t.Fatal(err)
	}
	pi.Close()
	if after.find(FromLogImport, "init: info message") == nil {
		t.Fatalf("the attached sink got no log line: %+v", after.recs)
	}
	if len(before.recs) != 0 {
		t.Fatalf("Options.OnLog still called after SetLogSink: %+v", before.recs)
	}
	h.SetLogSink(nil)
	n := len(after.recs)
	pi, err = p.NewParser(ctx, &InitOptions{LogLevel: &level})
	if err != nil {
		t.Fatal(err)
	}
	pi.Close()
	if len(after.recs) != n || len(before.recs) != 0 {
		t.Fatalf("a detached sink still receives lines: %d then %d", n, len(after.recs))
	}
}
