package abi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

var (
	pollable  = &wit.Type{Kind: wit.Resource, Name: "pollable", Owner: "wasi:io/poll@0.2.0"}
	stream    = &wit.Type{Kind: wit.Resource, Name: "output-stream", Owner: "wasi:io/streams@0.2.0"}
	ownPoll   = &wit.Type{Kind: wit.Own, Elem: pollable}
	borrowPol = &wit.Type{Kind: wit.Borrow, Elem: pollable}
)

// destroyed records the Destroy calls of a Tables.
type destroyed []uint32

func (d *destroyed) tables() *Tables {
	return &Tables{Destroy: func(res *wit.Type, rep uint32) { *d = append(*d, rep) }}
}

func wantABIError(t *testing.T, err error, part string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Error(), part) {
		t.Fatalf("error %v, want an *abi.Error containing %q", err, part)
	}
}

func TestTablesLifecycle(t *testing.T) {
	var d destroyed
	ts := d.tables()
	h1, _ := ts.New(pollable, 100)
	h2, _ := ts.New(pollable, 200)
	hs, _ := ts.New(stream, 300)
	if h1 != 1 || h2 != 2 || hs != 1 {
		t.Fatalf("handles %d %d %d, want 1 2 1 (numbered from 1, one table per resource type)", h1, h2, hs)
	}
	if rep, err := ts.Rep(pollable, h2); err != nil || rep != 200 {
		t.Fatalf("Rep = %d, %v", rep, err)
	}
	if err := ts.Drop(pollable, h1); err != nil || len(d) != 1 || d[0] != 100 {
		t.Fatalf("Drop: %v, destroyed %v", err, d)
	}
	if h, _ := ts.New(pollable, 400); h != h1 {
		t.Errorf("new handle %d, want the freed index %d", h, h1)
	}
	ts.Close()
	if len(d) != 4 {
		t.Errorf("Close destroyed %v, want all three live resources too", d)
	}
}

func TestTablesMisuse(t *testing.T) {
	var d destroyed
	ts := d.tables()
	h, _ := ts.New(pollable, 7)

	// Using a dropped handle, and a handle never given.
	if err := ts.Drop(pollable, h); err != nil {
		t.Fatal(err)
	}
	wantABIError(t, ts.Drop(pollable, h), "not in the table")
	_, err := ts.LiftHandle(pollable, false, h)
	wantABIError(t, err, "not in the table")
	_, err = ts.LiftHandle(pollable, true, 0)
	wantABIError(t, err, "handle 0 is not in the table")

	// Dropping (or moving) a handle while it is lent to a call.
	h, _ = ts.New(pollable, 8)
	if rep, err := ts.LiftHandle(pollable, false, h); err != nil || rep != 8 {
		t.Fatalf("borrow: %d, %v", rep, err)
	}
	wantABIError(t, ts.Drop(pollable, h), "lent to a call")
	_, err = ts.LiftHandle(pollable, true, h)
	wantABIError(t, err, "lent to a call")
	ts.EndCall()
	if err := ts.Drop(pollable, h); err != nil {
		t.Fatalf("drop after the call ended: %v", err)
	}

	// Returning a borrow.
	_, err = ts.LowerHandle(pollable, false, 9)
	wantABIError(t, err, "cannot be returned")

	// Table exhaustion.
	small := &Tables{MaxHandles: 3}
	for i := 0; i < 3; i++ {
		if _, err := small.New(pollable, uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = small.New(pollable, 3)
	wantABIError(t, err, "is full (3 handles)")
	if small.Len(pollable) != 3 {
		t.Errorf("Len = %d after a refused add", small.Len(pollable))
	}
}

// TestHandlesThroughABI lowers an import result holding own handles and
// lifts them back as own and borrow parameters, as the runtime does for a
// host function returning pollables and one taking them.
func TestHandlesThroughABI(t *testing.T) {
	var d destroyed
	ts := d.tables()
	m := newFakeMem(1 << 12)
	w := m.lowerer()
	w.Handles = ts
	res := &wit.Type{Kind: wit.Result, Ok: &wit.Type{Kind: wit.List, Elem: ownPoll}, Err: ownPoll}
	ptr := uint32(64)
	v := Value{Num: 0, Elems: []Value{{Elems: []Value{num(11), num(22)}}}}
	if err := w.LowerTo(context.Background(), res, v, ptr); err != nil {
		t.Fatal(err)
	}
	if ts.Len(pollable) != 2 {
		t.Fatalf("%d handles after lowering two own values", ts.Len(pollable))
	}
	l := &Lifter{Handles: ts}
	fn := &wit.Func{Name: "f", Params: []wit.Param{{Name: "b", Type: &wit.Type{Kind: wit.List, Elem: borrowPol}}, {Name: "o", Type: ownPoll}}}
	sig := ImportSignature(fn)
	args, err := l.LiftParams(m, &sig, []uint64{uint64(m.next), 0, 2})
	if err != nil || args[1].Num != 22 {
		t.Fatalf("lift own: %v %v", args, err)
	}
	if ts.Len(pollable) != 1 {
		t.Errorf("the own handle stayed in the table")
	}
	_, err = l.LiftParams(m, &sig, []uint64{0, 0, 2})
	wantABIError(t, err, "o: pollable handle 2 is not in the table")
	if _, err := (&Lifter{}).LiftParams(m, &sig, []uint64{0, 0, 1}); err == nil {
		t.Error("a handle lifted without tables")
	}
	if len(d) != 0 {
		t.Errorf("moving handles to the host destroyed %v", d)
	}
}

// FuzzHandleTable runs random sequences of table operations and checks the
// invariants: handles are never 0, a live handle maps to its rep, a freed
// one is refused, a lent handle cannot be removed, nothing panics, and every
// owned rep is destroyed exactly once (by Drop or Close).
func FuzzHandleTable(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3, 1, 4, 0, 5})
	f.Add([]byte{0, 3, 3, 2, 2, 4, 1, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		destroyedReps := map[uint32]int{}
		ts := &Tables{MaxHandles: 8, Destroy: func(_ *wit.Type, rep uint32) { destroyedReps[rep]++ }}
		live := map[uint32]uint32{} // handle -> rep
		lent := map[uint32]bool{}
		next := uint32(1)
		for i, op := range ops {
			arg := uint32(0)
			if i+1 < len(ops) {
				arg = uint32(ops[i+1] % 10)
			}
			switch op % 6 {
			case 0: // new
				h, err := ts.New(pollable, next)
				if len(live) >= 8 {
					if err == nil {
						t.Fatalf("table of 8 took a 9th handle")
					}
					continue
				}
				if err != nil || h == 0 || live[h] != 0 {
					t.Fatalf("New: %d, %v (live %v)", h, err, live)
				}
				live[h] = next
				next++
			case 1: // drop
				err := ts.Drop(pollable, arg)
				switch {
				case live[arg] == 0 || lent[arg]:
					if err == nil {
						t.Fatalf("Drop(%d) succeeded (live %v, lent %v)", arg, live, lent)
					}
				case err != nil:
					t.Fatalf("Drop(%d): %v", arg, err)
				default:
					delete(live, arg)
				}
			case 2: // borrow
				rep, err := ts.LiftHandle(pollable, false, arg)
				if (live[arg] == 0) != (err != nil) || (err == nil && rep != live[arg]) {
					t.Fatalf("borrow %d: %d, %v (live %v)", arg, rep, err, live)
				}
				if err == nil {
					lent[arg] = true
				}
			case 3: // move to the host
				rep, err := ts.LiftHandle(pollable, true, arg)
				ok := live[arg] != 0 && !lent[arg]
				if ok != (err == nil) || (ok && rep != live[arg]) {
					t.Fatalf("move %d: %d, %v (live %v, lent %v)", arg, rep, err, live, lent)
				}
				if ok {
					delete(live, arg)
				}
			case 4: // end of call
				ts.EndCall()
				clear(lent)
			case 5: // rep
				rep, err := ts.Rep(pollable, arg)
				if (live[arg] == 0) != (err != nil) || (err == nil && rep != live[arg]) {
					t.Fatalf("rep %d: %d, %v", arg, rep, err)
				}
			}
			if ts.Len(pollable) != len(live) {
				t.Fatalf("Len %d, want %d", ts.Len(pollable), len(live))
			}
		}
		ts.Close()
		for rep, n := range destroyedReps {
			if n != 1 {
				t.Fatalf("rep %d destroyed %d times", rep, n)
			}
		}
	})
}
