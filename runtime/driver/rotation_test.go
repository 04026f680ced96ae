package driver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime/driver"
)

// readGate blocks the driver after a read (in Options.Progress, on the
// driver's goroutine) until the test lets it go on: the reader is then
// held behind its writer for as long as the test wants, without sleeps.
type readGate struct {
	bytes   uint64
	held    chan uint64   // the bytes read when the driver stopped
	release chan struct{} // one value lets it go on
	armed   chan struct{} // one value stops it at the next read
}

func newReadGate() *readGate {
	return &readGate{held: make(chan uint64), release: make(chan struct{}), armed: make(chan struct{}, 1)}
}

func (g *readGate) progress(st driver.Stats) {
	if st.Bytes == g.bytes {
		return // a parse call, not a read
	}
	g.bytes = st.Bytes
	select {
	case <-g.armed:
		g.held <- st.Bytes
		<-g.release
	default:
	}
}

// arm makes the driver stop after its next read; wait waits until it has.
// A driver that is already running may read on before the gate is armed:
// arm before starting it (or before releasing it, as step does).
func (g *readGate) arm() { g.armed <- struct{}{} }

func (g *readGate) wait(t *testing.T) uint64 {
	return testutil.Await(t, g.held, "the driver held after a read")
}

// step lets a held driver go on and holds it again after its very next
// read. The gate is armed before the release: arming after it raced with
// the driver, which could read the rest of the input first and then wait
// for more, never reaching the read the test was waiting for.
func (g *readGate) step(t *testing.T) uint64 {
	g.arm()
	g.release <- struct{}{}
	return g.wait(t)
}

func lines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s %06d\n", prefix, i)
	}
	return b.String()
}

// TestFollowRotationsWhileBehind: while the reader is held in the middle of
// a long file, the file is rotated away, a new one is written under its
// name and rotated away too, and a third one follows. Every line of the
// three files comes exactly once, in order. The old source looked at the
// path only at the end of the open file: by then it named the third file,
// and the second was never read. With "stop", Stop is closed as soon as the
// third file is written: the files rotated away before it are read too.
func TestFollowRotationsWhileBehind(t *testing.T) {
	for _, stop := range []bool{false, true} {
		t.Run(map[bool]string{false: "follow", true: "stop"}[stop], func(t *testing.T) {
			rotationsWhileBehind(t, stop)
		})
	}
}

func rotationsWhileBehind(t *testing.T, stopAtOnce bool) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		a, b, c := lines("a", 20000), lines("b", 1000), lines("c", 1000)
		appendFile(t, path, a)
		gate := newReadGate()
		f := newFollower()
		o.Stop = f.stop
		src := follow(t, path, o)
		opts := &driver.Options{InitialChunk: 16 << 10, MaxChunk: 16 << 10, Progress: gate.progress}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		want := strings.Split(strings.TrimSuffix(a+b+c, "\n"), "\n")
		var got []string
		rows := make(chan []string, 1)
		allIn := make(chan struct{})
		gate.arm() // before the driver starts: its first read is held
		go func() {
			stats, err := driver.Run(ctx, src, &driver.TextParser{}, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
				for _, r := range rs {
					got = append(got, rowText(r.Item.Message))
				}
				if len(got) == len(want) {
					close(allIn)
				}
				return nil
			}), opts)
			rows <- got
			f.done <- runResult{stats, err}
		}()
		if n := gate.wait(t); n >= uint64(len(a)) {
			t.Fatalf("the first read took all %d bytes of the first file; the reader must be behind", n)
		}
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, b)
		if n := gate.step(t); n >= uint64(len(a)) {
			t.Fatalf("read %d bytes: the first file is read to its end before the second rotation", n)
		}
		if err := os.Rename(path, path+".2"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, c)
		if stopAtOnce {
			close(f.stop)
		}
		gate.release <- struct{}{}
		if !stopAtOnce {
			testutil.Await(t, allIn, "as many rows as the three files have lines")
			close(f.stop)
		}
		res := testutil.Await(t, f.done, "the end of the run")
		if res.err != nil {
			t.Fatal(res.err)
		}
		all := <-rows
		if len(all) != len(want) {
			t.Fatalf("%d rows, want %d", len(all), len(want))
		}
		for i := range want {
			if all[i] != want[i] {
				t.Fatalf("row %d: %q, want %q", i, all[i], want[i])
			}
		}
		checkAccounting(t, res.stats, len(a+b+c))
	})
}
