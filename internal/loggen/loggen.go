// Package loggen generates the deterministic logs that tests and benchmarks
// parse: lines of 49–185 characters, about 3 % with multi-byte UTF-8, every
// 13th ending in "\r". It imports only the standard library.
package loggen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Log returns about size bytes of log. With dirty, every 97th line also
// carries invalid UTF-8 (an overlong lead, a stray 0xFF, a truncated
// sequence).
func Log(size int, dirty bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"INFO", "WARN", "ERROR", "net:", "disk", "ünïcødé", "→", "request", "id=42", "took", "3ms", "日本語", "ok"}
	var b bytes.Buffer
	b.Grow(size + 256)
	for i := 0; b.Len() < size; i++ {
		n := 49 + r.IntN(137)
		start := b.Len()
		fmt.Fprintf(&b, "%08d ", i)
		for b.Len()-start < n {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		if dirty && i%97 == 3 {
			b.Write([]byte{0xE0, 0x80, 'x', 0xFF, 0xF0, 0x9F, 0x98})
		}
		if i%13 == 0 {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Edges returns a log of at least size bytes (size > 2*window), every line
// ending in "\n", laid out against a parser fed windows of window bytes from
// the start: lines of 1 to 300 bytes with multi-byte UTF-8 (2, 3 and 4
// bytes), one line ending exactly at offset window (the first cut), and a
// 3-byte character straddling offset cut2 = window + the start of that line
// (the second cut, for a parser that starts its second window there). It
// returns cut2 too.
func Edges(size, window int) ([]byte, int) {
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"INFO", "req", "é", "日本語", "😀", "took", "3ms", "ünïcødé", "→", "ok"}
	var b bytes.Buffer
	b.Grow(size + 512)
	cut2 := -1
	for i := 0; b.Len() < size; i++ {
		start := b.Len()
		n := 1 + r.IntN(300)
		switch {
		case start < window && start+n+16 >= window: // 16: a word may run past n
			// This line ends exactly at the first cut.
			b.WriteString(strings.Repeat("a", window-start-1))
			b.WriteByte('\n')
			cut2 = start + window
			continue
		case cut2 > 0 && start < cut2 && start+n+16 >= cut2:
			// "日" has one byte before the second cut and two after it.
			b.WriteString(strings.Repeat("b", cut2-1-start))
			b.WriteString("日 straddles the second cut\n")
			cut2 = -cut2
			continue
		}
		fmt.Fprintf(&b, "%08d", i)
		for b.Len()-start < n {
			b.WriteByte(' ')
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), -cut2
}
