package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// TestParseStringEncodings parses through the CLI with the WAT parser built
// with string-encoding=utf16 and latin1+utf16, each parse input of the
// oracle scenario utf16_lines in a file of its own, and compares the rows'
// columns with what the jco reference host returned for that call
// (scenarios/utf16_lines.expected.jsonl; jco runs the utf16 build, the
// latin1 build must give the same strings).
func TestParseStringEncodings(t *testing.T) {
	dir := repo("testdata/plugins/oracle/scenarios")
	raw, err := os.ReadFile(filepath.Join(dir, "utf16_lines.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Calls []struct {
			Fn   string            `json:"fn"`
			Args []json.RawMessage `json:"args"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	expected, err := os.ReadFile(filepath.Join(dir, "utf16_lines.expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var results []json.RawMessage // the result of each call, in order
	for s := bufio.NewScanner(bytes.NewReader(expected)); s.Scan(); {
		var line struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(s.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		results = append(results, line.Result)
	}
	if len(results) != len(sc.Calls) {
		t.Fatalf("%d expected results for %d calls", len(results), len(sc.Calls))
	}

	var prefix string
	parses := 0
	for i, c := range sc.Calls {
		switch c.Fn {
		case "init":
			var items []struct {
				Value struct {
					Val string `json:"val"`
				} `json:"value"`
			}
			if err := json.Unmarshal(c.Args[1], &items); err != nil || len(items) != 1 {
				t.Fatalf("init args: %v", err)
			}
			prefix = items[0].Value.Val
		case "parse":
			var data []byte
			var ints []int
			if err := json.Unmarshal(c.Args[0], &ints); err != nil {
				t.Fatal(err)
			}
			for _, b := range ints {
				data = append(data, byte(b))
			}
			input := filepath.Join(t.TempDir(), "input.log")
			if err := os.WriteFile(input, data, 0o644); err != nil {
				t.Fatal(err)
			}
			want := oracleColumns(t, results[i])
			for _, fx := range []string{"utf16_lines", "latin1_lines"} {
				plugin := repo("testdata/plugins/compat/" + fx + "/" + fx + ".wasm")
				out, errOut, code := runCLI(t, "", "parse", "--output", "jsonl", "--parser", plugin, "--config", "prefix="+prefix, input)
				if code != 0 {
					t.Fatalf("%s, call %d: exit %d: %s", fx, i, code, errOut)
				}
				var got [][]string
				for _, r := range jsonLines(t, out) {
					var cols []string
					for _, c := range r["columns"].([]any) {
						cols = append(cols, c.(string))
					}
					got = append(got, cols)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s, call %d: rows\n%q\nwant (jco)\n%q", fx, i, got, want)
				}
			}
			parses++
		}
	}
	if parses == 0 || prefix == "" {
		t.Fatal("the scenario has no init with a prefix or no parse call")
	}
}

// oracleColumns returns the columns of every item of a canonical-JSON parse
// result ok([...message(columns(...))]).
func oracleColumns(t *testing.T, result json.RawMessage) [][]string {
	t.Helper()
	var r struct {
		Ok []struct {
			Value struct {
				Some struct {
					Val struct {
						Tag string   `json:"tag"`
						Val []string `json:"val"`
					} `json:"val"`
				} `json:"some"`
			} `json:"value"`
		} `json:"ok"`
	}
	if err := json.Unmarshal(result, &r); err != nil || len(r.Ok) == 0 {
		t.Fatalf("oracle result %s: %v", result, err)
	}
	var out [][]string
	for _, it := range r.Ok {
		if it.Value.Some.Val.Tag != "columns" {
			t.Fatalf("oracle item is not a columns message: %s", result)
		}
		out = append(out, it.Value.Some.Val.Val)
	}
	return out
}

// TestInspectStringEncodings inspects the utf16 and latin1+utf16 builds of
// the WAT parser: the schema and column strings (Latin-1, BMP and a
// surrogate pair) are those jco lifted from the utf16 build (the first
// calls of scenarios/utf16_lines.expected.jsonl).
func TestInspectStringEncodings(t *testing.T) {
	expected, err := os.ReadFile(repo("testdata/plugins/oracle/scenarios/utf16_lines.expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var schemas, render struct {
		Result json.RawMessage `json:"result"`
	}
	lines := bytes.Split(expected, []byte("\n"))
	if len(lines) < 3 || json.Unmarshal(lines[1], &schemas) != nil || json.Unmarshal(lines[2], &render) != nil {
		t.Fatal("utf16_lines.expected.jsonl does not start with get-version, get-config-schemas, get-render-options")
	}
	var js []struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description struct {
			Some string `json:"some"`
		} `json:"description"`
		InputType struct {
			Val string `json:"val"`
		} `json:"input-type"`
	}
	var jr struct {
		ColumnsOptions struct {
			Some struct {
				Columns []struct {
					Caption     string `json:"caption"`
					Description string `json:"description"`
					Width       int    `json:"width"`
				} `json:"columns"`
			} `json:"some"`
		} `json:"columns-options"`
	}
	if json.Unmarshal(schemas.Result, &js) != nil || json.Unmarshal(render.Result, &jr) != nil || len(js) != 1 {
		t.Fatalf("oracle results: %s %s", schemas.Result, render.Result)
	}
	want := []string{js[0].ID, js[0].Title, js[0].Description.Some, js[0].InputType.Val}
	for _, c := range jr.ColumnsOptions.Some.Columns {
		want = append(want, c.Caption, c.Description, strconv.Itoa(c.Width))
	}
	for _, fx := range []string{"utf16_lines", "latin1_lines"} {
		out, errOut, code := runCLI(t, "", "inspect", repo("testdata/plugins/compat/"+fx+"/"+fx+".wasm"))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", fx, code, errOut)
		}
		var d struct {
			ConfigSchemas []struct {
				ID, Title, Description string
				InputType              struct {
					Default string `json:"default"`
				} `json:"inputType"`
			} `json:"configSchemas"`
			RenderOptions struct {
				Columns []struct {
					Caption, Description string
					Width                int
				} `json:"columns"`
			} `json:"renderOptions"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.ConfigSchemas) != 1 {
			t.Fatalf("%s: %v: %s", fx, err, out)
		}
		s := d.ConfigSchemas[0]
		got := []string{s.ID, s.Title, s.Description, s.InputType.Default}
		for _, c := range d.RenderOptions.Columns {
			got = append(got, c.Caption, c.Description, strconv.Itoa(c.Width))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: inspect gives %q, jco %q", fx, got, want)
		}
	}
}
