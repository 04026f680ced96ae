package driver_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// startFileProducer starts the file_producer fixture on a file of n lines
// ("line I", with a 200 kB line 7) and returns it with the file's path.
func startFileProducer(t *testing.T, n int, linesPerCall int32, more ...map[string]schema.Value) (*runtime.ProducerInstance, []string) {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var want []string
	for i := 1; i <= n; i++ {
		line := fmt.Sprintf("line %d", i)
		if i == 7 {
			line = strings.Repeat("y", 200_000)
		}
		b.WriteString(line + "\n")
		want = append(want, line)
	}
	path := filepath.Join(t.TempDir(), "in.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := runtime.NewHost(ctx, &runtime.Options{CacheDir: testutil.CacheDir(), TempRoot: t.TempDir(), CallTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	p, err := h.Load(ctx, testutil.Plugin(t, "producers/file_producer/file_producer.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]schema.Value{
		"input-path":     {Type: schema.Files, Paths: []string{path}},
		"lines-per-call": {Type: schema.Integer, Int: linesPerCall},
	}
	for _, m := range more {
		for id, v := range m {
			given[id] = v
		}
	}
	cfg, err := schema.Complete(p.ConfigSchemas, given)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.NewProducer(ctx, &runtime.InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.Close)
	return pr, want
}

// TestRunProducer: every line becomes a row, in order and numbered from 0,
// the row longer than MaxRowBytes is cut and counted, progress is reported,
// and the run ends when the producer says done (the fixture traps if it is
// called after that, which would fail the run).
func TestRunProducer(t *testing.T) {
	pr, want := startFileProducer(t, 5000, 64)
	var got []string
	var reports int
	stats, err := driver.RunProducer(context.Background(), pr, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			if r.Index != uint64(len(got)) {
				return fmt.Errorf("row index %d, want %d", r.Index, len(got))
			}
			got = append(got, strings.Clone(r.Item.Message.Columns[1]))
		}
		return nil
	}), &driver.Options{MaxRowBytes: 100_000, Progress: func(driver.Stats) { reports++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[6] != want[6][:99_999] || got[4999] != want[4999] {
		t.Fatalf("%d rows, want %d; row 7 has %d bytes, want 99999 (cut to 100000 bytes of text, its number included); last %q", len(got), len(want), len(got[min(6, len(got)-1)]), got[len(got)-1])
	}
	if stats.Items != 5000 || stats.TruncatedRows != 1 || stats.Calls < 5000/64 || stats.Bytes != 0 || reports < int(stats.Calls) {
		t.Errorf("stats %+v, %d progress reports", stats, reports)
	}
}

// TestRunProducerCancel: cancelling stops the run between calls with the
// context's error: the rows of the first answer (the six lines before the
// long one) are all the sink got, and the run never says done.
func TestRunProducerCancel(t *testing.T) {
	pr, _ := startFileProducer(t, 5000, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got int
	stats, err := driver.RunProducer(ctx, pr, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		got += len(rows)
		cancel()
		return nil
	}), nil)
	if !errors.Is(err, context.Canceled) || got != 6 || stats.Items != 6 || stats.Calls != 1 {
		t.Errorf("err %v, %d rows, stats %+v; want canceled after the first answer, 6 rows", err, got, stats)
	}
}

// TestRunProducerError: a produce-error ends the run with that error; the
// rows of the answers before it were handed to the sink (the failing answer
// has none: an error answer carries no entries), and the run does not end
// as done.
func TestRunProducerError(t *testing.T) {
	pr, _ := startFileProducer(t, 100, 10, map[string]schema.Value{"fail-at": {Type: schema.Integer, Int: 25}})
	var got int
	stats, err := driver.RunProducer(context.Background(), pr, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		got += len(rows)
		return nil
	}), nil)
	if runtime.PluginErrorCode(err) != "produce" || got != int(stats.Items) || got == 0 || got >= 24 {
		t.Errorf("err %v, %d rows, stats %+v; want the produce error after the rows of the answers before line 25", err, got, stats)
	}
}
