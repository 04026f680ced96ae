package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/schema"
)

const fileProducer = "producers/file_producer/file_producer.wasm"

// newFileProducer starts file_producer on path with the given lines per
// call and read size (0: the plugin's defaults).
func newFileProducer(t *testing.T, h *Host, path string, linesPerCall, chunk int32) *ProducerInstance {
	t.Helper()
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, fileProducer))
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]schema.Value{"input-path": {Type: schema.Files, Paths: []string{path}}}
	if linesPerCall > 0 {
		given["lines-per-call"] = schema.Value{Type: schema.Integer, Int: linesPerCall}
	}
	if chunk > 0 {
		given["chunk-size"] = schema.Value{Type: schema.Integer, Int: chunk}
	}
	cfg, err := schema.Complete(p.ConfigSchemas, given)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.NewProducer(ctx, &InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.Close)
	return pr
}

// TestProducerMetadata loads the producer fixture: kind producer (from the
// export its binary declares), its version, schemas and render options.
func TestProducerMetadata(t *testing.T) {
	h := newTestHost(t, nil)
	p, err := h.Load(context.Background(), fixture(t, fileProducer))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Producer || p.APIVersion != (Version{0, 1, 0}) || p.Version != (Version{0, 1, 0}) {
		t.Errorf("kind %s API %s version %s, want producer 0.1.0 0.1.0", p.Kind, p.APIVersion, p.Version)
	}
	var ids []string
	for _, it := range p.ConfigSchemas {
		ids = append(ids, it.ID+":"+string(it.InputType.Type))
	}
	if got := strings.Join(ids, " "); got != "input-path:files lines-per-call:integer chunk-size:integer fail-at:integer stall-at:integer" {
		t.Errorf("schemas %s", got)
	}
	ro := p.RenderOptions
	if ro == nil || len(ro.Columns) != 2 || ro.Columns[0].Caption != "Line" || ro.Columns[1].Width != -1 || ro.MaxWidth != 600 {
		t.Errorf("render options %+v", ro)
	}
	if _, err := p.NewParser(context.Background(), nil); KindOf(err) != KindUnsupported || !strings.Contains(err.Error(), "is a producer, not a parser") {
		t.Errorf("NewParser on a producer: %v, want unsupported", err)
	}
}

// produceAll calls ProduceNext until done and returns the rows as
// "number\ttext", the answers' counts and the number of calls.
func produceAll(t *testing.T, pr *ProducerInstance) (rows []string, skipped, incomplete, empty, calls int) {
	t.Helper()
	for {
		calls++
		got, err := pr.ProduceNext(context.Background())
		if err != nil {
			t.Fatalf("call %d: %v", calls, err)
		}
		for _, it := range got.Items {
			if it.Message == nil || len(it.Message.Columns) != 2 || it.Consumed != 0 {
				t.Fatalf("call %d: item %+v, want two columns and nothing consumed", calls, it)
			}
			rows = append(rows, it.Message.Columns[0]+"\t"+it.Message.Columns[1])
		}
		skipped, incomplete, empty = skipped+got.Skipped, incomplete+got.Incomplete, empty+got.Empty
		if got.Done {
			return
		}
	}
}

// TestProducerProduces reads a file through the producer (WASI preview 1
// through the adapter, inside the sandbox that grants exactly that file)
// with several batch and read sizes: the rows are the file's lines,
// numbered, whatever the sizes; empty lines are skipped entries, '#' lines
// empty ones, a line longer than a read gives incomplete entries. After
// done, ProduceNext does not call the plugin again: the fixture traps when
// it is, and ErrProducerDone (not a trap) comes back.
func TestProducerProduces(t *testing.T) {
	var b strings.Builder
	var want []string
	for i := 1; i <= 3000; i++ {
		switch {
		case i%10 == 0:
			b.WriteString("\n")
		case i%17 == 0:
			b.WriteString("# comment\n")
		case i == 1501:
			long := strings.Repeat("x", 200_000)
			b.WriteString(long + "\n")
			want = append(want, strconv.Itoa(i)+"\t"+long)
		default:
			line := fmt.Sprintf("line %d °", i)
			b.WriteString(line + "\n")
			want = append(want, strconv.Itoa(i)+"\t"+line)
		}
	}
	b.WriteString("tail without newline")
	want = append(want, "3001\ttail without newline")
	path := filepath.Join(t.TempDir(), "input.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newTestHost(t, nil)
	for _, tc := range []struct{ lines, chunk int32 }{{0, 0}, {1, 4096}, {7, 100}, {100000, 1 << 20}} {
		t.Run(fmt.Sprintf("lines%d-chunk%d", tc.lines, tc.chunk), func(t *testing.T) {
			pr := newFileProducer(t, h, path, tc.lines, tc.chunk)
			rows, skipped, incomplete, empty, calls := produceAll(t, pr)
			if strings.Join(rows, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%d rows, want %d; first difference near %v", len(rows), len(want), firstDiff(rows, want))
			}
			if skipped != 300 || empty != 159 {
				t.Errorf("skipped %d, empty %d; want 300, 159", skipped, empty)
			}
			if tc.chunk > 0 && tc.chunk < 200_000 && incomplete == 0 {
				t.Errorf("no incomplete entry for a 200 kB line read %d bytes at a time", tc.chunk)
			}
			_, err := pr.ProduceNext(context.Background())
			if !errors.Is(err, ErrProducerDone) || KindOf(err) != KindClosed {
				t.Errorf("after done (%d calls): %v, want ErrProducerDone without calling the plugin", calls, err)
			}
		})
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d: %.60q vs %.60q", i, a[i], b[i])
		}
	}
	return "the end of the shorter list"
}

// TestProducerInitErrors: a missing file and a bad value are the plugin's
// init errors, with its case.
func TestProducerInitErrors(t *testing.T) {
	h := newTestHost(t, nil)
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, fileProducer))
	if err != nil {
		t.Fatal(err)
	}
	missing := []schema.Setting{{ID: "input-path", Value: schema.Value{Type: schema.Files, Paths: []string{filepath.Join(t.TempDir(), "none.log")}}}}
	if _, err := p.NewProducer(ctx, &InitOptions{Config: missing}); PluginErrorCode(err) != "io" {
		t.Errorf("missing file: %v, want plugin-error (io)", err)
	}
	bad := append(missing[:0:0], schema.Setting{ID: "lines-per-call", Value: schema.Value{Type: schema.Integer, Int: 0}})
	if _, err := p.NewProducer(ctx, &InitOptions{Config: bad}); PluginErrorCode(err) != "config" || !strings.Contains(err.Error(), "lines-per-call") {
		t.Errorf("lines-per-call 0: %v, want plugin-error (config) naming it", err)
	}
}

// startProducer starts file_producer on a 100-line file with one line per
// call and the given integer settings.
func startProducer(t *testing.T, h *Host, ints map[string]int32) *ProducerInstance {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	path := filepath.Join(t.TempDir(), "in.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := h.Load(ctx, fixture(t, fileProducer))
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]schema.Value{"input-path": {Type: schema.Files, Paths: []string{path}}, "lines-per-call": {Type: schema.Integer, Int: 1}}
	for id, n := range ints {
		given[id] = schema.Value{Type: schema.Integer, Int: n}
	}
	cfg, err := schema.Complete(p.ConfigSchemas, given)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.NewProducer(ctx, &InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.Close)
	return pr
}

// TestProducerDeadline: a produce-next that spins is stopped by the call
// deadline and reported as a timeout naming the plugin; the instance is
// closed after it. (The test's own timeout is the safety net; nothing here
// measures time.)
func TestProducerDeadline(t *testing.T) {
	pr := startProducer(t, newTestHost(t, &Options{CallTimeout: time.Second}), map[string]int32{"stall-at": 3})
	for i := 1; i <= 2; i++ {
		if got, err := pr.ProduceNext(context.Background()); err != nil || len(got.Items) != 1 {
			t.Fatalf("call %d: %+v, %v", i, got, err)
		}
	}
	_, err := pr.ProduceNext(context.Background())
	if KindOf(err) != KindTimeout || !strings.Contains(err.Error(), "file_producer") {
		t.Fatalf("spinning produce-next: %v, want a timeout naming the plugin", err)
	}
	if _, err := pr.ProduceNext(context.Background()); KindOf(err) != KindClosed {
		t.Errorf("after the timeout: %v, want closed", err)
	}
}

// TestProducerError: a produce-error is a plugin error with its case as
// code and its text.
func TestProducerError(t *testing.T) {
	pr := startProducer(t, newTestHost(t, nil), map[string]int32{"fail-at": 2})
	if got, err := pr.ProduceNext(context.Background()); err != nil || len(got.Items) != 1 {
		t.Fatalf("call 1: %+v, %v", got, err)
	}
	_, err := pr.ProduceNext(context.Background())
	if PluginErrorCode(err) != "produce" || !strings.Contains(err.Error(), "line 2: failing as configured") {
		t.Fatalf("call 2: %v, want plugin-error (produce)", err)
	}
}

// TestProducerEntryAfterDone: an answer with entries after done breaks the
// contract (done is the last thing a producer says): an abi error, and the
// instance is closed. The answer is built by hand: no toolchain fixture
// misbehaves that way.
func TestProducerEntryAfterDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.log")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := newFileProducer(t, newTestHost(t, nil), path, 0, 0)
	line := abi.Value{Num: 0, Elems: []abi.Value{{Str: "late"}}}                                // parsed-message.line
	item := abi.Value{Num: produceItem, Elems: []abi.Value{{Num: 0, Elems: []abi.Value{line}}}} // item(message(line))
	_, err := pr.collect([]abi.Value{{Num: produceDone}, item})
	if KindOf(err) != KindABI || !strings.Contains(err.Error(), "entry 1 of 2 comes after done") {
		t.Fatalf("entry after done: %v, want an abi error", err)
	}
	if _, err := pr.ProduceNext(context.Background()); KindOf(err) != KindClosed {
		t.Errorf("after the abi error: %v, want closed", err)
	}
}
