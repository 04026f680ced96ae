package rpc

import (
	"fmt"
	"sync"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// searchProgress sends a search's $/progress under the progressToken of
// its searches/open: begin before the response, reports while it runs (at
// most every parseReportEvery, when what they say changed), end when it
// ends (done, failed or closed). A nil *searchProgress (no token) sends
// nothing.
type searchProgress struct {
	s     *Server
	token any
	title string
	total int64 // rows of a finished session; -1 while the session may grow

	mu       sync.Mutex
	begun    bool
	ended    bool
	lastSent time.Time
	last     protocol.ProgressValue
}

func newSearchProgress(s *Server, id string, token any, total int64) *searchProgress {
	if token == nil {
		return nil
	}
	return &searchProgress{s: s, token: token, title: "searching " + id, total: total}
}

func (sp *searchProgress) send(v protocol.ProgressValue) {
	sp.s.notify(protocol.MethodProgress, protocol.ProgressParams{Token: sp.token, Value: v})
}

// begin sends the begin of the series (once).
func (sp *searchProgress) begin() {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.beginLocked()
}

func (sp *searchProgress) beginLocked() {
	if sp.begun {
		return
	}
	sp.begun = true
	v := protocol.ProgressValue{Kind: "begin", Title: sp.title}
	if sp.total >= 0 {
		v.Percentage = new(0)
	}
	sp.send(v)
}

// report sends a report of p, unless one was sent less than
// parseReportEvery ago or it would say the same.
func (sp *searchProgress) report(p protocol.SearchesUpdatedParams) {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.ended || time.Since(sp.lastSent) < parseReportEvery {
		return
	}
	v := protocol.ProgressValue{Kind: "report", Message: fmt.Sprintf("%d matches in %d rows", p.Matches, p.RowsSearched)}
	if sp.total >= 0 {
		pct := 100
		if sp.total > 0 {
			pct = int(min(p.RowsSearched, uint64(sp.total)) * 100 / uint64(sp.total))
		}
		v.Percentage = &pct
	}
	if v.Message == sp.last.Message && samePercentage(v.Percentage, sp.last.Percentage) {
		return
	}
	sp.beginLocked()
	sp.send(v)
	sp.last, sp.lastSent = v, time.Now()
}

// finish sends the end of the series (once), with the final state and
// counts; the begin first if it was not sent yet. A search of a finished
// session that ends done gets a last report of 100% first.
func (sp *searchProgress) finish(p protocol.SearchesUpdatedParams) {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.ended {
		return
	}
	sp.beginLocked()
	sp.ended = true
	if p.State == protocol.StateDone && sp.total >= 0 && (sp.last.Percentage == nil || *sp.last.Percentage != 100) {
		sp.send(protocol.ProgressValue{Kind: "report", Message: fmt.Sprintf("%d matches in %d rows", p.Matches, p.RowsSearched), Percentage: new(100)})
	}
	msg := fmt.Sprintf("%s: %d matches in %d rows", p.State, p.Matches, p.RowsSearched)
	if p.State == protocol.StateFailed && p.Error != nil {
		msg = "failed: " + p.Error.Detail
	}
	sp.send(protocol.ProgressValue{Kind: "end", Message: msg})
}
