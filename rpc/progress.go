package rpc

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// parseReportEvery is the shortest gap between two reports of a session's
// parse progress (at most 10 per second).
const parseReportEvery = 100 * time.Millisecond

// listWithProgress is plugins/list (force false) or plugins/reload, with
// $/progress for a workDoneToken: begin, a report for each plugin that the
// listing compiles, and end, all before the response.
func (s *Server) listWithProgress(ctx context.Context, p *protocol.PluginsListParams, force bool) *protocol.PluginsListResult {
	prog := newProgress(s, p.WorkDoneToken)
	prog.begin("listing plugins")
	res := s.listResult(runtime.WithCompileTrace(ctx, prog.compileTrace()), force)
	prog.end(fmt.Sprintf("%d plugins", len(res.Plugins)))
	return res
}

// compileTrace reports every plugin compilation that does real work (see
// runtime.CompileTrace) as a report "compiling NAME (SIZE), first use
// only". These reports are not coalesced: each names a different plugin.
// It returns nil when the request carried no token.
func (p *progress) compileTrace() *runtime.CompileTrace {
	if p.token == nil {
		return nil
	}
	return &runtime.CompileTrace{Start: func(i runtime.CompileInfo) {
		p.send(protocol.ProgressValue{Kind: "report", Message: compileMessage(i)})
	}}
}

// compileMessage says which plugin is compiled and how large it is; "first
// use only" when the result is cached on disk.
func compileMessage(i runtime.CompileInfo) string {
	msg := fmt.Sprintf("compiling %s (%.1f MB)", i.Plugin, float64(i.Size)/1e6)
	if i.Cached {
		msg += ", first use only"
	}
	return msg
}

// parseProgress sends a session's parse progress under the progressToken of
// its sessions/open: begin before the response, reports while the session
// runs, end when its parse loop has ended (done, failed or closed).
type parseProgress struct {
	s     *Server
	sess  *session
	token any
	total int64         // size of a regular file source; -1 when unknown
	moved chan struct{} // signalled (cap 1) when the driver reports stats
}

// startParseProgress sends the begin of a session's parse progress and
// starts the goroutine that reports the rest. It does nothing without a
// token. The total is known for a regular file that is not followed. Call
// it before the parse loop starts.
func (s *Server) startParseProgress(sess *session, token any, src protocol.SourceSpec) {
	if token == nil {
		return
	}
	total := int64(-1)
	if !src.Follow {
		total = regularFileSize(src.File)
	}
	pp := &parseProgress{s: s, sess: sess, token: token, total: total, moved: make(chan struct{}, 1)}
	sess.parseProgress = pp
	begin := protocol.ProgressValue{Kind: "begin", Title: "parsing " + sess.id}
	if pp.total >= 0 {
		begin.Percentage = new(0)
	}
	pp.send(begin)
	go pp.run(begin)
}

// regularFileSize returns the size of a regular file, else -1.
func regularFileSize(path string) int64 {
	if path == "" {
		return -1
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// signal tells the reporting goroutine that the stats moved (nil-safe; it
// never blocks the parse loop).
func (pp *parseProgress) signal() {
	if pp == nil {
		return
	}
	select {
	case pp.moved <- struct{}{}:
	default:
	}
}

func (pp *parseProgress) send(v protocol.ProgressValue) {
	pp.s.notify(protocol.MethodProgress, protocol.ProgressParams{Token: pp.token, Value: v})
}

// run reports until the session's parse loop ends, at most every
// parseReportEvery and only when what it would say changed: the
// percentage of the file read, or (without a known total, or once a file
// grew past its size) the bytes read. begin is what was sent first.
func (pp *parseProgress) run(begin protocol.ProgressValue) {
	last := protocol.ProgressValue{Kind: "report", Percentage: begin.Percentage}
	var lastSent time.Time
	for {
		select {
		case <-pp.sess.done:
			pp.finish(last)
			return
		case <-pp.moved:
		}
		if wait := parseReportEvery - time.Since(lastSent); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-pp.sess.done:
				t.Stop()
				pp.finish(last)
				return
			case <-t.C:
			}
		}
		pp.sess.mu.Lock()
		st := pp.sess.stats
		pp.sess.mu.Unlock()
		if v := pp.report(st); v.Message != last.Message || !samePercentage(v.Percentage, last.Percentage) {
			pp.send(v)
			last, lastSent = v, time.Now()
		}
	}
}

// report is the report for the stats so far: the percentage of the file
// read (with the rows as message), or the bytes read and rows when the
// total is unknown or was passed (a file that grows).
func (pp *parseProgress) report(st driver.Stats) protocol.ProgressValue {
	if pp.total >= 0 && st.Bytes <= uint64(pp.total) {
		pct := 100
		if pp.total > 0 {
			pct = int(st.Bytes * 100 / uint64(pp.total))
		}
		return protocol.ProgressValue{Kind: "report", Percentage: &pct}
	}
	if st.Bytes == 0 && st.Items > 0 { // a producer: rows, and no bytes chiphost read
		return protocol.ProgressValue{Kind: "report", Message: fmt.Sprintf("%d rows", st.Items)}
	}
	return protocol.ProgressValue{Kind: "report", Message: fmt.Sprintf("%.1f MB read, %d rows", float64(st.Bytes)/1e6, st.Items)}
}

// finish sends the end of the series once the parse loop has ended (its
// state is final then). A session that parsed its whole file first gets a
// report of 100%, if the last one said less.
func (pp *parseProgress) finish(last protocol.ProgressValue) {
	pp.sess.mu.Lock()
	state, st, err := pp.sess.state, pp.sess.stats, pp.sess.err
	pp.sess.mu.Unlock()
	if state == protocol.StateDone && pp.total >= 0 && (last.Percentage == nil || *last.Percentage != 100) {
		pp.send(protocol.ProgressValue{Kind: "report", Percentage: new(100)})
	}
	msg := fmt.Sprintf("%s: %d rows", state, st.Items)
	if state == protocol.StateFailed && err != nil {
		msg = "failed: " + err.Error()
	}
	pp.send(protocol.ProgressValue{Kind: "end", Message: msg})
}

func samePercentage(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
