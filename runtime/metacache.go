package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/chiphost/chiphost/schema"
)

// metaFormat changes whenever the cached metadata's meaning changes.
const metaFormat = "3"

// metaCache stores plugin metadata by binary hash, one JSON file each, so
// that listing plugins does not instantiate them again. A nil cache is a
// no-op.
type metaCache struct {
	dir string
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
	var md metadata
	if json.Unmarshal(b, &md) != nil {
		return nil, false
	}
	for i := range md.ConfigSchemas {
		normalizeDefault(&md.ConfigSchemas[i].InputType)
	}
	return &md, true
}

func (c *metaCache) put(hash string, md *metadata) {
	if c == nil {
		return
	}
	b, err := json.Marshal(md)
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
