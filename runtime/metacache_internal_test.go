package runtime

import (
	"path/filepath"
	"testing"
)

// TestCacheEntriesOfAnotherBuild: a chiphost build never takes over what
// another build cached (its decoder may refuse or read the plugin
// differently). Before entries were keyed by build, a metadata entry written
// by a build with a newer decoder made an older build list a plugin it
// refuses as valid.
func TestCacheEntriesOfAnotherBuild(t *testing.T) {
	dir := t.TempDir()
	older := &metaCache{dir: filepath.Join(dir, "metadata"), build: "older"}
	newer := &metaCache{dir: filepath.Join(dir, "metadata"), build: "newer"}
	md := &metadata{Export: "chipmunk:parser/parser@0.1.0", Kind: Parser}

	newer.put("h1", md)
	if _, ok := older.get("h1"); ok {
		t.Fatal("metadata cached by another build was used")
	}
	if got, ok := newer.get("h1"); !ok || got.Export != md.Export {
		t.Fatalf("own metadata entry: %+v %v, want a hit", got, ok)
	}
	older.put("h1", md) // overwrites: one entry per binary
	if _, ok := newer.get("h1"); ok {
		t.Fatal("an entry overwritten by another build still hits")
	}

	hostOf := func(m *metaCache) *Host { return &Host{opts: Options{CacheDir: dir}, meta: m} }
	ho, hn := hostOf(older), hostOf(newer)
	ho.saveCore("h1", []byte("older core"))
	if hn.coreCached("h1") {
		t.Fatal("instrumented module cached by another build counted as cached")
	}
	hn.saveCore("h1", []byte("newer core"))
	if !hn.coreCached("h1") || ho.coreCached("h1") {
		t.Fatalf("after the newer build's save: newer cached %v, older cached %v; want true, false",
			hn.coreCached("h1"), ho.coreCached("h1"))
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(hn.corePath("h1")), "h1-*.wasm"))
	if len(files) != 1 {
		t.Fatalf("core cache holds %d modules for one binary (%v), want 1", len(files), files)
	}
}
