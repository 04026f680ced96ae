package abi

import (
	"testing"

	"github.com/chiphost/chiphost/wit"
)

// TestWITLoad checks the hand-built types of these tests against the
// embedded WIT, so that both describe the same ABI.
func TestWITLoad(t *testing.T) {
	res, err := wit.Load("0.1.0")
	if err != nil {
		t.Fatalf("loading the embedded WIT: %v", err)
	}
	tests := []struct {
		iface string
		want  *wit.Func
	}{
		{"chipmunk:parser/parser@0.1.0", fGetVersion},
		{"chipmunk:parser/parser@0.1.0", fSchemas},
		{"chipmunk:parser/parser@0.1.0", fRender},
		{"chipmunk:parser/parser@0.1.0", fInit},
		{"chipmunk:parser/parser@0.1.0", fParse},
		{"chipmunk:bytesource/byte-source@0.1.0", fSourceInit},
		{"chipmunk:bytesource/byte-source@0.1.0", fRead},
		{"chipmunk:shared/logging@0.1.0", fLog},
		{"chipmunk:shared/sandbox@0.1.0", fTempDir},
	}
	for _, tt := range tests {
		t.Run(tt.iface+"#"+tt.want.Name, func(t *testing.T) {
			iface := res.Interface(tt.iface)
			if iface == nil {
				t.Fatalf("no interface %s", tt.iface)
			}
			f := iface.Func(tt.want.Name)
			if f == nil {
				t.Fatalf("no function %s", tt.want.Name)
			}
			if d := wit.DiffFunc(tt.want, f); d != "" {
				t.Fatalf("hand-built type differs from the WIT: %s", d)
			}
			for _, s := range []struct{ a, b Signature }{
				{ExportSignature(tt.want), ExportSignature(f)},
				{ImportSignature(tt.want), ImportSignature(f)},
			} {
				if s.b.Err() != nil || len(s.a.Params) != len(s.b.Params) || len(s.a.Results) != len(s.b.Results) {
					t.Errorf("signatures differ: %v -> %v vs %v -> %v (%v)", s.a.Params, s.a.Results, s.b.Params, s.b.Results, s.b.Err())
				}
			}
		})
	}
}
