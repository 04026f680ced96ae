// Package snippets holds the test that runs the code blocks of the
// project's Markdown pages as written: README.md, the client READMEs and
// spec/protocol.md (see Pages in the test). There is no other code here.
//
// The test runs every fenced block from the repository root, with a freshly
// built chiphost first on PATH and a private HOME, cache and temporary
// directory (so no plugin under ~/.chipmunk/plugins is found):
//
//   - ```sh blocks with bash -euo pipefail, ```python blocks with python3
//     (clients/python on PYTHONPATH), ```js blocks with node (the Node
//     client installed where require('chiphost') finds it; its
//     dependencies come from `npm ci` in clients/node, which .ci/test runs
//     first).
//   - An ```output block right after a block is that block's expected
//     stdout, compared exactly. A block without one must print nothing.
//
// A comment on the line before a block changes what happens to it:
//
//	<!-- snippet: no-run (why) -->     not run: usage synopses, abridged shapes
//	<!-- snippet: ci FILE (why) -->    not run here: every line of the block is a line of FILE, which CI runs
//	<!-- snippet: session (why) -->    a command that reads JSON-RPC on stdin: every later ```ndjson
//	                                   block of the page is pasted into it, and its ```output lists the
//	                                   messages to wait for before the next paste (in any order;
//	                                   window/logMessage, sessions/updated in state running and
//	                                   searches/updated in state running or live are let
//	                                   through); after the last one it must exit with status 0
//	<!-- snippet: venv (why) -->       run in a new virtual environment (python3 -m venv
//	                                   --system-site-packages) from a copy of clients/python; the page's
//	                                   python blocks then run again in it, without PYTHONPATH
//
// Any other block (```json, a bare ```) must be marked no-run: an unmarked
// block the test does not know how to run fails it, as does a block that
// fails or prints something else than its output block.
package snippets
