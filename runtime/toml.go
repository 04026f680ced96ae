package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// parseTOMLStrings reads the top-level string keys of a small TOML
// document (Chipmunk's <name>.toml metadata: title and description).
// Basic, literal and multi-line strings are supported; keys with other
// value types are ignored, as are tables after the top level, matching
// serde's "unknown keys are ignored".
func parseTOMLStrings(doc string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			break // a table: everything after it is not top level
		}
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value", i+1)
		}
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		rest = strings.TrimSpace(rest)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", i+1, key)
		}
		switch {
		case strings.HasPrefix(rest, `"""`) || strings.HasPrefix(rest, "'''"):
			delim := rest[:3]
			body := strings.TrimPrefix(rest[3:], "\n")
			for !strings.Contains(body, delim) {
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("key %q: unterminated multi-line string", key)
				}
				body += "\n" + strings.TrimSuffix(lines[i], "\r")
			}
			body = body[:strings.Index(body, delim)]
			body = strings.TrimPrefix(body, "\n")
			if delim == `"""` {
				s, err := unescapeTOML(body)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", key, err)
				}
				body = s
			}
			out[key] = body
		case strings.HasPrefix(rest, `"`):
			end := closingQuote(rest)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", i+1)
			}
			s, err := unescapeTOML(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			out[key] = s
		case strings.HasPrefix(rest, "'"):
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", i+1)
			}
			out[key] = rest[1 : end+1]
		case key == "title" || key == "description":
			return nil, fmt.Errorf("line %d: %s: invalid type: expected a string", i+1, key)
		}
	}
	return out, nil
}

func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unescapeTOML(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	// TOML basic-string escapes are a subset of Go's, except \U and \e.
	q, err := strconv.Unquote(`"` + strings.ReplaceAll(strings.ReplaceAll(s, `\e`, `\x1b`), "\n", `\n`) + `"`)
	if err != nil {
		return "", fmt.Errorf("invalid escape in string")
	}
	return q, nil
}
