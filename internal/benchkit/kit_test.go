package benchkit

import "testing"

func TestStatsAndRatios(t *testing.T) {
	med, lo, hi := Stats([]float64{3, 1, 2, 10})
	if med != 2.5 || lo != 1 || hi != 10 {
		t.Fatalf("Stats = %v %v %v", med, lo, hi)
	}
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Ratio(1, "x", 1, 2, "≥ 0.5", ""); v != 0.5 || !*b.rep.Ratios[0].Met {
		t.Fatalf("ratio = %v met %v", v, *b.rep.Ratios[0].Met)
	}
	if b.Ratio(1, "y", 3, 2, "≤ 1.4", ""); *b.rep.Ratios[1].Met {
		t.Fatal("1.5 ≤ 1.4 met")
	}
	if rep := b.Close(); len(rep.Ratios) != 2 {
		t.Fatalf("report has %d ratios, want 2", len(rep.Ratios))
	}
}
