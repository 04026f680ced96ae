package abi

import "github.com/chiphost/chiphost/wit"

// Sample is a round-trip sample, for the external tests.
type Sample struct {
	Name  string
	Type  *wit.Type
	Value Value
}

// Samples returns the round-trip samples: values of every Chipmunk type.
func Samples() []Sample {
	out := make([]Sample, len(samples))
	for i, s := range samples {
		out[i] = Sample{s.name, s.t, s.v}
	}
	return out
}

// Equal reports whether two values are the same (nil and empty alike).
var Equal = equal
