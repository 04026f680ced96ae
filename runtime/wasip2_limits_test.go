package runtime_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// newProbeP2 starts a wasip2_probe instance, with dir as its configured
// (read-only) directory when not "".
func newProbeP2(t *testing.T, p *Plugin, dir string) *ParserInstance {
	t.Helper()
	var init *InitOptions
	if dir != "" {
		init = &InitOptions{Config: []schema.Setting{{ID: "dir", Value: schema.Value{Type: schema.Directories, Paths: []string{dir}}}}}
	}
	pi, err := p.NewParser(context.Background(), init)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pi.Close)
	return pi
}

// expectRows runs commands on pi and compares each row.
func expectRows(t *testing.T, pi *ParserInstance, steps [][2]string) {
	t.Helper()
	for _, s := range steps {
		row, err := probeRow(t, pi, s[0])
		if err != nil || row != s[1] {
			t.Errorf("%s: %q, %v; want %q", s[0], row, err, s[1])
		}
	}
}

// TestWASIP2OpenFileLimit: a plugin that keeps opening files through
// wasi:filesystem gets error-code quota at Options.MaxOpenFiles (8 here)
// instead of using up the host's descriptors; the instances together stop
// at Options.MaxTotalOpenFiles (12); dropping descriptors gives their
// count back; the host log says which limit refused. With the defaults,
// an instance stops at 256.
func TestWASIP2OpenFileLimit(t *testing.T) {
	logs := &syncBuffer{}
	logger := zerolog.New(logs)
	p := probeP2(t, &Options{Logger: &logger, MaxOpenFiles: 8, MaxTotalOpenFiles: 12})
	a, b := newProbeP2(t, p, ""), newProbeP2(t, p, "")
	expectRows(t, a, [][2]string{{"write f x", "write => ok written 1"}, {"hold f 20", "hold => 8 opened => err quota"}})
	expectRows(t, b, [][2]string{{"write f x", "write => ok written 1"}, {"hold f 20", "hold => 4 opened => err quota"}})
	expectRows(t, a, [][2]string{{"release", "release => 8 dropped"}})
	expectRows(t, b, [][2]string{{"hold f 20", "hold => 4 opened => err quota"}, {"release", "release => 8 dropped"}})
	expectRows(t, a, [][2]string{{"hold f 20", "hold => 8 opened => err quota"}})
	for _, want := range []string{"the plugin instance already has 8 files open, its limit", "the plugin instances together already have 12 files open"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("host log lacks %q:\n%s", want, logs.String())
		}
	}

	d := newProbeP2(t, probeP2(t, nil), "")
	expectRows(t, d, [][2]string{{"write f x", "write => ok written 1"}, {"hold f 300", "hold => 256 opened => err quota"}})
}

// TestSandboxOpenFileLimit: the same limit holds for WASI preview 1
// (wazero's WASI over the sandbox's file systems): past it open(2) fails
// (EIO: wazero's preview 1 has no EMFILE) and closing gives the count back.
func TestSandboxOpenFileLimit(t *testing.T) {
	w := newEscapeWorld(t)
	rows, logs := probeWith(t, w, &Options{MaxOpenFiles: 8}, nil, []string{
		"write $T/f x", "hold $T/f 20", "release", "hold $T/f 3", "read $T/f",
	})
	// wazero keeps the temporary directory's preopen open once used: 7 left.
	want := []string{"write $T/f x => ok", "hold $T/f 20 => 7 opened => err EIO", "release => ok 7 closed", "hold $T/f 3 => 3 opened", "read $T/f => ok x"}
	for i, row := range rows {
		if row != want[i] {
			t.Errorf("row %d: %q, want %q", i, row, want[i])
		}
	}
	if !strings.Contains(logs, "the plugin instance already has 8 files open, its limit") {
		t.Errorf("host log lacks the limit:\n%s", logs)
	}
}

// TestWASIP2ImportBytesLimit: what the host lifts for one import call is
// bounded by MaxImportBytes (72 bytes per list element): poll over 1,000
// pollables works, poll over 200,000 (14.4 MB lifted) traps with an abi
// error naming the limit instead of lifting it; a new instance works.
func TestWASIP2ImportBytesLimit(t *testing.T) {
	p := probeP2(t, nil)
	pi := newProbeP2(t, p, "")
	expectRows(t, pi, [][2]string{{"pollmany 1000", "pollmany => 1000 ready"}})
	_, err := probeRow(t, pi, "pollmany 200000")
	if KindOf(err) != KindABI || !strings.Contains(err.Error(), "import poll: abi: ") || !strings.Contains(err.Error(), "exceed the limit of 8388608 bytes") {
		t.Fatalf("pollmany 200000: %v; want an abi error naming the limit", err)
	}
	expectRows(t, newProbeP2(t, p, ""), [][2]string{{"pollmany 100000", "pollmany => 100000 ready"}})
}

// TestWASIP2ReadsBounded: a read asking for 2^64-1 bytes of a 3 MiB file
// returns MaxReadBytes (1 MiB), through descriptor.read and
// input-stream.read; get-random-bytes gives up to 1 MiB and traps past it.
func TestWASIP2ReadsBounded(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "big.bin"), bytes.Repeat([]byte("b"), 3<<20), 0o644))
	p := probeP2(t, nil)
	pi := newProbeP2(t, p, dir)
	expectRows(t, pi, [][2]string{
		{"bigread " + filepath.Join(dir, "big.bin"), "bigread => descriptor.read 1048576 bytes, input-stream.read 1048576 bytes"},
		{"random-n 1048576", "random-n => 1048576 bytes"},
	})
	_, err := probeRow(t, pi, "random-n 1048577")
	if KindOf(err) != KindABI || !strings.Contains(err.Error(), "get-random-bytes(1048577): more than the 1048576 bytes") {
		t.Fatalf("random-n 1048577: %v; want an abi error naming the limit", err)
	}
}

// TestWASIP2WriteErrors: a descriptor opened read-only gives bad-descriptor
// to write-via-stream, append-via-stream, write and set-size, and the file
// is unchanged; a write through a file stream that fails (at offset
// 2^63-1) is last-operation-failed, not success.
func TestWASIP2WriteErrors(t *testing.T) {
	p := probeP2(t, &Options{TempRoot: t.TempDir()})
	pi := newProbeP2(t, p, "")
	expectRows(t, pi, [][2]string{
		{"write x.txt hello", "write => ok written 1"},
		{"rowrite x.txt", "rowrite => write-via-stream => err bad-descriptor, append-via-stream => err bad-descriptor, write => err bad-descriptor, set-size => err bad-descriptor"},
		{"read x.txt", "read => ok hello"},
		{"farwrite far.txt", "farwrite => write last-operation-failed"},
	})
}

// TestWASIP2ReadOnlyPreopenFlags: a directory opened under a read-only
// preopen never gets mutate-directory: asking for it is read-only, and
// nothing is created in the configured directory.
func TestWASIP2ReadOnlyPreopenFlags(t *testing.T) {
	dir := t.TempDir()
	pi := newProbeP2(t, probeP2(t, nil), dir)
	expectRows(t, pi, [][2]string{{"mutflag", "mutflag => err read-only"}})
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the configured directory holds %v", ents)
	}
}

// TestWASIP2ImportInRealloc: an import called from the plugin's realloc
// while the host lowers an import's result (here readlink-at's string; the
// nested calls would end the outer call's borrow and drop its descriptor)
// traps with an abi error, as the canonical ABI requires.
func TestWASIP2ImportInRealloc(t *testing.T) {
	pi := newProbeP2(t, probeP2(t, nil), "")
	_, err := probeRow(t, pi, "reenter")
	if KindOf(err) != KindABI || !strings.Contains(err.Error(), "import now: called from the plugin's realloc while the host was lowering a value") {
		t.Fatalf("reenter: %v; want an abi error for the import called from realloc", err)
	}
}

// TestWASIP2DropParentFirst: dropping a descriptor while a stream on its
// file lives traps (as in wasmtime) instead of leaving the stream on a
// closed file; the file is closed all the same: with one open file
// allowed for all instances, another instance can still open one.
func TestWASIP2DropParentFirst(t *testing.T) {
	p := probeP2(t, &Options{MaxTotalOpenFiles: 1})
	pi := newProbeP2(t, p, "")
	expectRows(t, pi, [][2]string{{"write x.txt hello", "write => ok written 1"}})
	_, err := probeRow(t, pi, "dropparent x.txt")
	if KindOf(err) != KindABI || !strings.Contains(err.Error(), "descriptor dropped while 1 of its streams are alive") {
		t.Fatalf("dropparent: %v; want an abi error", err)
	}
	expectRows(t, newProbeP2(t, p, ""), [][2]string{{"write f x", "write => ok written 1"}, {"hold f 1", "hold => 1 opened"}})
}
