package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chiphost/chiphost/internal/loggen"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// Searches driven through the real binary: counts against grep over the
// same generated log, ranges against the rows' text, a live session, grabs
// while a search runs, nearest, close and the errors.

// openSession opens a session of the built-in text parser on path.
func (c *client) openSession(path string, follow bool) string {
	c.t.Helper()
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: path, Follow: follow}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	return open.Session
}

// openSearch opens a search of one query.
func (c *client) openSearch(session string, q protocol.SearchQuery) string {
	c.t.Helper()
	var res protocol.SearchesOpenResult
	c.mustCall(protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: session, Query: &q}, &res)
	return res.Search
}

// searchUpdates returns the searches/updated notifications of search
// received so far, in order.
func (c *client) searchUpdates(search string) []protocol.SearchesUpdatedParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []protocol.SearchesUpdatedParams
	for _, n := range c.notes {
		var p protocol.SearchesUpdatedParams
		if n.method == protocol.MethodSearchesUpdated && json.Unmarshal(n.params, &p) == nil && p.Search == search {
			out = append(out, p)
		}
	}
	return out
}

// waitSearch waits for a searches/updated of search that matches pred.
func (c *client) waitSearch(search string, pred func(protocol.SearchesUpdatedParams) bool) protocol.SearchesUpdatedParams {
	c.t.Helper()
	var u protocol.SearchesUpdatedParams
	raw := c.waitNote(60*time.Second, func(n note) bool {
		var p protocol.SearchesUpdatedParams
		return n.method == protocol.MethodSearchesUpdated && json.Unmarshal(n.params, &p) == nil && p.Search == search && pred(p)
	})
	json.Unmarshal(raw, &u)
	return u
}

func (c *client) waitSearchState(search, state string) protocol.SearchesUpdatedParams {
	c.t.Helper()
	return c.waitSearch(search, func(p protocol.SearchesUpdatedParams) bool { return p.State == state })
}

// searchGrab grabs matches [start, start+count).
func (c *client) searchGrab(search string, start, count uint64) []protocol.SearchItem {
	c.t.Helper()
	var res protocol.SearchesGrabResult
	c.mustCall(protocol.MethodSearchesGrab, protocol.SearchesGrabParams{Search: search, Start: start, Count: count}, &res)
	return res.Items
}

// searchGrabAll grabs every match found so far, page by page.
func (c *client) searchGrabAll(search string) []protocol.SearchItem {
	c.t.Helper()
	var all []protocol.SearchItem
	for {
		items := c.searchGrab(search, uint64(len(all)), protocol.MaxGrabCount)
		if len(items) == 0 {
			return all
		}
		all = append(all, items...)
	}
}

// grepRows returns the 0-based numbers of the lines of path that grep
// selects with args (LC_ALL=C: bytes, ASCII case folding), or skips the
// test when grep is missing.
func grepRows(t *testing.T, path string, args ...string) []uint64 {
	t.Helper()
	bin, err := exec.LookPath("grep")
	if err != nil {
		t.Skip("grep is not installed: the counts are compared with grep's")
	}
	cmd := exec.Command(bin, append(append([]string{"-a", "-n"}, args...), "--", path)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: no line selected
		t.Fatalf("grep %v: %v", args, err)
	}
	var rows []uint64
	for line := range strings.Lines(string(out)) {
		num, _, _ := strings.Cut(line, ":")
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			t.Fatalf("grep output %q", line)
		}
		rows = append(rows, n-1)
	}
	return rows
}

func itemRows(items []protocol.SearchItem) []uint64 {
	out := make([]uint64, len(items))
	for i, it := range items {
		out[i] = it.Index
	}
	return out
}

// TestSearchCountsMatchGrep searches the repository's mixed log and a
// generated one (both with multi-byte UTF-8, CRLF lines and invalid UTF-8)
// for literals and regexes, folded or not, whole words and inverted, and
// checks that the rows found are exactly the lines grep selects, and that
// every range of a literal is the pattern in the row's line.
func TestSearchCountsMatchGrep(t *testing.T) {
	watchdog(t, 120*time.Second)
	generated := filepath.Join(t.TempDir(), "gen.log")
	if err := os.WriteFile(generated, loggen.Log(2<<20, true), 0o644); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{})
	c.initialize(nil)
	for _, path := range []string{mustAbs("../testdata/logs/mixed.log"), generated} {
		t.Run(filepath.Base(path), func(t *testing.T) { searchLikeGrep(t, c, path) })
	}
}

func searchLikeGrep(t *testing.T, c *client, path string) {
	sid := c.openSession(path, false)
	rows := c.waitFinal(sid, 60*time.Second).Rows
	cases := []struct {
		q    protocol.SearchQuery
		grep []string
	}{
		{protocol.SearchQuery{Pattern: "ERROR", CaseSensitive: true}, []string{"-F", "ERROR"}},
		{protocol.SearchQuery{Pattern: "error"}, []string{"-i", "-F", "error"}},
		{protocol.SearchQuery{Pattern: "日本語 ok", CaseSensitive: true}, []string{"-F", "日本語 ok"}},
		{protocol.SearchQuery{Pattern: "ok", CaseSensitive: true, WholeWord: true}, []string{"-w", "-F", "ok"}},
		{protocol.SearchQuery{Pattern: "INFO", CaseSensitive: true, Invert: true}, []string{"-v", "-F", "INFO"}},
		{protocol.SearchQuery{Pattern: `id=4[0-9] took`, Kind: protocol.QueryRegex, CaseSensitive: true}, []string{"-E", `id=4[0-9] took`}},
		{protocol.SearchQuery{Pattern: `warn .*disk`, Kind: protocol.QueryRegex}, []string{"-i", "-E", `warn .*disk`}},
		{protocol.SearchQuery{Pattern: "timeout"}, []string{"-i", "-F", "timeout"}},
		{protocol.SearchQuery{Pattern: `^[0-9-]+T[0-9:.]+Z (ERROR|WARN) `, Kind: protocol.QueryRegex, CaseSensitive: true}, []string{"-E", `^[0-9-]+T[0-9:.]+Z (ERROR|WARN) `}},
	}
	for _, tc := range cases {
		want := grepRows(t, path, tc.grep...)
		q := c.openSearch(sid, tc.q)
		final := c.waitSearch(q, func(p protocol.SearchesUpdatedParams) bool { return !active(p.State) })
		if final.State != protocol.StateDone || final.RowsSearched != rows || final.Matches != uint64(len(want)) {
			t.Errorf("%+v: final %+v; want done, %d rows searched, %d matches (grep %v)", tc.q, final, rows, len(want), tc.grep)
			continue
		}
		items := c.searchGrabAll(q)
		if got := itemRows(items); !slices.Equal(got, want) {
			t.Errorf("%+v: %d rows found, grep selects %d; first difference near %v", tc.q, len(got), len(want), firstDiff(got, want))
			continue
		}
		checkLiteralRanges(t, tc.q, items)
	}
	checkReplacementChars(t, c, sid, rows)
}

// checkReplacementChars checks that a search for U+FFFD finds exactly the
// rows whose text, as sessions/grab gives it, holds one: invalid UTF-8
// reaches the search store replaced as the row's JSON has it.
func checkReplacementChars(t *testing.T, c *client, sid string, rows uint64) {
	t.Helper()
	var want []uint64
	for start := uint64(0); start < rows; {
		var res protocol.SessionsGrabResult
		c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: sid, Start: start, Count: protocol.MaxGrabCount}, &res)
		start += uint64(len(res.Items)) // fewer at the frame cap
		for _, r := range res.Items {
			if r.Line != nil && strings.ContainsRune(*r.Line, utf8.RuneError) {
				want = append(want, r.Index)
			}
		}
	}
	q := c.openSearch(sid, protocol.SearchQuery{Pattern: string(utf8.RuneError), CaseSensitive: true})
	c.waitSearchState(q, protocol.StateDone)
	if got := itemRows(c.searchGrabAll(q)); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("U+FFFD: search found rows %v, grab shows it in rows %v", got, want)
	}
}

func firstDiff(a, b []uint64) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "match " + strconv.Itoa(i) + ": " + strconv.FormatUint(a[i], 10) + " vs " + strconv.FormatUint(b[i], 10)
		}
	}
	return "the end"
}

// checkLiteralRanges checks that the ranges of a literal query's items
// cover exactly its non-overlapping occurrences in each line (an inverted
// query has none).
func checkLiteralRanges(t *testing.T, q protocol.SearchQuery, items []protocol.SearchItem) {
	t.Helper()
	if q.Kind == protocol.QueryRegex {
		return
	}
	for _, it := range items {
		line := *it.Line
		want := 0
		if !q.Invert {
			want = countFolded(line, q.Pattern, q.CaseSensitive)
		}
		if q.WholeWord {
			want = len(it.Ranges) // the occurrences inside words are not matches; each range is checked below
		}
		if len(it.Ranges) != want {
			t.Fatalf("%+v: row %d %q: %d ranges, want %d", q, it.Index, line, len(it.Ranges), want)
		}
		for _, r := range it.Ranges {
			got := line[r.Start:r.End]
			if r.Column != nil || !(got == q.Pattern || !q.CaseSensitive && strings.EqualFold(got, q.Pattern)) {
				t.Fatalf("%+v: row %d: range %+v is %q", q, it.Index, r, got)
			}
			if q.WholeWord && (r.Start > 0 && isWordByte(line[r.Start-1]) || r.End < len(line) && isWordByte(line[r.End])) {
				t.Fatalf("%+v: row %d: range %+v is inside a word: %q", q, it.Index, r, line)
			}
		}
	}
}

// countFolded counts the non-overlapping occurrences of an ASCII pattern.
func countFolded(s, pattern string, caseSensitive bool) int {
	if !caseSensitive {
		s, pattern = asciiLower(s), asciiLower(pattern)
	}
	return strings.Count(s, pattern)
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestSearchLiveSession searches a followed file: the search goes live
// with the matches of the file as it was, keeps up with lines appended
// later (updates, grab and nearest see them), and closing the session
// closes the search first: its closed update comes before the session's,
// and it never reports done.
func TestSearchLiveSession(t *testing.T) {
	watchdog(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "app.log")
	appendTo(t, path, "boot ok\nerror: disk\nok\n")
	c := start(t, startOpts{})
	c.initialize(nil)
	sid := c.openSession(path, true)
	c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State == protocol.StateLive })
	q := c.openSearch(sid, protocol.SearchQuery{Pattern: "error"})
	// The scan reports a chunk (running) before it notices it has caught
	// up (live): wait for the live update of those rows.
	u := c.waitSearch(q, func(p protocol.SearchesUpdatedParams) bool {
		return p.RowsSearched == 3 && p.State == protocol.StateLive
	})
	if u.State != protocol.StateLive || u.Matches != 1 {
		t.Fatalf("after the first rows: %+v; want live with 1 match", u)
	}

	appendTo(t, path, "retry\nERROR again\n")
	u = c.waitSearch(q, func(p protocol.SearchesUpdatedParams) bool {
		return p.RowsSearched == 5 && p.State == protocol.StateLive
	})
	if u.State != protocol.StateLive || u.Matches != 2 {
		t.Fatalf("after the append: %+v; want live with 2 matches", u)
	}
	if got := itemRows(c.searchGrab(q, 0, 10)); !slices.Equal(got, []uint64{1, 4}) {
		t.Fatalf("grab after the append: rows %v, want [1 4]", got)
	}
	var near protocol.SearchesNearestResult
	c.mustCall(protocol.MethodSearchesNearest, protocol.SearchesNearestParams{Search: q, Row: 2, Direction: protocol.DirectionForward}, &near)
	if !near.Found || *near.Match != 1 || *near.Row != 4 {
		t.Fatalf("nearest forward from row 2: %+v", near)
	}

	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: sid}, nil)
	c.mu.Lock()
	var order []string
	for _, n := range c.notes {
		var p struct{ Search, Session, State string }
		json.Unmarshal(n.params, &p)
		if p.State == protocol.StateClosed && (n.method == protocol.MethodSearchesUpdated || n.method == protocol.MethodSessionsUpdated) {
			order = append(order, n.method)
		}
	}
	c.mu.Unlock()
	if !slices.Equal(order, []string{protocol.MethodSearchesUpdated, protocol.MethodSessionsUpdated}) {
		t.Fatalf("closed updates in the order %v; want the search's, then the session's", order)
	}
	for _, u := range c.searchUpdates(q) {
		if u.State == protocol.StateDone || u.State == protocol.StateFailed {
			t.Fatalf("a search of a followed session reported %+v", u)
		}
	}
	if ups := c.searchUpdates(q); ups[len(ups)-1].State != protocol.StateClosed || ups[len(ups)-1].Matches != 2 {
		t.Fatalf("last update %+v", ups[len(ups)-1])
	}
	wireErr(t, c.call(protocol.MethodSearchesGrab, protocol.SearchesGrabParams{Search: q, Count: 1}, nil), protocol.CodeNotFound)
}

// TestSearchGrabWhileSearching grabs pages while a search and the parse of
// its session run: every page is the start of the final list of matches
// (positions keep naming the same rows), and the search ends done with
// one final update.
func TestSearchGrabWhileSearching(t *testing.T) {
	watchdog(t, 120*time.Second)
	path := filepath.Join(t.TempDir(), "gen.log")
	if err := os.WriteFile(path, loggen.Log(8<<20, false), 0o644); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{})
	c.initialize(nil)
	sid := c.openSession(path, false)
	q := c.openSearch(sid, protocol.SearchQuery{Pattern: "request took", CaseSensitive: true})
	var pages [][]uint64
	for {
		pages = append(pages, itemRows(c.searchGrab(q, 0, 100)))
		if ups := c.searchUpdates(q); len(ups) > 0 && !active(ups[len(ups)-1].State) {
			break
		}
	}
	final := c.waitSearchState(q, protocol.StateDone)
	sess := c.waitFinal(sid, 60*time.Second)
	if final.RowsSearched != sess.Rows {
		t.Fatalf("search done after %d rows, the session has %d", final.RowsSearched, sess.Rows)
	}
	all := itemRows(c.searchGrabAll(q))
	if uint64(len(all)) != final.Matches {
		t.Fatalf("%d matches grabbed, the final update says %d", len(all), final.Matches)
	}
	for i, p := range pages {
		if !slices.Equal(p, all[:len(p)]) {
			t.Fatalf("page %d grabbed while searching %v is not the start of the final matches", i, p)
		}
	}
	done := 0
	for _, u := range c.searchUpdates(q) {
		if u.State == protocol.StateDone {
			done++
		}
	}
	if done != 1 {
		t.Fatalf("%d updates with state done, want 1", done)
	}
	t.Logf("%d grabs while searching %d rows", len(pages), sess.Rows)
}

// TestSearchNearest checks searches/nearest from every row of a small
// session, both ways, against the matching rows, and past the ends.
func TestSearchNearest(t *testing.T) {
	watchdog(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "in.log")
	lines := []string{"a", "hit", "b", "c", "hit", "hit", "d"}
	appendTo(t, path, strings.Join(lines, "\n")+"\n")
	c := start(t, startOpts{})
	c.initialize(nil)
	sid := c.openSession(path, false)
	c.waitFinal(sid, 30*time.Second)
	q := c.openSearch(sid, protocol.SearchQuery{Pattern: "hit"})
	c.waitSearchState(q, protocol.StateDone)
	matches := []uint64{1, 4, 5}
	for row := uint64(0); row < 9; row++ {
		for _, dir := range []string{protocol.DirectionForward, protocol.DirectionBackward} {
			want := -1
			for i, m := range matches {
				if dir == protocol.DirectionForward && m >= row && want < 0 {
					want = i
				}
				if dir == protocol.DirectionBackward && m <= row {
					want = i
				}
			}
			var got protocol.SearchesNearestResult
			c.mustCall(protocol.MethodSearchesNearest, protocol.SearchesNearestParams{Search: q, Row: row, Direction: dir}, &got)
			switch {
			case want < 0 && got.Found:
				t.Errorf("row %d %s: found %d/%d, want none", row, dir, *got.Match, *got.Row)
			case want >= 0 && (!got.Found || *got.Match != uint64(want) || *got.Row != matches[want]):
				t.Errorf("row %d %s: %+v, want match %d (row %d)", row, dir, got, want, matches[want])
			}
		}
	}
}

// TestSearchCloseAndErrors: closing a running search sends exactly one
// final update (closed) and ends its progress series with closed; an
// invalid regex is -32602 with the reason; a session holds at most
// MaxSearchesPerSession searches (-31905, code searches); a search on a
// closed session is -31901.
func TestSearchCloseAndErrors(t *testing.T) {
	watchdog(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "app.log")
	appendTo(t, path, "x\n")
	c := start(t, startOpts{})
	c.initialize(nil)
	sid := c.openSession(path, true)
	c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State == protocol.StateLive })
	var res protocol.SearchesOpenResult
	c.mustCall(protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: sid, Query: &protocol.SearchQuery{Pattern: "x"}, ProgressToken: "p1"}, &res)
	q := res.Search
	c.waitSearchState(q, protocol.StateLive)
	c.mustCall(protocol.MethodSearchesClose, protocol.SearchesCloseParams{Search: q}, nil)
	ups := c.searchUpdates(q) // complete: the close answers after the final update
	if last := ups[len(ups)-1]; last.State != protocol.StateClosed || last.Matches != 1 {
		t.Fatalf("last update %+v", last)
	}
	end := c.waitNote(30*time.Second, func(n note) bool {
		return n.method == protocol.MethodProgress && strings.Contains(string(n.params), `"end"`)
	})
	if !bytes.Contains(end, []byte(`"closed: 1 matches in 1 rows"`)) {
		t.Fatalf("progress end %s", end)
	}
	wireErr(t, c.call(protocol.MethodSearchesClose, protocol.SearchesCloseParams{Search: q}, nil), protocol.CodeNotFound)

	err := c.call(protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: sid, Queries: []protocol.SearchQuery{{Pattern: "ok"}, {Pattern: "(unclosed", Kind: protocol.QueryRegex}}}, nil)
	d := wireErr(t, err, protocol.CodeInvalidParams)
	if d.Kind != "config" || len(d.Errors) != 1 || d.Errors[0].Field != "queries[1].pattern" || !strings.Contains(d.Errors[0].Message, "missing closing )") {
		t.Fatalf("invalid regex: data %+v", d)
	}
	if d.Position != nil && *d.Position < 0 {
		t.Fatalf("invalid regex: position %d", *d.Position)
	}

	for range protocol.MaxSearchesPerSession {
		c.openSearch(sid, protocol.SearchQuery{Pattern: "x"})
	}
	err = c.call(protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: sid, Query: &protocol.SearchQuery{Pattern: "x"}}, nil)
	if d := wireErr(t, err, protocol.CodeLimitReached); d.Kind != "limit" || d.Code != "searches" {
		t.Fatalf("search %d: data %+v", protocol.MaxSearchesPerSession+1, d)
	}

	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: sid}, nil)
	wireErr(t, c.call(protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: sid, Query: &protocol.SearchQuery{Pattern: "x"}}, nil), protocol.CodeNotFound)
}
