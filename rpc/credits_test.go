package rpc

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestCreditsSaturate checks the window arithmetic: granting past 2^64-1
// leaves the window at 2^64-1 instead of wrapping to a few rows.
func TestCreditsSaturate(t *testing.T) {
	sess := &session{creditCh: make(chan struct{}, 1)}
	sess.addCredits(math.MaxUint64)
	sess.addCredits(7)
	if sess.credits != math.MaxUint64 {
		t.Fatalf("2^64-1 + 7 credits: window %d", sess.credits)
	}
	if got := sess.takeCredits(10); got != 10 {
		t.Fatalf("took %d of 10", got)
	}
	sess.returnCredits(11)
	if sess.credits != math.MaxUint64 {
		t.Fatalf("returning past 2^64-1: window %d", sess.credits)
	}
}

// TestStreamCreditsSaturate streams a live session (rows written to the
// server's --input-fd as the test goes) with a window of 2^64-1, then,
// once 10 rows have arrived (window 2^64-11), grants 11 more: a wrapping
// counter would leave a window of 0 and the stream would stop; a
// saturating one sends the 10 rows written afterwards and ends with all 20.
func TestStreamCreditsSaturate(t *testing.T) {
	watchdog(t, 60*time.Second)
	c, w := startWithInput(t)
	var (
		mu       sync.Mutex
		received int
		first10  = make(chan struct{})
		all20    = make(chan struct{})
	)
	c.onNote = func(method string, params json.RawMessage) {
		if method != protocol.MethodSessionsItems {
			return
		}
		var p protocol.SessionsItemsParams
		if json.Unmarshal(params, &p) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		before := received
		received += len(p.Items)
		if before < 10 && received >= 10 {
			close(first10)
		}
		if before < 20 && received >= 20 {
			close(all20)
		}
	}
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{Stdin: true}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	lines := func(from int) string {
		var b strings.Builder
		for i := from; i < from+10; i++ {
			fmt.Fprintf(&b, "row %d\n", i)
		}
		return b.String()
	}
	if _, err := w.WriteString(lines(0)); err != nil {
		t.Fatal(err)
	}
	type result struct {
		sr  protocol.SessionsStreamResult
		err error
	}
	res := make(chan result, 1)
	go func() {
		var sr protocol.SessionsStreamResult
		err := c.call(protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: open.Session, Credits: protocol.StreamWindow(math.MaxUint64)}, &sr)
		res <- result{sr, err}
	}()
	<-first10
	c.notify(protocol.MethodSessionsCredit, protocol.SessionsCreditParams{Session: open.Session, Credits: protocol.Credits{Rows: 11}})
	if _, err := w.WriteString(lines(10)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A wrapped window stops the stream for good: the wait below would then
	// give up near the test deadline.
	testutil.Await(t, all20, "all 20 rows (the stream stops when its window wraps)")
	if r := <-res; r.err != nil || r.sr.Rows != 20 || r.sr.State != protocol.StateDone {
		t.Fatalf("stream result %+v (%v), want 20 rows, done", r.sr, r.err)
	}
}

// TestStreamDefaultCredits checks that credits without rows mean the
// default window, not 0 rows: the stream sends every row of a small
// finished session and answers.
func TestStreamDefaultCredits(t *testing.T) {
	watchdog(t, 60*time.Second)
	input := writeLines(t, 100)
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	c.waitFinal(open.Session, 30*time.Second)
	for _, credits := range []string{`{}`, `{"rows":null}`, `null`} {
		var sr protocol.SessionsStreamResult
		params := json.RawMessage(`{"session":"` + open.Session + `","credits":` + credits + `}`)
		c.mustCall(protocol.MethodSessionsStream, params, &sr)
		if sr.Rows != 100 || sr.State != protocol.StateDone {
			t.Errorf("credits %s: stream result %+v, want all 100 rows", credits, sr)
		}
	}
}
