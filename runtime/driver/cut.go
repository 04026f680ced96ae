package driver

import (
	"unicode/utf8"

	"github.com/chiphost/chiphost/runtime"
)

// cutRow returns it unchanged when it fits in maxBytes of text (see
// DefaultMaxRowBytes), and otherwise a cut copy and true. The attachment's
// name and dates keep their room first, then the line or the columns in
// order, each cut at a UTF-8 boundary; an attachment's message list is cut at
// MaxAttachmentMessages. The parser's item is not modified.
func cutRow(it *runtime.Item, maxBytes int) (*runtime.Item, bool) {
	if rowTextBytes(it) <= maxBytes && (it.Attachment == nil || len(it.Attachment.Messages) <= MaxAttachmentMessages) {
		return it, false
	}
	cut := *it
	budget := maxBytes
	if a := it.Attachment; a != nil {
		ac := *a
		ac.Name = cutText(a.Name, &budget)
		ac.CreatedDate = cutOptional(a.CreatedDate, &budget)
		ac.ModifiedDate = cutOptional(a.ModifiedDate, &budget)
		if len(ac.Messages) > MaxAttachmentMessages {
			ac.Messages = ac.Messages[:MaxAttachmentMessages:MaxAttachmentMessages]
		}
		cut.Attachment = &ac
	}
	if m := it.Message; m != nil {
		var mc runtime.Message
		if m.Columns != nil {
			mc.Columns = make([]string, len(m.Columns))
			for i, c := range m.Columns {
				mc.Columns[i] = cutText(c, &budget)
			}
		} else {
			mc.Line = cutText(m.Line, &budget)
		}
		cut.Message = &mc
	}
	return &cut, true
}

// rowTextBytes is the text a row carries: its line or columns, and its
// attachment's name and dates.
func rowTextBytes(it *runtime.Item) int {
	n := 0
	if m := it.Message; m != nil {
		n += len(m.Line)
		for _, c := range m.Columns {
			n += len(c)
		}
	}
	if a := it.Attachment; a != nil {
		n += len(a.Name)
		if a.CreatedDate != nil {
			n += len(*a.CreatedDate)
		}
		if a.ModifiedDate != nil {
			n += len(*a.ModifiedDate)
		}
	}
	return n
}

// cutText returns the longest prefix of s that fits in *budget bytes without
// splitting a UTF-8 sequence, and takes its length from *budget.
func cutText(s string, budget *int) string {
	n := min(len(s), *budget)
	if n < len(s) {
		// Back off to the start of the rune that crosses the cut (at most
		// 3 bytes: further back, s is not valid UTF-8 there anyway).
		for k := 0; k < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); k++ {
			n--
		}
	}
	*budget -= n
	return s[:n]
}

func cutOptional(s *string, budget *int) *string {
	if s == nil {
		return nil
	}
	c := cutText(*s, budget)
	return &c
}
