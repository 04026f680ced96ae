package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
)

// writeMetadata writes dir/p.toml and returns the path of dir/p.wasm (which
// ReadMetadata never opens).
func writeMetadata(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "p.wasm")
}

// TestReadMetadataValid reads metadata files that are valid TOML. The
// hand-written subset parser that came before the TOML library failed the
// first case (multi-line array), kept the line-ending backslash of the third
// and did not unescape the quoted key of the fourth; the others guard
// unicode, comments, dotted keys, tables and values of other types.
func TestReadMetadataValid(t *testing.T) {
	tests := []struct {
		name, toml, title string
		desc              *string
	}{
		{"multi-line array and comments", "# plugin metadata\ntags = [\n  \"a\", # first\n  \"b\",\n]\ntitle = \"Tagged\" # trailing comment\n", "Tagged", nil},
		{"unicode and escapes", "title = \"Größe \\u2713 \\U0001F600\"\ndescription = 'C:\\path ✓'\n", "Größe ✓ 😀", ptr(`C:\path ✓`)},
		{"line-ending backslash", "title = \"T\"\ndescription = \"\"\"\nfirst \\\n    second\"\"\"\n", "T", ptr("first second")},
		{"quoted key", "\"tit\\u006ce\" = \"Quoted\"\n", "Quoted", nil},
		{"title after a dotted key and before a table", "meta.version = 2\ntitle = \"Dotted\"\n[extra]\ntitle = 5\n", "Dotted", nil},
		{"inline table and other types ignored", "limits = { max = 3 }\nenabled = true\ntitle = \"Typed\"\ndescription = \"d\"\n", "Typed", ptr("d")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := ReadMetadata(writeMetadata(t, tc.toml))
			if len(md.Warnings) != 0 || md.Missing {
				t.Fatalf("warnings %q, missing %v", md.Warnings, md.Missing)
			}
			if md.Title != tc.title || !equalPtr(md.Description, tc.desc) {
				t.Errorf("title %q description %v, want %q %v", md.Title, deref(md.Description), tc.title, deref(tc.desc))
			}
		})
	}
}

// TestReadMetadataInvalid checks that an unusable metadata file gives one
// warning naming the file (and, for TOML errors, the line), bounded in
// size, and that the title falls back to the plugin's name. The subset
// parser accepted invalid UTF-8 as a title and read files of any size.
func TestReadMetadataInvalid(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string // substrings of the warning
	}{
		{"unterminated array", "title = \"T\"\ntags = [\n  \"a\",\n", []string{"p.toml", "line 3", `"tags"`}},
		{"duplicate key", "title = \"A\"\ntitle = \"B\"\n", []string{"p.toml", "line 2", "already been defined"}},
		{"title of another type", "description = \"d\"\ntitle = 5\n", []string{"p.toml", "line 2", `"title"`, "type"}},
		{"description of another type", "title = \"T\"\ndescription = [\"d\"]\n", []string{"p.toml", "line 2", `"description"`}},
		{"missing title", "description = \"d\"\n", []string{"p.toml", "missing field `title`"}},
		{"bare value", "title = hello\n", []string{"p.toml", "line 1"}},
		{"title too long", "title = \"" + strings.Repeat("x", 2049) + "\"\n", []string{"p.toml", "title longer than 2048 bytes"}},
		{"description too long", "title = \"T\"\ndescription = \"" + strings.Repeat("x", 10241) + "\"\n", []string{"p.toml", "description longer than 10240 bytes"}},
		{"file too large", "title = \"T\"\n" + strings.Repeat("# padding\n", 110_000), []string{"p.toml", "larger than 1048576 bytes"}},
		{"huge invalid value", "title = \"T\"\ndescription = " + strings.Repeat("é", 50_000) + "\n", []string{"p.toml", "line 2", "bytes)"}},
		{"invalid UTF-8", "title = \"\xff\"\n", []string{"p.toml", "line 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := ReadMetadata(writeMetadata(t, tc.toml))
			if md.Title != "p" || md.Description != nil || md.Missing {
				t.Errorf("title %q description %v missing %v, want the fallback title p", md.Title, deref(md.Description), md.Missing)
			}
			if len(md.Warnings) != 1 {
				t.Fatalf("warnings %q, want one", md.Warnings)
			}
			w := md.Warnings[0]
			for _, s := range tc.want {
				if !strings.Contains(w, s) {
					t.Errorf("warning %q does not mention %q", w, s)
				}
			}
			if len(w) > 400 {
				t.Errorf("warning is %d bytes long, want it bounded", len(w))
			}
		})
	}
}

// TestReadMetadataMissing: no file is no warning (a .wasm file given by
// path), but Discover warns about an installed plugin without one.
func TestReadMetadataMissing(t *testing.T) {
	md := ReadMetadata(filepath.Join(t.TempDir(), "lonely.wasm"))
	if md.Title != "lonely" || !md.Missing || len(md.Warnings) != 0 {
		t.Errorf("got %+v, want title lonely, missing, no warnings", md)
	}
}

// TestDiscoverInvalidMetadata installs the string_parser fixture three
// times, with a TOML file using a multi-line array, with an invalid one and
// with none: all three are valid plugins; the first has its title and
// description, the others fall back to the directory name with the reason
// in their warnings.
func TestDiscoverInvalidMetadata(t *testing.T) {
	h := newTestHost(t, nil)
	root := t.TempDir()
	wasm, err := os.ReadFile(fixture(t, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	install := func(name, toml string) {
		dir := filepath.Join(root, "parsers", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		if toml != "" {
			if err := os.WriteFile(filepath.Join(dir, name+".toml"), []byte(toml), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	install("good", "title = \"Good ✓\"\ntags = [\n  \"a\",\n]\ndescription = \"\"\"\nTwo\nlines\"\"\"\n")
	install("bad", "title = \"Bad\"\ntags = [\n")
	install("none", "")
	got := map[string]*Entry{}
	for _, e := range h.Discover(context.Background(), []string{root}) {
		got[e.Name] = e
	}
	for _, name := range []string{"good", "bad", "none"} {
		if e := got[name]; e == nil || !e.Valid() {
			t.Fatalf("%s: want a valid entry, got %+v", name, e)
		}
	}
	if e := got["good"]; e.Title != "Good ✓" || deref(e.Description) != "Two\nlines" || len(e.Warnings) != 0 {
		t.Errorf("good: title %q description %q warnings %q", e.Title, deref(e.Description), e.Warnings)
	}
	if e := got["bad"]; e.Title != "bad" || len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "parsing metadata file bad.toml failed: line 2") {
		t.Errorf("bad: title %q warnings %q", e.Title, e.Warnings)
	}
	if e := got["none"]; e.Title != "none" || len(e.Warnings) != 1 || e.Warnings[0] != "metadata file not found: none.toml" {
		t.Errorf("none: title %q warnings %q", e.Title, e.Warnings)
	}
}

func ptr(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func equalPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
