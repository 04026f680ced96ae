// Package quote bounds the client input that the chiphost server quotes
// back in error messages and logs, so that an error never carries megabytes
// of input: a value is cut at a character boundary and the cut is marked
// with an ellipsis and the original size.
package quote

import (
	"strconv"
	"unicode/utf8"
)

// Max is how many bytes of a client's value an error quotes.
const Max = 200

// Value quotes a value from the client for an error message (Go syntax,
// as strconv.Quote), cut to Max bytes.
func Value(v string) string {
	if len(v) <= Max {
		return strconv.Quote(v)
	}
	return strconv.Quote(v[:cutPoint(v, Max)]) + "… (" + strconv.Itoa(len(v)) + " bytes)"
}

// Clip cuts s to at most n bytes at a character boundary, marking a cut
// with an ellipsis and the original size (within the n bytes, so clipping
// twice changes nothing).
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	mark := "… (" + strconv.Itoa(len(s)) + " bytes)"
	return s[:cutPoint(s, n-len(mark))] + mark
}

// cutPoint returns the largest index <= n that starts a character of s.
func cutPoint(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
