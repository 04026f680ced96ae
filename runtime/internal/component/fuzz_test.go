package component

import (
	"os"
	"testing"
)

// FuzzDecode checks that Decode returns a plan or an error and never
// panics, whatever the input.
func FuzzDecode(f *testing.F) {
	for _, s := range []compSpec{
		{}, {synthetic: true}, {p2Import: true}, {ownInExport: true}, {liftOther: true},
		{nestedWithCore: true}, {liftOpts: []byte{0x01}}, {mainMem64: true},
	} {
		f.Add(s.bytes())
	}
	f.Add(composedSpec{inner: compSpec{}.bytes(), outerImport: ifaceLogging, argName: ifaceLogging, exportAs: ifaceParser, instances: 1}.bytes())
	f.Add(bareCore([][3]string{{ifaceLogging, "log", "func"}}, 0, ifaceParser+"#parse", "cabi_realloc"))
	for _, path := range realFixtures(f) {
		if st, err := os.Stat(path); err != nil || st.Size() > 80<<10 {
			continue // keep the corpus small: the big modules add nothing
		}
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, bin []byte) {
		p, err := Decode(bin)
		if (p == nil) == (err == nil) {
			t.Fatalf("Decode returned plan %v and error %v", p, err)
		}
		if p != nil && (len(p.Exports) == 0 || len(p.Core) == 0) {
			t.Fatalf("plan without exports or core: %+v", p)
		}
	})
}
