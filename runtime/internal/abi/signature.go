package abi

import (
	"github.com/chiphost/chiphost/wit"
	"github.com/tetratelabs/wazero/api"
)

// Limits on flat values from the canonical ABI (MAX_FLAT_PARAMS and
// MAX_FLAT_RESULTS).
const (
	MaxFlatParams  = 16
	MaxFlatResults = 1
)

// Signature is the core function type of a component function, as the
// canonical ABI flattens it for one direction, together with the WIT
// function it came from.
type Signature struct {
	Func *wit.Func
	// Params are the core parameters: the flattened WIT parameters, or a
	// single i32 pointer to a tuple of them when they flatten to more than
	// MaxFlatParams values (ParamsSpilled). Imports whose result flattens to
	// more than one value get an extra trailing i32: the pointer (retptr) the
	// host stores the result at.
	Params []api.ValueType
	// Results are the core results: none, or one value. Exports whose result
	// flattens to more than one value return an i32 pointer to a return area
	// in guest memory (ResultSpilled).
	Results []api.ValueType

	ParamsSpilled, ResultSpilled bool

	// Encoding is the string encoding of the canon lift or canon lower the
	// function comes from (its string-encoding option); UTF8 by default.
	// It does not change the core signature.
	Encoding Encoding

	// params is the tuple of the parameter types, the type stored in memory
	// when ParamsSpilled.
	params *wit.Type
	// err is the problem with a malformed parameter or result type, reported
	// when the signature is used.
	err error
}

// ExportSignature returns the core signature of f lifted with canon lift:
// the host lowers the parameters and calls the guest, then lifts the result.
func ExportSignature(f *wit.Func) Signature { return signature(f, false) }

// ImportSignature returns the core signature of f lowered with canon lower:
// the guest calls the host, which lifts the parameters and lowers the
// result (into the retptr when ResultSpilled).
func ImportSignature(f *wit.Func) Signature { return signature(f, true) }

func signature(f *wit.Func, isImport bool) Signature {
	s := Signature{Func: f}
	if f == nil {
		s.err = errorf("nil function")
		return s
	}
	var c layoutCache
	tuple := &wit.Type{Kind: wit.Record, Name: f.Name + " parameters", Fields: make([]wit.Field, len(f.Params))}
	for i, p := range f.Params {
		tuple.Fields[i] = wit.Field(p)
	}
	s.params = tuple
	for _, p := range f.Params {
		l, err := c.get(p.Type)
		if err != nil {
			s.err = wrap(err, p.Name)
			return s
		}
		s.Params = append(s.Params, l.flat...)
	}
	if len(s.Params) > MaxFlatParams {
		s.Params, s.ParamsSpilled = []api.ValueType{api.ValueTypeI32}, true
	}
	if s.Params == nil {
		s.Params = []api.ValueType{}
	}
	s.Results = []api.ValueType{}
	if f.Result != nil {
		l, err := c.get(f.Result)
		if err != nil {
			s.err = wrap(err, "result")
			return s
		}
		switch {
		case len(l.flat) <= MaxFlatResults:
			s.Results = append(s.Results, l.flat...)
		case isImport:
			s.Params = append(s.Params, api.ValueTypeI32)
			s.ResultSpilled = true
		default:
			s.Results = []api.ValueType{api.ValueTypeI32}
			s.ResultSpilled = true
		}
	}
	return s
}

// Err reports whether the signature's types are well formed; a malformed
// signature makes every lift and lower through it fail with this error.
func (s *Signature) Err() error { return s.err }

func (s *Signature) check() error {
	if s == nil || s.Func == nil {
		return errorf("nil signature")
	}
	if e, ok := s.err.(*Error); ok {
		cp := *e // callers prepend to paths; keep s.err intact
		return &cp
	} else if s.err != nil {
		return s.err
	}
	if s.params == nil {
		return errorf("signature of %s not built by ExportSignature or ImportSignature", s.Func.Name)
	}
	if !s.Encoding.valid() {
		return errorf("signature of %s: unknown string encoding %s", s.Func.Name, s.Encoding)
	}
	return nil
}
