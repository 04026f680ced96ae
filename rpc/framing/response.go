package framing

import (
	"bytes"
	"encoding/json"
	"strconv"

	"go.lsp.dev/jsonrpc2"
)

// responseID returns the id of a response frame written by the library
// (`{"jsonrpc":"2.0","id":…,"result"|"error":…}`) and the index where the
// id ends; ok is false for notifications, null ids and anything else.
func responseID(frame []byte) (id jsonrpc2.ID, end int, ok bool) {
	const prefix = `{"jsonrpc":"2.0","id":`
	rest, found := bytes.CutPrefix(frame, []byte(prefix))
	if !found || len(rest) == 0 {
		return id, 0, false
	}
	if rest[0] == '"' {
		n := 1
		for n < len(rest) && rest[n] != '"' {
			if rest[n] == '\\' {
				n++
			}
			n++
		}
		var s string
		if n >= len(rest) || json.Unmarshal(rest[:n+1], &s) != nil {
			return id, 0, false
		}
		return jsonrpc2.NewStringID(s), len(prefix) + n + 1, true
	}
	n := 0
	for n < len(rest) && (rest[n] == '-' || rest[n] >= '0' && rest[n] <= '9') {
		n++
	}
	v, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	if err != nil {
		return id, 0, false
	}
	return jsonrpc2.NewNumberID(v), len(prefix) + n, true
}
