// Package loggen generates the deterministic logs that tests and benchmarks
// parse: lines of 49–185 characters, about 3 % with multi-byte UTF-8, every
// 13th ending in "\r". It imports only the standard library.
package loggen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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
