package search

import "testing"

// TestTailReusedOnlyWhenReleased: a spilled tail a reader still holds is not
// reused (its bytes stay as the reader saw them); once released, it is.
func TestTailReusedOnlyWhenReleased(t *testing.T) {
	st := newStore(t)
	line := make([]byte, 1000)
	for i := range line {
		line[i] = 'a' + byte(i%26)
	}
	row := uint64(0)
	fill := func() { // appends until the tail spills
		for spilled := st.view(); ; row++ {
			v := st.view()
			v.release()
			if v.spilledRows > spilled.spilledRows {
				spilled.release()
				return
			}
			if err := st.Append(row, Text{Line: line}); err != nil {
				t.Fatal(err)
			}
		}
	}
	held := st.view() // holds the first tail
	fill()            // the first tail is written and retired, still held
	fill()            // the second tail is retired; the first could not be reused
	if held.tail == st.tail || len(st.retired) != 2 {
		t.Fatalf("held tail current or retired %d", len(st.retired))
	}
	first := held.tail
	held.release()
	fill() // now the first tail is reused
	if st.tail != first {
		t.Fatal("the released tail was not reused")
	}
}
