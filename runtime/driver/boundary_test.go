package driver_test

import (
	"context"
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

// stringParserPlugin loads the committed cut-independent string_parser
// fixture, a plugin parser that gets the repeat call at the end of an input.
func stringParserPlugin(t *testing.T) driver.Parser {
	t.Helper()
	ctx := context.Background()
	h, err := runtime.NewHost(ctx, &runtime.Options{CacheDir: testutil.CacheDir(), TempRoot: t.TempDir(), CallTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	p, err := h.Load(ctx, testutil.Plugin(t, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	settings, err := schema.Complete(p.ConfigSchemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pi.Close() })
	return pi
}

// boundaryParsers runs a test with the text parser (a Finisher) and with
// the string_parser plugin (the repeat call), in both waiting modes.
func boundaryParsers(t *testing.T, test func(t *testing.T, o driver.FollowOptions, p driver.Parser)) {
	t.Run("text", func(t *testing.T) {
		modes(t, func(t *testing.T, o driver.FollowOptions) { test(t, o, &driver.TextParser{}) })
	})
	t.Run("string_parser", func(t *testing.T) {
		modes(t, func(t *testing.T, o driver.FollowOptions) { test(t, o, stringParserPlugin(t)) })
	})
}

// TestFollowRotationEndsTheLastLine: the old file's unterminated last line
// is a row of its own when the file is rotated (renamed, then created
// again), not the start of the new file's first line. The old source
// delivered the bytes of both files as one input: the row was "abcdef".
func TestFollowRotationEndsTheLastLine(t *testing.T) {
	boundaryParsers(t, func(t *testing.T, o driver.FollowOptions, p driver.Parser) {
		path := filepath.Join(t.TempDir(), "app.log")
		appendFile(t, path, "one\nabc")
		caughtUp := make(chan struct{}, 100)
		f := newFollower()
		o.Stop, o.CaughtUp = f.stop, func() { caughtUp <- struct{}{} }
		f.start(t, follow(t, path, o), p)
		f.expect(t, "one")
		testutil.Await(t, caughtUp, "caught up with \"abc\" read")
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "def\n")
		f.expect(t, "abc", "def")
		appendFile(t, path, "ghi\n")
		f.expect(t, "ghi")
		res := f.finish(t)
		if res.err != nil {
			t.Fatal(res.err)
		}
		checkAccounting(t, res.stats, len("one\nabc"+"def\nghi\n"))
	})
}

// TestFollowTruncationEndsTheLastLine: the bytes read before a truncation
// end there; the old source joined "ghi" to the first line written after
// the truncation ("ghijkl").
func TestFollowTruncationEndsTheLastLine(t *testing.T) {
	boundaryParsers(t, func(t *testing.T, o driver.FollowOptions, p driver.Parser) {
		path := filepath.Join(t.TempDir(), "app.log")
		appendFile(t, path, "one\nghi")
		caughtUp := make(chan struct{}, 100)
		f := newFollower()
		o.Stop, o.CaughtUp = f.stop, func() { caughtUp <- struct{}{} }
		f.start(t, follow(t, path, o), p)
		f.expect(t, "one")
		testutil.Await(t, caughtUp, "caught up with \"ghi\" read")
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "jkl\n") // shorter than what was read: a truncation
		f.expect(t, "ghi", "jkl")
		appendFile(t, path, "mno")
		res := f.finish(t, "mno")
		if res.err != nil {
			t.Fatal(res.err)
		}
		checkAccounting(t, res.stats, len("one\nghi"+"jkl\nmno"))
	})
}

// boundarySource delivers its parts one read each, with ErrInputBoundary
// after every part but the last, then io.EOF.
type boundarySource struct{ parts []string }

func (s *boundarySource) Read(_ context.Context, buf []byte, max int) ([]byte, error) {
	if len(s.parts) == 0 {
		return buf, nil
	}
	part := s.parts[0]
	s.parts = s.parts[1:]
	if len(s.parts) == 0 {
		return append(buf, part...), nil
	}
	return append(buf, part...), driver.ErrInputBoundary
}

// TestInputBoundary: the driver ends the bytes in hand at ErrInputBoundary
// and reads on, for a Finisher and for a plugin, also when the boundary
// comes without bytes or between complete lines.
func TestInputBoundary(t *testing.T) {
	for name, p := range map[string]driver.Parser{"text": &driver.TextParser{}, "string_parser": stringParserPlugin(t)} {
		t.Run(name, func(t *testing.T) {
			parts := []string{"a\nb", "", "c", "d\n", "e"}
			rows, stats := lineColumn(t, p, &boundarySource{parts: parts}, nil)
			if got := strings.Join(rows, "|"); got != "a|b|c|d|e" {
				t.Fatalf("rows %q, want a|b|c|d|e", got)
			}
			checkAccounting(t, stats, len(strings.Join(parts, "")))
		})
	}
}
