package abi_test

import (
	"testing"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/abitest"
)

// TestJSONRoundTrip writes every round-trip sample in its canonical JSON
// form (the form compared with the jco reference host) and reads it back.
func TestJSONRoundTrip(t *testing.T) {
	for _, s := range abi.Samples() {
		t.Run(s.Name, func(t *testing.T) {
			js := abitest.AppendJSON(nil, s.Type, s.Value)
			back, err := abitest.ParseJSON(s.Type, js)
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", js, err)
			}
			if !abi.Equal(back, s.Value) {
				t.Errorf("JSON round trip of %s: got %s", js, abitest.AppendJSON(nil, s.Type, back))
			}
		})
	}
}
