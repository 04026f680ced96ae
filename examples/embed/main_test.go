package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

const stringParser = "../../testdata/plugins/parsers/string_parser/string_parser.wasm"

// TestMain_sample runs the example on examples/sample.log, as its doc
// comment shows, and checks every row.
func TestMain_sample(t *testing.T) {
	sample, err := os.ReadFile("../sample.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sample), "\n"), "\n")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"wasm path", []string{"-plugin", stringParser, "-config", "prefix=>", "../sample.log"}},
		{"discovered", []string{"-plugins-dir", t.TempDir() + "/root", "-plugin", "string_parser", "-config", "prefix=>", "../sample.log"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "discovered" {
				// A root holding only string_parser (js_string_parser is slow to load).
				root := tt.args[1]
				if err := os.MkdirAll(root+"/parsers", 0o755); err != nil {
					t.Fatal(err)
				}
				abs, _ := os.Getwd()
				if err := os.Symlink(abs+"/../../testdata/plugins/parsers/string_parser", root+"/parsers/string_parser"); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			if err := run(context.Background(), tt.args, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			var want strings.Builder
			for i, l := range lines {
				fmt.Fprintf(&want, "%d\t%d | > %s\n", i, len("> "+l), l)
			}
			if out.String() != want.String() {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), want.String())
			}
			if !strings.Contains(errOut.String(), fmt.Sprintf("%d rows from %d bytes", len(lines), len(sample))) {
				t.Errorf("stats missing from stderr:\n%s", errOut.String())
			}
			if !strings.Contains(errOut.String(), "[string_parser ") {
				t.Errorf("plugin logs missing from stderr:\n%s", errOut.String())
			}
		})
	}
}

func TestMain_errors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "usage"},
		{"bad config type", []string{"-plugin", stringParser, "-config", "integer_idx=abc", "../sample.log"}, "integer_idx"},
		{"unknown config id", []string{"-plugin", stringParser, "-config", "nope=1", "../sample.log"}, "nope: no such configuration item"},
		{"missing file", []string{"-plugin", stringParser, "missing.log"}, "missing.log"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
