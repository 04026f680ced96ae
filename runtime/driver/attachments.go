package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AttachmentStore writes attachments to files in one directory (a
// session's), with names sanitised as Chipmunk does: letters, digits, '-'
// and '_' are kept, everything else becomes '_', the extension is kept, and
// a clash gets a "_N" suffix. File names are cut to fit the file system
// (maxStem and maxExt bytes).
type AttachmentStore struct {
	Dir string
}

// Save writes data under a name derived from name and returns the path.
func (s *AttachmentStore) Save(name string, data []byte) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("attachment %q: %w", quotable(name), err)
	}
	base := filepath.Base(name)
	if base == "." || base == string(filepath.Separator) {
		base = ""
	}
	stem, ext := splitExt(base)
	stem = sanitize(stem, maxStem)
	if stem == "" {
		stem = "attachment"
	}
	if ext != "" {
		ext = "." + sanitize(ext, maxExt)
	}
	for i := 0; i < 1000; i++ {
		n := stem + ext
		if i > 0 {
			n = fmt.Sprintf("%s_%d%s", stem, i, ext)
		}
		p := filepath.Join(s.Dir, n)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("attachment %q: %w", quotable(name), err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("attachment %q: %w", quotable(name), werr)
		}
		return p, nil
	}
	return "", fmt.Errorf("attachment %q: no free file name after 1000 attempts", quotable(name))
}

func splitExt(name string) (string, string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// Lengths of a saved file name: with a "_999" suffix and the dot it stays
// within the 255 bytes most file systems allow.
const (
	maxStem = 200
	maxExt  = 32
)

// quotable cuts a long name for an error message.
func quotable(name string) string {
	budget := 100
	if len(name) <= budget {
		return name
	}
	return cutText(name, &budget) + "…"
}

// sanitize maps s to safe characters, at most limit of them.
func sanitize(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
