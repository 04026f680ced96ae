package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// humanLog writes zerolog's JSON events as the CLI's own lines, so that a
// command's stderr reads one way: "chiphost parse: warning: MESSAGE: ERROR
// (key=value …)", as the warnings the command prints itself. The timestamp
// is dropped. A line that is not a JSON object is written as it is.
type humanLog struct {
	mu     sync.Mutex
	out    io.Writer
	prefix string // "chiphost COMMAND: "
}

// levelWords are the words of zerolog's levels in a line.
var levelWords = map[string]string{"warn": "warning", "fatal": "error", "panic": "error"}

func (h *humanLog) Write(p []byte) (int, error) {
	line := h.format(p)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.out.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// format turns one JSON event into a line.
func (h *humanLog) format(p []byte) []byte {
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return p
	}
	var b strings.Builder
	b.WriteString(h.prefix)
	if lvl, _ := ev[zerolog.LevelFieldName].(string); lvl != "" {
		if w, ok := levelWords[lvl]; ok {
			lvl = w
		}
		b.WriteString(lvl + ": ")
	}
	msg, _ := ev[zerolog.MessageFieldName].(string)
	b.WriteString(msg)
	if e, ok := ev[zerolog.ErrorFieldName]; ok {
		fmt.Fprintf(&b, ": %v", e)
	}
	var keys []string
	for k := range ev {
		switch k {
		case zerolog.LevelFieldName, zerolog.MessageFieldName, zerolog.ErrorFieldName, zerolog.TimestampFieldName:
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := " "
		if i == 0 {
			sep = " ("
		}
		b.WriteString(sep + k + "=" + fieldText(ev[k]))
	}
	if len(keys) > 0 {
		b.WriteString(")")
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// fieldText is a field's value in a line: a string as it is unless it has
// spaces or quotes (then quoted), anything else as JSON.
func fieldText(v any) string {
	if s, ok := v.(string); ok {
		if s != "" && !strings.ContainsAny(s, " \t\n\"=()") {
			return s
		}
		return fmt.Sprintf("%q", s)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}
