package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// stderrExcerpt keeps, bounded, what the plugin wrote to stderr during the
// running call, for the error that ends it: the first lines (a Go plugin
// prints the cause of a fatal error first, "runtime: out of memory: …",
// then every goroutine's stack), the last ones, and whether a line says the
// plugin ran out of memory.
type stderrExcerpt struct {
	head  []string
	tail  []string // ring of the last lines after head
	next  int      // next slot of tail
	lines int      // lines written during the call
	oom   bool     // a line reports an allocation failure
}

const (
	excerptHead  = 4
	excerptTail  = 2
	excerptBytes = 200 // per line
)

func (x *stderrExcerpt) reset() {
	x.head, x.tail = x.head[:0], x.tail[:0]
	x.next, x.lines, x.oom = 0, 0, false
}

func (x *stderrExcerpt) add(line string) {
	x.lines++
	x.oom = x.oom || reportsOOM(line)
	if len(line) > excerptBytes {
		line = strings.ToValidUTF8(line[:excerptBytes], "") + "…"
	}
	switch {
	case len(x.head) < excerptHead:
		x.head = append(x.head, line)
	case len(x.tail) < excerptTail:
		x.tail = append(x.tail, line)
	default:
		x.tail[x.next] = line
		x.next = (x.next + 1) % excerptTail
	}
}

// reportsOOM recognises the allocation failures of the common plugin
// toolchains: Go ("runtime: out of memory", "fatal error: out of memory")
// and Rust ("memory allocation of N bytes failed").
func reportsOOM(line string) bool {
	return strings.Contains(line, "out of memory") ||
		strings.HasPrefix(line, "memory allocation of ") && strings.HasSuffix(line, " failed")
}

// String renders the excerpt for an error message: quoted lines, the
// number of lines left out between head and tail.
func (x *stderrExcerpt) String() string {
	if x.lines == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("plugin stderr: ")
	for i, l := range x.head {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(l))
	}
	if skipped := x.lines - len(x.head) - len(x.tail); skipped > 0 {
		fmt.Fprintf(&b, ", … %d more lines …", skipped)
	}
	for i := range x.tail {
		b.WriteString(", ")
		b.WriteString(strconv.Quote(x.tail[(x.next+i)%len(x.tail)]))
	}
	return b.String()
}

// describedError is an error with its own message that still unwraps to
// its cause.
type describedError struct {
	msg   string
	cause error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.cause }

// firstLine is the first line of err's message (a trap's message is
// followed by a wasm stack trace).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
