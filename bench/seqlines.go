package bench

import (
	"bytes"
	"math"
	"slices"
	"time"
)

// seqLines makes numbered log lines for the live-source figures: each is
// "seq=NNNNNNNNNN " (ten digits, from 0) followed by a line of GenLog
// without its \r, so that a reader can tell which line a row came from and
// every line is one row for the text parser and the string_parser alike.
type seqLines struct {
	bodies [][]byte
	next   uint64
}

// seqDigits is the width of the number after "seq=".
const seqDigits = 10

func newSeqLines() *seqLines {
	var bodies [][]byte
	for _, l := range bytes.Split(GenLog(1<<20), []byte{'\n'}) {
		if l = bytes.TrimSuffix(l, []byte{'\r'}); len(l) > 0 {
			bodies = append(bodies, l)
		}
	}
	return &seqLines{bodies: bodies}
}

// appendLine appends the next line, newline included.
func (g *seqLines) appendLine(dst []byte) []byte {
	dst = append(dst, "seq="...)
	var num [seqDigits]byte
	for i, v := seqDigits-1, g.next; i >= 0; i, v = i-1, v/10 {
		num[i] = byte('0' + v%10)
	}
	dst = append(dst, num[:]...)
	dst = append(dst, ' ')
	dst = append(dst, g.bodies[g.next%uint64(len(g.bodies))]...)
	g.next++
	return append(dst, '\n')
}

// parseSeq finds "seq=" near the start of a row's text (the string_parser
// puts a column before the line) and returns the number after it.
func parseSeq[T ~string | ~[]byte](b T) (uint64, bool) {
	for i := 0; i+4+seqDigits <= len(b) && i < 32; i++ {
		if b[i] != 's' || b[i+1] != 'e' || b[i+2] != 'q' || b[i+3] != '=' {
			continue
		}
		var v uint64
		for j := i + 4; j < i+4+seqDigits; j++ {
			c := b[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + uint64(c-'0')
		}
		return v, true
	}
	return 0, false
}

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// millis converts durations to milliseconds.
func millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}
