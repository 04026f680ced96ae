package quote

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBounds: a quoted value and a clipped text stay within their bounds,
// cut at a character boundary with the original size, and clipping twice
// changes nothing.
func TestBounds(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2000 bytes
	if q := Value(long); len(q) > Max+40 || !strings.HasSuffix(q, "… (2000 bytes)") || !utf8.ValidString(q) {
		t.Errorf("Value: %d bytes, %q", len(q), q[len(q)-30:])
	}
	if q := Value("short"); q != `"short"` {
		t.Errorf("Value(short) = %s", q)
	}
	c := Clip(long, 101)
	if len(c) > 101 || !utf8.ValidString(c) || !strings.HasSuffix(c, "… (2000 bytes)") {
		t.Errorf("Clip: %d bytes, %q", len(c), c)
	}
	if Clip(c, 101) != c {
		t.Error("clipping twice changed the text")
	}
}
