package component

import (
	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Producers is what the top-level "producers" custom section of a binary
// says about the tools that made it (the tool-conventions producers
// section): each entry is "name version" (or "name" when the version is
// empty).
type Producers struct {
	// Component holds the fields by field name ("language",
	// "processed-by", "sdk").
	Component map[string][]string
}

// ReadProducers reads the top-level producers section of a component or of
// a core module. It is best effort: a malformed section or binary gives
// what was read before it.
func ReadProducers(bin []byte) Producers {
	p := Producers{Component: map[string][]string{}}
	if len(bin) < wasmbin.Header || string(bin[:4]) != wasmbin.Magic {
		return p
	}
	r := wasmbin.NewReader(bin[wasmbin.Header:], wasmbin.Header)
	if string(bin[4:8]) == wasmbin.CoreVersion {
		_ = wasmbin.Walk(r, wasmbin.CoreSectionName, func(s wasmbin.Section) error {
			if s.ID == wasmbin.SecCustom {
				readProducersSection(s, p.Component)
			}
			return nil
		})
		return p
	}
	_ = wasmbin.Walk(r, wasmbin.ComponentSectionName, func(s wasmbin.Section) error {
		if s.ID == wasmbin.CompSecCustom {
			readProducersSection(s, p.Component)
		}
		return nil
	})
	return p
}

// readProducersSection adds the fields of custom section s to fields if s
// is a producers section.
func readProducersSection(s wasmbin.Section, fields map[string][]string) {
	r := s.Reader()
	if name, err := r.Name(); err != nil || name != "producers" {
		return
	}
	_ = r.Vec(2, func(int) error {
		field, err := r.Name()
		if err != nil {
			return err
		}
		return r.Vec(2, func(int) error {
			name, err := r.Name()
			if err != nil {
				return err
			}
			version, err := r.Name()
			if err != nil {
				return err
			}
			if version != "" {
				name += " " + version
			}
			fields[field] = appendNew(fields[field], name)
			return nil
		})
	})
}

// appendNew appends the values of vs not yet in list.
func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		found := false
		for _, have := range list {
			found = found || have == v
		}
		if !found {
			list = append(list, v)
		}
	}
	return list
}
