package driver_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// lengthParser parses records of a 4-byte big-endian length and a body. It
// returns at most maxItems items per call (0 = all), "incomplete" when the
// first record is not whole, and "parse" for a record whose length has the
// top bit set (garbage).
type lengthParser struct {
	maxItems int
	windows  []int
	items    []runtime.Item
	msgs     []runtime.Message
}

func incomplete() error {
	return &runtime.Error{Kind: runtime.KindPluginError, Code: "incomplete"}
}

func (p *lengthParser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	p.windows = append(p.windows, len(data))
	p.items, p.msgs = p.items[:0], p.msgs[:0]
	for off := 0; ; {
		if p.maxItems > 0 && len(p.msgs) == p.maxItems {
			break
		}
		if len(data)-off < 4 {
			break
		}
		n := binary.BigEndian.Uint32(data[off:])
		if n&0x80000000 != 0 {
			if len(p.msgs) == 0 {
				return nil, &runtime.Error{Kind: runtime.KindPluginError, Code: "parse", Err: errors.New("bad length")}
			}
			break
		}
		if len(data)-off-4 < int(n) {
			break
		}
		p.msgs = append(p.msgs, runtime.Message{Line: fmt.Sprintf("%d bytes", n)})
		p.items = append(p.items, runtime.Item{Consumed: uint64(4 + n)})
		off += 4 + int(n)
	}
	if len(p.msgs) == 0 {
		return nil, incomplete()
	}
	for i := range p.items {
		p.items[i].Message = &p.msgs[i]
	}
	return p.items, nil
}

func record(n int) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	return b
}

func collect(t *testing.T, src driver.Source, p driver.Parser, opts *driver.Options) ([]string, driver.Stats, error) {
	t.Helper()
	var lines []string
	stats, err := driver.Run(context.Background(), src, p, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			if int(r.Index) != len(lines) {
				t.Fatalf("row index %d, want %d", r.Index, len(lines))
			}
			lines = append(lines, r.Item.Message.Line)
		}
		return nil
	}), opts)
	return lines, stats, err
}

func TestRun(t *testing.T) {
	var big bytes.Buffer
	big.Write(record(10))
	big.Write(record(300 << 10)) // larger than the first chunk: must grow
	big.Write(record(5))
	var small bytes.Buffer
	for i := 0; i < 5000; i++ {
		small.Write(record(100))
	}
	tests := []struct {
		name      string
		input     []byte
		parser    *lengthParser
		want      []string
		skipped   uint64
		errs      uint64
		maxWindow int    // upper bound on the largest window handed to the parser
		maxCopied uint64 // upper bound on the bytes handed to the parser in all
	}{
		{name: "records larger than the first chunk", input: big.Bytes(), parser: &lengthParser{},
			want: []string{"10 bytes", fmt.Sprint(300<<10, " bytes"), "5 bytes"}, maxWindow: 512 << 10, maxCopied: 2 << 20},
		{name: "one item per call keeps windows small", input: small.Bytes(), parser: &lengthParser{maxItems: 1},
			want: repeat("100 bytes", 5000), maxWindow: 64 << 10, maxCopied: 5000 * (64 << 10)},
		{name: "garbage is skipped byte by byte", input: append(append([]byte{0xff, 0xff}, record(3)...), record(4)...), parser: &lengthParser{},
			want: []string{"3 bytes", "4 bytes"}, skipped: 2, errs: 2, maxWindow: 64 << 10, maxCopied: 1 << 10},
		{name: "truncated last record is dropped", input: append(record(3), record(50)[:3]...), parser: &lengthParser{},
			want: []string{"3 bytes"}, skipped: 3, maxWindow: 64 << 10, maxCopied: 1 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A small first window (as for streamed input) so that growth shows.
			lines, stats, err := collect(t, &driver.ReaderSource{R: bytes.NewReader(tc.input)}, tc.parser, &driver.Options{InitialChunk: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(lines, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %d rows %.200q, want %d", len(lines), lines, len(tc.want))
			}
			if stats.SkippedBytes != tc.skipped || stats.ParseErrors != tc.errs {
				t.Errorf("skipped %d errors %d, want %d %d", stats.SkippedBytes, stats.ParseErrors, tc.skipped, tc.errs)
			}
			checkAccounting(t, stats, len(tc.input))
			if stats.MaxChunk > tc.maxWindow {
				t.Errorf("largest window %d, want at most %d", stats.MaxChunk, tc.maxWindow)
			}
			if stats.Copied > tc.maxCopied {
				t.Errorf("handed %d bytes to the parser, want at most %d", stats.Copied, tc.maxCopied)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// trickleReader returns its input a few bytes at a time, as a pipe does.
type trickleReader struct {
	data []byte
	n    int
}

func (r *trickleReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestTextParser covers the built-in parser over a trickling stream: lines
// split across reads, \r\n, invalid UTF-8 and a last line without newline.
func TestTextParser(t *testing.T) {
	in := "alpha\r\nbeta\n\xffgamma\n\nlast"
	lines, stats, err := collect(t, &driver.ReaderSource{R: &trickleReader{data: []byte(in), n: 3}}, &driver.TextParser{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alpha", "beta", "\uFFFDgamma", "", "last"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", lines, want)
	}
	if stats.SkippedBytes != 0 {
		t.Fatalf("stats %+v", stats)
	}
	checkAccounting(t, stats, len(in))
}

// TestFileSourceBoundedMemory parses a 30 MB file: the parser never sees
// more than 10 MiB at once, and a parser that returns one item per call is
// fed small windows after its first call.
func TestFileSourceBoundedMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	line := strings.Repeat("x", 99) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 300_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := driver.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	stats, err := driver.Run(context.Background(), src, &driver.TextParser{}, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		n += len(rows)
		return nil
	}), nil)
	if err != nil || n != 300_000 {
		t.Fatalf("%v, %d rows", err, n)
	}
	if stats.MaxChunk > 10<<20 || stats.Copied > 31<<20 {
		t.Fatalf("largest window %d, %d bytes handed over", stats.MaxChunk, stats.Copied)
	}
}

// TestOneItemPerCallIsNotQuadratic: with Chipmunk's feeding (the whole
// buffer on every call) 100k records of 100 bytes would copy about 500 GB;
// the adaptive window keeps it near 16 KiB per item.
func TestOneItemPerCallIsNotQuadratic(t *testing.T) {
	var in bytes.Buffer
	for i := 0; i < 100_000; i++ {
		in.Write(record(96))
	}
	p := &lengthParser{maxItems: 1}
	lines, stats, err := collect(t, &driver.ReaderSource{R: bytes.NewReader(in.Bytes())}, p, nil)
	if err != nil || len(lines) != 100_000 {
		t.Fatalf("%v, %d rows", err, len(lines))
	}
	if perItem := stats.Copied / 100_000; perItem > 20<<10 {
		t.Fatalf("%d bytes handed over per item", perItem)
	}
	if stats.MaxChunk != min(10<<20, in.Len()) {
		t.Fatalf("first window %d, want 10 MiB (Chipmunk's)", stats.MaxChunk)
	}
}

func TestAttachmentStore(t *testing.T) {
	s := &driver.AttachmentStore{Dir: t.TempDir()}
	var paths []string
	for _, name := range []string{"report.txt", "report.txt", "../../etc/pass wd", "ü.bin", ""} {
		p, err := s.Save(name, []byte(name))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(p))
		if filepath.Dir(p) != s.Dir {
			t.Fatalf("%q escaped the directory: %s", name, p)
		}
	}
	want := []string{"report.txt", "report_1.txt", "pass_wd", "_.bin", "attachment"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", paths, want)
	}
}
