package search

import (
	"bytes"
	"sort"
)

// scanPlan says how a matcher scans many rows at once: it searches the
// whole buffer for the literals of lits, so that only rows holding a hit are
// matched one by one; a row without a hit matches exactly when noHit. A plan
// without literals matches every row.
type scanPlan struct {
	lits  []planLiteral
	noHit bool
}

type planLiteral struct {
	literal
	scan    foldScanner
	hazards [][]byte // for a folded literal: runes outside ASCII that fold to it
	// decisive: a hit inside a row's text is a match of the whole filter
	// (a plain literal query, not inverted, whose result decides the filter).
	decisive bool
}

// planScan picks the literals: the union of every query's required literals
// when each query has some (a row without any hit then gives every query
// "no match"), else those of one query that decides the filter alone when it
// does not match (an inverted query of "any", a plain one of "all").
func planScan(m *Matcher) scanPlan {
	every := true
	for _, q := range m.queries {
		every = every && q.lits != nil
	}
	if every {
		p := scanPlan{noHit: m.all}
		for _, q := range m.queries {
			if m.all {
				p.noHit = p.noHit && q.invert
			} else {
				p.noHit = p.noHit || q.invert
			}
			decisive := q.exact && q.columns == nil && !q.invert && (!m.all || len(m.queries) == 1)
			for _, l := range q.lits {
				p.lits = append(p.lits, newPlanLiteral(l, decisive))
			}
		}
		return p
	}
	var best *queryMatcher
	for _, q := range m.queries {
		if q.lits != nil && q.invert != m.all && (best == nil || better(q.lits, best.lits)) {
			best = q
		}
	}
	if best == nil {
		return scanPlan{}
	}
	p := scanPlan{noHit: !m.all}
	for _, l := range best.lits {
		p.lits = append(p.lits, newPlanLiteral(l, false))
	}
	return p
}

func newPlanLiteral(l literal, decisive bool) planLiteral {
	pl := planLiteral{literal: l, decisive: decisive}
	if l.fold {
		pl.scan = newFoldScanner(l.text)
		pl.hazards = foldHazards(l.text)
	}
	return pl
}

// chunk is the records of consecutive rows in a store's text (see Store).
type chunk struct {
	buf     []byte   // the records
	base    uint64   // offset of buf[0] in the store's text
	entries []uint64 // the rows' index entries (record ends and flags)
}

func (c *chunk) recordStart(i int) int {
	if i == 0 {
		return 0
	}
	return int(entryEnd(c.entries[i-1]) - c.base)
}

func (c *chunk) recordEnd(i int) int { return int(entryEnd(c.entries[i]) - c.base) }

// scanner scans chunks for one matcher; it is not safe for concurrent use.
type scanner struct {
	m       *Matcher
	next    []int // per plan literal: its next hit in the chunk, -1 for none
	cursors []foldCursor
	cols    [][]byte
}

func newScanner(m *Matcher) *scanner {
	n := len(m.plan.lits)
	return &scanner{m: m, next: make([]int, n), cursors: make([]foldCursor, n), cols: make([][]byte, 0, 16)}
}

// scan calls emit with the position in c of every matching row, in order.
func (s *scanner) scan(c *chunk, emit func(i int)) {
	p := &s.m.plan
	if len(p.lits) == 0 || s.hazardIn(c.buf) {
		for i := range c.entries {
			if s.verify(c, i) {
				emit(i)
			}
		}
		return
	}
	for j := range p.lits {
		s.cursors[j] = foldCursor{}
		s.next[j] = p.lits[j].index(c.buf, 0, &p.lits[j].scan, &s.cursors[j])
	}
	i := 0 // the first row not decided yet
	for i < len(c.entries) {
		hit, j := s.firstHit()
		if hit < 0 {
			break
		}
		r := i + sort.Search(len(c.entries)-i, func(k int) bool { return c.recordEnd(i+k) > hit })
		if r == len(c.entries) {
			break
		}
		s.emitNoHit(i, r, emit)
		if s.decided(c, r, hit, j) || s.verify(c, r) {
			emit(r)
		}
		i = r + 1
		s.advance(c.buf, c.recordEnd(r))
	}
	s.emitNoHit(i, len(c.entries), emit)
}

func (s *scanner) emitNoHit(from, to int, emit func(int)) {
	if s.m.plan.noHit {
		for i := from; i < to; i++ {
			emit(i)
		}
	}
}

func (s *scanner) firstHit() (hit, lit int) {
	hit, lit = -1, -1
	for j, n := range s.next {
		if n >= 0 && (hit < 0 || n < hit) {
			hit, lit = n, j
		}
	}
	return hit, lit
}

// advance moves the literals' next hits to at or after pos.
func (s *scanner) advance(buf []byte, pos int) {
	lits := s.m.plan.lits
	for j, n := range s.next {
		if n >= 0 && n < pos {
			s.next[j] = lits[j].index(buf, pos, &lits[j].scan, &s.cursors[j])
		}
	}
}

// decided reports whether a hit of a decisive literal lies inside row r's
// text.
func (s *scanner) decided(c *chunk, r, hit, lit int) bool {
	l := &s.m.plan.lits[lit]
	if !l.decisive {
		return false
	}
	textStart, textEnd := c.recordStart(r), c.recordEnd(r)-1
	if entryHasHeader(c.entries[r]) {
		return false
	}
	return hit >= textStart && hit+len(l.text) <= textEnd
}

func (s *scanner) verify(c *chunk, i int) bool {
	r, ok := decodeRecord(c.buf[c.recordStart(i):c.recordEnd(i)], c.entries[i], s.cols)
	if !ok {
		return false
	}
	if r.cols != nil {
		s.cols = r.cols[:0]
	}
	return s.m.matchRow(r)
}

func (s *scanner) hazardIn(buf []byte) bool {
	for _, l := range s.m.plan.lits {
		for _, h := range l.hazards {
			if bytes.Contains(buf, h) {
				return true
			}
		}
	}
	return false
}
