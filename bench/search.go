package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// The patterns of section 8, on GenLog's words: a literal of two
// consecutive words (a few percent of the lines) and a regex whose
// required literal ("took ") a pre-filter can look for first.
const (
	searchLiteral = "ERROR disk"
	searchRegex   = `took [0-9]+ms`
)

// writeSearchLog writes a generated log of about size bytes to path: one
// GenLog block (at most 64 MiB, whole lines) written over and over, so a
// 1 GB file costs no 1 GB buffer. It returns the bytes written.
func writeSearchLog(path string, size int) (int64, error) {
	block := GenLog(min(size, 64<<20))
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	for n < int64(size) {
		if _, err := w.Write(block); err != nil {
			f.Close()
			return n, err
		}
		n += int64(len(block))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}

// grepCount runs `grep -c MODE -e pattern file` in the C locale (grep at
// its fastest; the patterns are ASCII, so the counts are the same in any
// locale) and returns the count.
func grepCount(ctx context.Context, mode, pattern, file string) (uint64, error) {
	cmd := exec.CommandContext(ctx, "grep", "-c", mode, "-e", pattern, file)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: no line selected
		return 0, fmt.Errorf("grep -c %s: %w", mode, err)
	}
	return strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
}

// grepRun times grepCount on the raw file.
func grepRun(mode, pattern, file string, size int64) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			n, err := grepCount(ctx, mode, pattern, file)
			return sample{Bytes: uint64(size), Items: n}, err
		})
	}
}

// cliGrepRun times `chiphost parse --parser text FILE --grep PATTERN
// --count` (args add --regex); the sample's Items are the count it prints.
func (b *bencher) cliGrepRun(file string, size int64, args ...string) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			cmd := exec.CommandContext(ctx, b.cfg.Exe, append([]string{"parse", "--no-default-plugins", "--cache-dir", b.CacheDir,
				"--progress", "never", "--parser", "text", file, "--count"}, args...)...)
			out, err := cmd.Output()
			if err != nil {
				return sample{}, fmt.Errorf("chiphost parse --grep: %w", err)
			}
			n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
			return sample{Bytes: uint64(size), Items: n}, err
		})
	}
}

// withCPU wraps run to append the CPU seconds clock advanced by during
// each run to out.
func withCPU(run func(context.Context) (sample, error), clock func() time.Duration, out *[]float64) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		c0 := clock()
		s, err := run(ctx)
		*out = append(*out, (clock() - c0).Seconds())
		return s, err
	}
}

// perCPUSecond turns the CPU seconds of the timed runs (the last n: the
// warm-up round comes first) into MB per CPU second.
func perCPUSecond(cpu []float64, n int, size int64) []float64 {
	var out []float64
	for _, c := range cpu[len(cpu)-n:] {
		if c > 0 {
			out = append(out, float64(size)/c/1e6)
		}
	}
	return out
}

// clientMatchRun is the baseline a client has without searches: grab every
// row of a finished session (pages of protocol.MaxGrabCount, decoded into
// protocol.Row) and match each line in the client.
func clientMatchRun(c *goReader, session string, rows uint64, size int64, match func(string) bool) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			var matches uint64
			for start := uint64(0); start < rows; {
				var r protocol.SessionsGrabResult
				if err := c.call(ctx, protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: session, Start: start, Count: protocol.MaxGrabCount}, &r); err != nil {
					return sample{}, err
				}
				if len(r.Items) == 0 {
					return sample{}, fmt.Errorf("grab at %d of %d rows: none", start, rows)
				}
				for _, row := range r.Items {
					if row.Line != nil && match(*row.Line) {
						matches++
					}
				}
				start += uint64(len(r.Items))
			}
			return sample{Bytes: uint64(size), Items: matches}, nil
		})
	}
}

// textSession opens a session on file with the built-in text parser and
// waits until it is done; it returns the session and its rows.
func (c *goReader) textSession(ctx context.Context, file string) (string, uint64, error) {
	s, err := c.openWith(ctx, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: file}, Parser: protocol.ParserSpec{Builtin: protocol.BuiltinText}}, nil)
	if err != nil {
		return "", 0, err
	}
	st := c.session(s)
	for {
		st.mu.Lock()
		state, rows := st.state, st.rows
		st.mu.Unlock()
		switch state {
		case protocol.StateDone:
			return s, rows, nil
		case protocol.StateFailed, protocol.StateClosed:
			return "", 0, fmt.Errorf("session %s", state)
		}
		select {
		case <-st.updated:
		case <-time.After(100 * time.Millisecond): // a safety net: updates may be coalesced
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
}

// searchServer spawns chiphost serve with no plugin root (the text parser
// is built in), initialised.
func (b *bencher) searchServer(ctx context.Context) (*goReader, error) {
	if b.cfg.Exe == "" {
		return nil, fmt.Errorf("no chiphost binary (Config.Exe)")
	}
	c, err := startServer(ctx, b.cfg.Exe, "--no-default-plugins", "--cache-dir", b.CacheDir, "--log-level", "error", "--temp-dir", b.TempDir())
	if err != nil {
		return nil, err
	}
	if _, err := c.initialize(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// openSearch opens a search of one query on session.
func (c *goReader) openSearch(ctx context.Context, session string, q protocol.SearchQuery) (string, error) {
	var r protocol.SearchesOpenResult
	err := c.call(ctx, protocol.MethodSearchesOpen, protocol.SearchesOpenParams{Session: session, Query: &q}, &r)
	return r.Search, err
}

// awaitSearch waits for the search's final searches/updated (done, failed
// or closed) and returns it.
func (c *goReader) awaitSearch(ctx context.Context, id string) (protocol.SearchesUpdatedParams, error) {
	st := c.search(id)
	for {
		st.mu.Lock()
		last := st.last
		st.mu.Unlock()
		switch last.State {
		case protocol.StateDone:
			return last, nil
		case protocol.StateFailed, protocol.StateClosed:
			return last, fmt.Errorf("search %s ended %s", id, last.State)
		}
		select {
		case <-st.updated:
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
}

func (c *goReader) closeSearch(ctx context.Context, id string) error {
	err := c.call(ctx, protocol.MethodSearchesClose, protocol.SearchesCloseParams{Search: id}, nil)
	c.mu.Lock()
	delete(c.searches, id)
	c.mu.Unlock()
	return err
}

// searchRun times a search from searches/open to its final
// searches/updated; the sample's Items are its matches.
func searchRun(c *goReader, session string, q protocol.SearchQuery, size int64) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			id, err := c.openSearch(ctx, session, q)
			if err != nil {
				return sample{}, err
			}
			last, err := c.awaitSearch(ctx, id)
			if cerr := c.closeSearch(ctx, id); err == nil {
				err = cerr
			}
			return sample{Bytes: uint64(size), Items: last.Matches}, err
		})
	}
}

// resetPeakRSS resets pid's VmHWM to its current RSS (Linux 4.0 on).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// searchPeakAdded runs a search with the server's peak RSS reset first and
// returns how much the peak rose above the RSS before it, in MiB, with the
// largest anonymous RSS seen (sampled every 5 ms) above that before it.
func (b *bencher) searchPeakAdded(ctx context.Context, c *goReader, session string, q protocol.SearchQuery, size int64) (total, anon float64, err error) {
	pid := c.pid()
	if err := resetPeakRSS(pid); err != nil {
		return 0, 0, err
	}
	before, anonBefore := procMiB(pid, "VmRSS"), procMiB(pid, "RssAnon")
	stop, polled := make(chan struct{}), make(chan float64)
	go func() {
		peak := anonBefore
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, procMiB(pid, "RssAnon"))
			select {
			case <-stop:
				polled <- peak
				return
			case <-t.C:
			}
		}
	}()
	_, err = searchRun(c, session, q, size)(ctx)
	close(stop)
	anonPeak := <-polled
	return procMiB(pid, "VmHWM") - before, anonPeak - anonBefore, err
}

// grabLatencies measures searches/grab of 100 matches while a parse (a
// second session on the same file) and a search run: the grabs read the
// running search's matches found so far, at random positions; a search
// that ends is replaced by a new one, until the parse ends or n grabs were
// timed. It returns the latencies in milliseconds.
func (b *bencher) grabLatencies(ctx context.Context, c *goReader, done, file string, q protocol.SearchQuery, n int) ([]float64, error) {
	parse, err := c.openWith(ctx, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: file}, Parser: protocol.ParserSpec{Builtin: protocol.BuiltinText}}, nil)
	if err != nil {
		return nil, err
	}
	defer c.closeSession(ctx, parse)
	ps := c.session(parse)
	parsing := func() bool {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		return ps.state == "" || ps.state == protocol.StateRunning
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var lat []float64
	id := ""
	defer func() {
		if id != "" {
			c.closeSearch(ctx, id)
		}
	}()
	for len(lat) < n && parsing() {
		var last protocol.SearchesUpdatedParams
		if id != "" {
			st := c.search(id)
			st.mu.Lock()
			last = st.last
			st.mu.Unlock()
		}
		if id == "" || last.State != protocol.StateRunning && last.State != "" {
			if id != "" {
				c.closeSearch(ctx, id)
			}
			if id, err = c.openSearch(ctx, done, q); err != nil {
				return lat, err
			}
			continue
		}
		st := c.search(id)
		if last.Matches < 100 {
			select {
			case <-st.updated:
			case <-ctx.Done():
				return lat, ctx.Err()
			}
			continue
		}
		start := rng.Uint64N(last.Matches - 99)
		var r protocol.SearchesGrabResult
		t := time.Now()
		err := c.call(ctx, protocol.MethodSearchesGrab, protocol.SearchesGrabParams{Search: id, Start: start, Count: 100}, &r)
		d := time.Since(t)
		if err != nil {
			return lat, err
		}
		if len(r.Items) != 100 {
			return lat, fmt.Errorf("searches/grab at %d of %d matches: %d items, want 100", start, last.Matches, len(r.Items))
		}
		lat = append(lat, float64(d.Microseconds())/1000)
	}
	return lat, nil
}

// idleGrabLatencies times n searches/grab of 100 matches at random
// positions of a finished search of q, with nothing else running, in
// milliseconds.
func idleGrabLatencies(ctx context.Context, c *goReader, session string, q protocol.SearchQuery, n int) ([]float64, error) {
	id, err := c.openSearch(ctx, session, q)
	if err != nil {
		return nil, err
	}
	defer c.closeSearch(ctx, id)
	last, err := c.awaitSearch(ctx, id)
	if err != nil {
		return nil, err
	}
	if last.Matches < 100 {
		return nil, fmt.Errorf("%d matches, want at least 100", last.Matches)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	lat := make([]float64, 0, n)
	for range n {
		var r protocol.SearchesGrabResult
		start := rng.Uint64N(last.Matches - 99)
		t := time.Now()
		if err := c.call(ctx, protocol.MethodSearchesGrab, protocol.SearchesGrabParams{Search: id, Start: start, Count: 100}, &r); err != nil {
			return lat, err
		}
		lat = append(lat, float64(time.Since(t).Microseconds())/1000)
		if len(r.Items) != 100 {
			return lat, fmt.Errorf("searches/grab at %d: %d items, want 100", start, len(r.Items))
		}
	}
	return lat, nil
}

func (b *bencher) searchSection(ctx context.Context) error {
	dir := b.TempDir()
	file := filepath.Join(dir, "search.log")
	size, err := writeSearchLog(file, b.Size(1<<30, 16<<20))
	if err != nil {
		return err
	}
	defer os.Remove(file)
	note := fmt.Sprintf("%d MB generated log, built-in text parser", size/1e6)
	srv, err := b.searchServer(ctx)
	if err != nil {
		return err
	}
	defer srv.close()
	t := time.Now()
	sess, rows, err := srv.textSession(ctx, file)
	if err != nil {
		return fmt.Errorf("parse the log: %w", err)
	}
	b.Logf("§8: %d rows parsed by the server in %.1fs", rows, time.Since(t).Seconds())

	lit := protocol.SearchQuery{Pattern: searchLiteral, CaseSensitive: true}
	re := protocol.SearchQuery{Pattern: searchRegex, Kind: protocol.QueryRegex, CaseSensitive: true}
	// CPU time: a child's once it was waited for; the server's from /proc.
	server := func() time.Duration { return procCPU(srv.pid()) }
	cpu := make([][]float64, 5)
	rs := []runner{
		{Name: "grep -c -F", Run: withCPU(grepRun("-F", searchLiteral, file, size), childrenCPU, &cpu[0])},
		{Name: "searches/open literal", Run: withCPU(searchRun(srv, sess, lit, size), server, &cpu[1])},
		{Name: "grep -c -E", Run: withCPU(grepRun("-E", searchRegex, file, size), childrenCPU, &cpu[2])},
		{Name: "searches/open regex", Run: withCPU(searchRun(srv, sess, re, size), server, &cpu[3])},
		{Name: "chiphost parse --grep --count", Run: withCPU(b.cliGrepRun(file, size, "--grep", searchLiteral), childrenCPU, &cpu[4])},
	}
	ss, err := b.Interleave(ctx, b.Runs(), rs)
	if err != nil {
		return err
	}
	for _, pair := range [][2]int{{0, 1}, {2, 3}, {0, 4}} {
		for _, s := range ss[pair[1]] {
			if want := ss[pair[0]][0].Items; s.Items != want {
				return fmt.Errorf("%s found %d matches, %s %d", rs[pair[1]].Name, s.Items, rs[pair[0]].Name, want)
			}
		}
	}
	gf := b.Figure(8, fmt.Sprintf("grep -c -F %q on the raw file", searchLiteral), "MB/s", benchkit.Map(ss[0], sample.MBps), note+"; LC_ALL=C; "+strconv.FormatUint(ss[0][0].Items, 10)+" lines")
	sf := b.Figure(8, fmt.Sprintf("searches/open literal %q → final searches/updated", searchLiteral), "MB/s", benchkit.Map(ss[1], sample.MBps), "finished session; the same matches as grep")
	ge := b.Figure(8, fmt.Sprintf("grep -c -E %q on the raw file", searchRegex), "MB/s", benchkit.Map(ss[2], sample.MBps), strconv.FormatUint(ss[2][0].Items, 10)+" lines")
	se := b.Figure(8, fmt.Sprintf("searches/open regex %q → final searches/updated", searchRegex), "MB/s", benchkit.Map(ss[3], sample.MBps), "the same matches as grep")
	cf := b.Figure(8, fmt.Sprintf("chiphost parse --parser text FILE --grep %q --count", searchLiteral), "MB/s", benchkit.Map(ss[4], sample.MBps), "parse and match, one process; the same count as grep")
	var perCPU []float64
	for i := range rs {
		perCPU = append(perCPU, b.Figure(8, rs[i].Name+", per CPU second", "MB/s-CPU", perCPUSecond(cpu[i], len(ss[i]), size), "user + system"))
	}
	b.Ratio(8, "literal search / grep -c -F", sf, gf, "≥ 0.5", "")
	b.Ratio(8, "literal search / grep -c -F, per CPU second", perCPU[1], perCPU[0], "", "")
	b.Ratio(8, "regex search / grep -c -E, per CPU second", perCPU[3], perCPU[2], "", "")
	b.Ratio(8, "chiphost parse --grep --count / grep -c -F", cf, gf, "", "the CLI parses the raw file as it matches")
	b.Ratio(8, "regex search / grep -c -E", se, ge, "≥ 0.3", "")

	// The client's baseline: one run, it takes tens of seconds per GB.
	var baseCPU []float64
	both := func() time.Duration { return procCPU(srv.pid()) + selfCPU() }
	match := func(s string) bool { return strings.Contains(s, searchLiteral) }
	base, err := b.Interleave(ctx, 1, []runner{{Name: "grab all + match in the Go client", Run: withCPU(clientMatchRun(srv, sess, rows, size, match), both, &baseCPU)}})
	if err != nil {
		return err
	}
	if got, want := base[0][0].Items, ss[0][0].Items; got != want {
		return fmt.Errorf("the Go client counted %d rows with %q, grep -c -F %d", got, searchLiteral, want)
	}
	cb := b.Figure(8, fmt.Sprintf("baseline: sessions/grab of every row + strings.Contains %q in the Go client", searchLiteral), "MB/s", benchkit.Map(base[0], sample.MBps), "one run, the same matches")
	b.Ratio(8, "literal search / the Go client's grab-all baseline", sf, cb, "≥ 20", "")
	cbc := b.Figure(8, "baseline, per CPU second of the server and the client", "MB/s-CPU", perCPUSecond(baseCPU, 1, size), "")
	b.Ratio(8, "literal search / the Go client's grab-all baseline, per CPU second", perCPU[1], cbc, "", "")

	var totals, anons []float64
	for range min(b.Runs(), 3) {
		total, anon, err := b.searchPeakAdded(ctx, srv, sess, lit, size)
		if err != nil {
			return fmt.Errorf("peak RSS: %w", err)
		}
		totals, anons = append(totals, total), append(anons, anon)
	}
	added := b.Figure(8, "server peak RSS added by a literal search (VmHWM after − VmRSS before)", "MiB", totals, "VmHWM reset through /proc/PID/clear_refs first")
	b.Figure(8, "server anonymous RSS added by a literal search (peak RssAnon − before)", "MiB", anons, "sampled every 5 ms")
	b.Ratio(8, "peak RSS added by a search / 64 MiB", added, 64, "≤ 1", "")

	idle, err := idleGrabLatencies(ctx, srv, sess, lit, b.Size(1000, 100))
	if err != nil {
		return fmt.Errorf("idle grab latency: %w", err)
	}
	b.Figure(8, "searches/grab of 100 matches, nothing else running: p50", "ms", []float64{percentile(idle, 50)}, fmt.Sprintf("%d grabs at random positions of a finished literal search: the round trip and the Go reader's decoding alone", len(idle)))

	lat, err := b.grabLatencies(ctx, srv, sess, file, re, b.Size(2000, 200))
	if err != nil {
		return fmt.Errorf("grab latency: %w", err)
	}
	if len(lat) < 10 {
		b.Skip(8, fmt.Sprintf("searches/grab latency: only %d grabs before the parse ended", len(lat)))
		return nil
	}
	p50 := b.Figure(8, "searches/grab of 100 matches while a search and a parse run: p50", "ms", []float64{percentile(lat, 50)}, fmt.Sprintf("%d grabs at random positions of the running regex search; a 2nd session parses the file", len(lat)))
	b.Figure(8, "searches/grab of 100 matches while a search and a parse run: p99", "ms", []float64{percentile(lat, 99)}, "")
	b.Ratio(8, "searches/grab p50 / 2 ms", p50, 2, "≤ 1", "")
	return nil
}
