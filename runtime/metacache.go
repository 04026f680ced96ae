package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chiphost/chiphost/schema"
)

// metaFormat changes whenever the cached metadata's meaning changes.
const metaFormat = "4"

// metaCache stores plugin metadata by binary hash, one JSON file each, so
// that listing plugins does not instantiate them again. A nil cache is a
// no-op.
//
// Each entry records the build of chiphost that wrote it (build): an entry
// from another build is a miss and is overwritten, so a newer or older
// chiphost sharing the cache directory never takes over a verdict its own
// decoder would not reach (a plugin it refuses listed as valid, say).
type metaCache struct {
	dir   string
	build string
}

// cacheEntry is the file format of one metadata entry.
type cacheEntry struct {
	Build    string    `json:"build"`
	Metadata *metadata `json:"metadata"`
}

// buildKey identifies the running chiphost build for its on-disk caches:
// the cache formats and a digest of the executable's path, size and
// modification time (a stat, not a read of the binary). Two builds at one
// path differ in their time; if the executable cannot be found, the key
// still separates the cache formats.
func buildKey(formats string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", formats)
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00%d", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (c *metaCache) path(hash string) string {
	return filepath.Join(c.dir, "v"+metaFormat, hash+".json")
}

func (c *metaCache) get(hash string) (*metadata, bool) {
	if c == nil {
		return nil, false
	}
	b, err := os.ReadFile(c.path(hash))
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Build != c.build || e.Metadata == nil {
		return nil, false
	}
	md := e.Metadata
	for i := range md.ConfigSchemas {
		normalizeDefault(&md.ConfigSchemas[i].InputType)
	}
	return md, true
}

func (c *metaCache) put(hash string, md *metadata) {
	if c == nil {
		return
	}
	b, err := json.Marshal(cacheEntry{Build: c.build, Metadata: md})
	if err != nil {
		return
	}
	writeFileAtomic(c.path(hash), b)
}

// writeFileAtomic writes a cache file through a temporary file and a
// rename, so that a concurrent reader never sees half of it. Cache writes
// are best effort: errors are ignored.
func writeFileAtomic(p string, b []byte) {
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
	}
}

// normalizeDefault restores the Go type of a default after a JSON round
// trip (numbers come back as float64).
func normalizeDefault(t *schema.InputType) {
	f, ok := t.Default.(float64)
	if !ok {
		return
	}
	switch t.Type {
	case schema.Integer:
		t.Default = int32(f)
	case schema.Float:
		t.Default = float32(f)
	}
}
