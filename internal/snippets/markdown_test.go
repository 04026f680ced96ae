package snippets

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// block is one fenced code block of a Markdown page.
type block struct {
	page string // path relative to the repository root
	line int    // line of the opening fence, 1-based
	lang string // first word of the info string ("" for a bare fence)
	mark mark   // the snippet comment before the fence, if any
	text string // the content, each line ending in "\n"
}

// mark is a `<!-- snippet: WORD ARG (comment) -->` line before a block.
type mark struct {
	word string // "no-run", "ci", "session", "venv"; "" when unmarked
	arg  string // e.g. the FILE of "ci FILE"
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.page, b.line) }

var (
	fenceOpen = regexp.MustCompile("^ {0,3}(`{3,})[ \t]*([^`]*)$")
	snippetRE = regexp.MustCompile(`^<!--\s*snippet:\s*([a-z-]+)\s*([^(]*?)\s*(\(.*\))?\s*-->\s*$`)
)

// readBlocks returns the fenced blocks of a page (relative to root).
func readBlocks(root, page string) ([]block, error) {
	src, err := os.ReadFile(filepath.Join(root, page))
	if err != nil {
		return nil, err
	}
	return parseBlocks(page, string(src))
}

// parseBlocks splits Markdown into its fenced blocks (backtick fences, as
// the project's pages use), each with the snippet mark written on the last
// non-blank line before it.
func parseBlocks(page, src string) ([]block, error) {
	lines := strings.Split(src, "\n")
	var blocks []block
	lastText := "" // the last non-blank line outside blocks
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.TrimSpace(lines[i]) != "" {
				lastText = strings.TrimSpace(lines[i])
			}
			continue
		}
		b := block{page: page, line: i + 1, lang: firstWord(m[2])}
		mk, err := parseMark(lastText)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b, err)
		}
		b.mark = mk
		var body strings.Builder
		closed := false
		for i++; i < len(lines); i++ {
			if isFenceClose(lines[i], m[1]) {
				closed = true
				break
			}
			body.WriteString(lines[i] + "\n")
		}
		if !closed {
			return nil, fmt.Errorf("%s: the block is not closed", b)
		}
		b.text = body.String()
		blocks = append(blocks, b)
		lastText = ""
	}
	return blocks, nil
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func isFenceClose(line, fence string) bool {
	t := strings.TrimLeft(line, " ")
	return len(line)-len(t) <= 3 && strings.HasPrefix(t, fence) && strings.Trim(t, "` \t") == ""
}

// parseMark reads a snippet comment; any other line is no mark. A comment
// that starts like one but does not parse is an error, so a typo cannot
// silently turn a marked block into a run one.
func parseMark(line string) (mark, error) {
	if !strings.HasPrefix(line, "<!--") || !strings.Contains(line, "snippet") {
		return mark{}, nil
	}
	m := snippetRE.FindStringSubmatch(line)
	if m == nil {
		return mark{}, fmt.Errorf("malformed snippet comment %q (want <!-- snippet: WORD [ARG] [(why)] -->)", line)
	}
	mk := mark{word: m[1], arg: m[2]}
	switch {
	case mk.word == "ci" && mk.arg == "":
		return mark{}, fmt.Errorf("%q: ci needs the file that CI runs", line)
	case mk.word != "ci" && mk.arg != "":
		return mark{}, fmt.Errorf("%q: %s takes no argument (put the reason in parentheses)", line, mk.word)
	}
	switch mk.word {
	case "no-run", "ci", "session", "venv":
		return mk, nil
	}
	return mark{}, fmt.Errorf("%q: unknown snippet mark %q", line, mk.word)
}

// commandLines are the lines of a shell block without blanks and comments.
func commandLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
