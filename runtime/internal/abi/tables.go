package abi

import "github.com/chiphost/chiphost/wit"

// DefaultMaxHandles bounds the live handles of one handle table when
// Tables.MaxHandles is 0. The canonical ABI allows up to 2^28; a plugin
// holding more than this many handles of one resource type at once is
// treated as a leak and trapped instead of growing the host's memory.
const DefaultMaxHandles = 1 << 16

// Tables holds one component instance's handle tables, one per resource
// type, and implements [Handles] for the Lifter and Lowerer of that
// instance. Handles are indexes into a table, starting at 1 (0 is never a
// handle); a dropped handle's index is reused by the next new one. Every
// misuse the canonical ABI traps on is an *Error: using a handle that is
// not in the table (never given, or dropped), passing a borrow where an
// own is expected, dropping or moving an own handle while it is lent to a
// call, returning a borrow from an import, and a full table.
//
// Destroy is called with the rep of every owned resource the guest drops
// and, on Close, of every one it still holds: it is where host-defined
// resources run their Go destructors. A Tables is not safe for concurrent
// use (an instance runs one call at a time).
type Tables struct {
	MaxHandles int
	Destroy    func(res *wit.Type, rep uint32)

	tables map[*wit.Type]*HandleTable
	lent   []lentHandle
}

type lentHandle struct {
	t *HandleTable
	h uint32
}

// HandleTable is the table of one resource type.
type HandleTable struct {
	entries []handleEntry // entries[0] is never used
	free    []uint32
	live    int
	max     int
}

type handleEntry struct {
	rep   uint32
	used  bool
	own   bool
	lends uint32 // calls the handle is lent to
}

// Table returns the table of resource res, creating it.
func (ts *Tables) Table(res *wit.Type) *HandleTable {
	t := ts.tables[res]
	if t == nil {
		if ts.tables == nil {
			ts.tables = map[*wit.Type]*HandleTable{}
		}
		t = &HandleTable{max: ts.MaxHandles}
		if t.max <= 0 {
			t.max = DefaultMaxHandles
		}
		ts.tables[res] = t
	}
	return t
}

// Len returns the number of live handles of resource res.
func (ts *Tables) Len(res *wit.Type) int {
	if t := ts.tables[res]; t != nil {
		return t.live
	}
	return 0
}

// LiftHandle implements [Handles].
func (ts *Tables) LiftHandle(res *wit.Type, own bool, h uint32) (uint32, error) {
	t := ts.Table(res)
	e, err := t.get(res, h)
	if err != nil {
		return 0, err
	}
	if !own {
		if e.own {
			e.lends++
			ts.lent = append(ts.lent, lentHandle{t, h})
		}
		return e.rep, nil
	}
	if !e.own {
		return 0, errorf("own<%s> expected, handle %d is a borrow", res.Name, h)
	}
	removed, err := t.remove(res, h)
	return removed.rep, err
}

// LowerHandle implements [Handles].
func (ts *Tables) LowerHandle(res *wit.Type, own bool, rep uint32) (uint32, error) {
	if !own {
		return 0, errorf("borrow<%s> cannot be returned to the guest: a borrow only lives for the call that received it", res.Name)
	}
	return ts.Table(res).add(res, rep, true)
}

// New gives the guest a new own handle for rep (canon resource.new, and
// what a host function returning own<res> does).
func (ts *Tables) New(res *wit.Type, rep uint32) (uint32, error) {
	return ts.Table(res).add(res, rep, true)
}

// Rep returns the rep of handle h without changing it (canon resource.rep).
func (ts *Tables) Rep(res *wit.Type, h uint32) (uint32, error) {
	e, err := ts.Table(res).get(res, h)
	if err != nil {
		return 0, err
	}
	return e.rep, nil
}

// Drop implements canon resource.drop: the handle leaves the table and, if
// it owned the resource, Destroy runs.
func (ts *Tables) Drop(res *wit.Type, h uint32) error {
	e, err := ts.Table(res).remove(res, h)
	if err != nil {
		return err
	}
	if e.own && ts.Destroy != nil {
		ts.Destroy(res, e.rep)
	}
	return nil
}

// EndCall ends the borrows lent during the current call.
func (ts *Tables) EndCall() {
	for _, l := range ts.lent {
		if l.h < uint32(len(l.t.entries)) && l.t.entries[l.h].lends > 0 {
			l.t.entries[l.h].lends--
		}
	}
	ts.lent = ts.lent[:0]
}

// Close destroys every resource the guest still owns and empties the tables.
func (ts *Tables) Close() {
	for res, t := range ts.tables {
		for h := range t.entries {
			if e := t.entries[h]; e.used && e.own && ts.Destroy != nil {
				ts.Destroy(res, e.rep)
			}
		}
	}
	ts.tables = nil
	ts.lent = nil
}

func (t *HandleTable) add(res *wit.Type, rep uint32, own bool) (uint32, error) {
	if t.live >= t.max {
		return 0, errorf("handle table of %s is full (%d handles): the plugin does not drop its handles", res.Name, t.max)
	}
	e := handleEntry{rep: rep, used: true, own: own}
	t.live++
	if n := len(t.free); n > 0 {
		h := t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[h] = e
		return h, nil
	}
	if len(t.entries) == 0 {
		t.entries = append(t.entries, handleEntry{}) // 0 is never a handle
	}
	t.entries = append(t.entries, e)
	return uint32(len(t.entries) - 1), nil
}

func (t *HandleTable) get(res *wit.Type, h uint32) (*handleEntry, error) {
	if h == 0 || h >= uint32(len(t.entries)) || !t.entries[h].used {
		return nil, errorf("%s handle %d is not in the table (never given to the plugin, or already dropped)", res.Name, h)
	}
	return &t.entries[h], nil
}

func (t *HandleTable) remove(res *wit.Type, h uint32) (handleEntry, error) {
	e, err := t.get(res, h)
	if err != nil {
		return handleEntry{}, err
	}
	if e.lends > 0 {
		return handleEntry{}, errorf("%s handle %d is lent to a call (borrowed) and cannot be dropped or moved", res.Name, h)
	}
	old := *e
	*e = handleEntry{}
	t.free = append(t.free, h)
	t.live--
	return old, nil
}
