package component

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkDecode decodes committed fixtures built by foreign toolchains: a
// C component, a Go component, a JavaScript component (StarlingMonkey, 12 MB)
// and a bare core module.
func BenchmarkDecode(b *testing.B) {
	for _, rel := range []string{
		"parsers/string_parser/string_parser.wasm",
		"parsers/go_records/go_records.wasm",
		"parsers/js_string_parser/js_string_parser.wasm",
		"core/string_parser.core.wasm",
	} {
		bin, err := os.ReadFile(filepath.Join(pluginsDir, rel))
		if err != nil {
			b.Fatalf("committed fixture: %v", err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(rel), ".wasm"), func(b *testing.B) {
			b.SetBytes(int64(len(bin)))
			for b.Loop() {
				if _, err := Decode(bin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
