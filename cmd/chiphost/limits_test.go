package main

import (
	"strings"
	"testing"
)

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
