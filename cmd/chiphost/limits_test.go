package main

import (
	"strings"
	"testing"
)

// TestParseLongLine is the reproduction: a line of 11 MiB between
// two short ones used to give two rows and exit 0, dropping the last line.
// Now: three rows, the long one cut to 128 KiB, a warning and the skipped
// bytes on stderr, exit 0.
func TestParseLongLine(t *testing.T) {
	long := strings.Repeat("A", 11<<20)
	out, errOut, code := runCLI(t, "first\n"+long+"\nlast\n", "parse", "--parser", "text", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := "first\n" + long[:128<<10] + "\nlast\n"; out != want {
		t.Fatalf("stdout has %d lines (%d bytes), want 3 (%d bytes)", strings.Count(out, "\n"), len(out), len(want))
	}
	for _, w := range []string{"warning: 1 row(s) longer than 131072 bytes of text were cut", "3 rows, 1048577 bytes skipped"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q does not mention %q", errOut, w)
		}
	}
}

// TestParseConsumedOverflow: a plugin whose items' consumed counts wrap
// around u64 ends the run with an abi error naming it, the item and the
// value (it used to say "no progress"), and prints no row.
func TestParseConsumedOverflow(t *testing.T) {
	out, errOut, code := runCLI(t, "line\n", "parse", "--parser", repo("testdata/plugins/hostile/hostile.wasm"), "--config", "mode=consumed-overflow", "-")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q: want exit 1 and no rows", code, out)
	}
	if w := "plugin hostile: parse: abi: item 0 of 2 consumed 18446744073709551615 bytes, but only 5 of the 5-byte input were left"; !strings.Contains(errOut, w) {
		t.Errorf("stderr %q does not mention %q", errOut, w)
	}
}
