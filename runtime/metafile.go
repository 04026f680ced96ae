package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Metadata is what Chipmunk reads from a plugin's metadata file
// (<name>.toml next to <name>.wasm): a title, required in the file, and an
// optional description. Other keys and tables are ignored, as Chipmunk's
// deserializer ignores them.
type Metadata struct {
	// Title is the file's title, or the plugin's name when the file is
	// missing or unusable (Chipmunk's fallback).
	Title string
	// Description is the file's description, nil when absent.
	Description *string
	// Missing is set when there is no metadata file. Discover then warns,
	// as Chipmunk does for an installed plugin; for a .wasm file given by
	// path a missing file is no problem.
	Missing bool
	// Warnings says why an existing file was not used: unreadable, larger
	// than 1 MiB, not valid TOML (with the line), a field of the wrong type
	// or over Chipmunk's length limits. Each names the file.
	Warnings []string
}

// Metadata limits: Chipmunk's title and description limits, and a bound on
// the file chiphost reads (Chipmunk reads any size).
const (
	maxMetaTitle     = 2048
	maxMetaDesc      = 10240
	maxMetaFileBytes = 1 << 20
	maxMetaErrBytes  = 300
)

// metadataFile is the shape of <name>.toml.
type metadataFile struct {
	Title       *string `toml:"title"`
	Description *string `toml:"description"`
}

// ReadMetadata reads the metadata file of the plugin at wasmPath: the
// .toml file with the same name in the same directory. Problems are
// warnings, never errors: as in Chipmunk, the plugin stays usable and
// its title falls back to its name.
func ReadMetadata(wasmPath string) Metadata {
	name := strings.TrimSuffix(filepath.Base(wasmPath), ".wasm")
	path := filepath.Join(filepath.Dir(wasmPath), name+".toml")
	md, err := readMetadataFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Metadata{Title: name, Missing: true}
	case err != nil:
		return Metadata{Title: name, Warnings: []string{err.Error()}}
	}
	return md
}

func readMetadataFile(path string) (Metadata, error) {
	file := filepath.Base(path)
	b, err := readAtMost(path, maxMetaFileBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Metadata{}, err
	case err != nil:
		return Metadata{}, fmt.Errorf("reading metadata file %s failed: %v", file, err)
	}
	var f metadataFile
	if _, err := toml.Decode(string(b), &f); err != nil {
		return Metadata{}, fmt.Errorf("parsing metadata file %s failed: %s", file, tomlError(err))
	}
	switch {
	case f.Title == nil:
		return Metadata{}, fmt.Errorf("parsing metadata file %s failed: missing field `title`", file)
	case len(*f.Title) > maxMetaTitle:
		return Metadata{}, fmt.Errorf("metadata file %s ignored: title longer than %d bytes", file, maxMetaTitle)
	case f.Description != nil && len(*f.Description) > maxMetaDesc:
		return Metadata{}, fmt.Errorf("metadata file %s ignored: description longer than %d bytes", file, maxMetaDesc)
	}
	return Metadata{Title: *f.Title, Description: f.Description}, nil
}

// readAtMost reads a regular file of at most limit bytes.
func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// tomlError is the parser's message ("line N (last key "k"): what"),
// without its "toml: " prefix, valid UTF-8 and cut to maxMetaErrBytes: it
// can quote the file.
func tomlError(err error) string {
	s := strings.ToValidUTF8(strings.TrimPrefix(err.Error(), "toml: "), "\uFFFD")
	if len(s) <= maxMetaErrBytes {
		return s
	}
	n := maxMetaErrBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}
