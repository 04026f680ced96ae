package snippets

import (
	"strings"
	"testing"
)

// TestParseBlocks pins how blocks and their marks are read.
func TestParseBlocks(t *testing.T) {
	page := strings.Join([]string{
		"# Title",
		"<!-- snippet: no-run (usage) -->",
		"```sh",
		"chiphost inspect PLUGIN",
		"```",
		"Prose between a mark and a block: the mark does not count.",
		"<!-- snippet: ci .ci/run (why) -->",
		"",
		"```sh",
		"bash .ci/test",
		"```",
		"```output",
		"```",
		"````md",
		"```js",
		"````",
	}, "\n")
	blocks, err := parseBlocks("p.md", page)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		line       int
		lang, word string
		arg, text  string
	}
	want := []got{
		{3, "sh", "no-run", "", "chiphost inspect PLUGIN\n"},
		{9, "sh", "ci", ".ci/run", "bash .ci/test\n"},
		{12, "output", "", "", ""},
		{14, "md", "", "", "```js\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks, want %d: %+v", len(blocks), len(want), blocks)
	}
	for i, b := range blocks {
		if g := (got{b.line, b.lang, b.mark.word, b.mark.arg, b.text}); g != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, g, want[i])
		}
	}

	for _, bad := range []string{
		"<!-- snippet: norun -->\n```sh\nx\n```\n",       // a typo must not turn into a run block
		"<!-- snippet: no-run FILE -->\n```sh\nx\n```\n", // reasons go in parentheses
		"<!-- snippet: ci -->\n```sh\nx\n```\n",          // ci names the script
		"<!-- snippet no-run -->\n```sh\nx\n```\n",       // malformed
		"```sh\nnever closed\n",
	} {
		if _, err := parseBlocks("p.md", bad); err == nil {
			t.Errorf("parseBlocks(%q) accepted it", bad)
		}
	}
}

// TestChecker runs pages whose blocks fail in each way the checker must
// catch, and one that passes.
func TestChecker(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, page string
		wantErr    string // "" for a page that passes
	}{
		{"output matches", "```sh\necho hi\n```\n```output\nhi\n```\n", ""},
		{"silent block", "```sh\ntrue\n```\n", ""},
		{"python on PYTHONPATH", "```python\nimport chiphost\nprint(chiphost.__version__)\n```\n```output\n0.1.0\n```\n", ""},
		{"other output", "```sh\necho hi\n```\n```output\nbye\n```\n", "printed"},
		{"output without an output block", "```sh\necho hi\n```\n", "printed"},
		{"failing block", "```sh\necho hi; exit 3\n```\n```output\nhi\n```\n", "exit status 3"},
		{"chiphost fails", "```sh\nchiphost parse --parser nope.wasm examples/sample.log\n```\n", "failed"},
		{"unmarked block of no runnable language", "```json\n{\"a\": 1}\n```\n", "no way to run"},
		{"bare fence", "```\n> {}\n```\n", "no way to run"},
		{"ci line not in the script", "<!-- snippet: ci .ci/run -->\n```sh\nbash .ci/other\n```\n", "not a line of .ci/run"},
		{"stray output block", "```output\nx\n```\n", "must follow"},
		{"ndjson without a session", "```ndjson\n{}\n```\n```output\n{}\n```\n", "needs a `session` block"},
		{"session answers differ", "<!-- snippet: session -->\n```sh\nchiphost --framing ndjson --no-default-plugins\n```\n" +
			"```ndjson\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n```\n" +
			"```output\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"serverInfo\":{\"name\":\"other\"}}}\n```\n", "unexpected message"},
		{"session exits with status 1", "<!-- snippet: session -->\n```sh\nchiphost --framing ndjson --no-default-plugins\n```\n" +
			"```ndjson\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}\n```\n" +
			"```output\n{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32002,\"message\":\"server not initialized: send initialize first\"}}\n```\n", "exit status 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blocks, err := parseBlocks("test.md", c.page)
			if err != nil {
				t.Fatal(err)
			}
			errs := e.runPage(t, blocks)
			switch {
			case c.wantErr == "" && len(errs) > 0:
				t.Errorf("want no error, got %v", errs)
			case c.wantErr != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), c.wantErr)):
				t.Errorf("want an error containing %q, got %v", c.wantErr, errs)
			}
		})
	}
}
