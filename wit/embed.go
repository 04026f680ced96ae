package wit

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// apiFS holds one directory per Chipmunk API version, named vX.Y.Z. Add a
// new version's directory to the pattern below.
//
//go:embed v0.1.0
var apiFS embed.FS

// FS returns the embedded WIT directories, one per API version (v0.1.0, ...),
// for tools that need the files themselves.
func FS() fs.FS { return apiFS }

// Versions lists the embedded API versions ("0.1.0", ...), oldest first.
func Versions() []string {
	entries, _ := fs.ReadDir(apiFS, ".")
	var vs []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "v") {
			vs = append(vs, strings.TrimPrefix(e.Name(), "v"))
		}
	}
	slices.SortFunc(vs, compareVersions)
	return vs
}

// Load parses the embedded WIT of one Chipmunk API version, such as "0.1.0"
// (a leading "v" is accepted).
func Load(version string) (*Resolve, error) {
	v := strings.TrimPrefix(version, "v")
	if !slices.Contains(Versions(), v) {
		return nil, fmt.Errorf("wit: unknown API version %q (embedded: %s)", version, strings.Join(Versions(), ", "))
	}
	return Parse(apiFS, "v"+v)
}

// compareVersions orders X.Y.Z strings numerically, then lexically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		var x, y int
		_, errA := fmt.Sscanf(as[i], "%d", &x)
		_, errB := fmt.Sscanf(bs[i], "%d", &y)
		if errA == nil && errB == nil && x != y {
			return x - y
		}
		if c := strings.Compare(as[i], bs[i]); errA != nil || errB != nil {
			if c != 0 {
				return c
			}
		}
	}
	return len(as) - len(bs)
}

// wasiFS holds the WASI 0.2 WIT that runtime/internal/wasip2 serves.
//
//go:embed wasip2
var wasiFS embed.FS

// LoadWASI parses the embedded WASI 0.2 WIT (packages wasi:io, wasi:clocks,
// wasi:random, wasi:cli, wasi:filesystem and wasi:sockets at 0.2.0,
// gathered by the world chiphost:wasip2/host).
func LoadWASI() (*Resolve, error) { return Parse(wasiFS, "wasip2") }
