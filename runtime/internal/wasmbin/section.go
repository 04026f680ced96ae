package wasmbin

import "fmt"

// Header is the size of the preamble of a module or component: the magic
// followed by the version and layer fields.
const Header = 8

// Magic starts every module and component.
const Magic = "\x00asm"

// Preambles: version and layer, little-endian 16-bit each.
const (
	CoreVersion      = "\x01\x00\x00\x00" // a core module: version 1, layer 0
	ComponentVersion = "\x0d\x00\x01\x00" // a component: version 0x0d, layer 1
)

// Section is one section of a core module or a component.
type Section struct {
	ID      byte
	Start   int    // offset of the id byte
	Offset  int    // offset of Payload[0]
	Payload []byte // the content, after the id and the size
}

// End returns the offset just past the section.
func (s Section) End() int { return s.Offset + len(s.Payload) }

// Reader returns a Reader over the payload.
func (s Section) Reader() *Reader { return NewReader(s.Payload, s.Offset) }

// Section reads one section: an id byte, a u32 size and that many payload
// bytes. name names the id in errors (CoreSectionName or ComponentSectionName).
func (r *Reader) Section(name func(id byte) string) (Section, error) {
	s := Section{Start: r.Offset()}
	var err error
	if s.ID, err = r.Byte(); err != nil {
		return s, fmt.Errorf("section header: %w", err)
	}
	size, err := r.U32()
	if err != nil {
		return s, fmt.Errorf("%s section at offset %#x: size: %w", name(s.ID), s.Start, err)
	}
	s.Offset = r.Offset()
	if uint64(size) > uint64(r.Len()) {
		return s, &Error{Offset: s.Start, Item: name(s.ID) + " section", Msg: fmt.Sprintf("size %d exceeds the %d bytes left", size, r.Len())}
	}
	s.Payload, _ = r.Bytes(int(size))
	return s, nil
}

// Walk calls each for every section from the Reader's position to its end. It
// stops at the first error, returning the errors of each unchanged.
func Walk(r *Reader, name func(id byte) string, each func(Section) error) error {
	for !r.Done() {
		s, err := r.Section(name)
		if err != nil {
			return err
		}
		if err := each(s); err != nil {
			return err
		}
	}
	return nil
}

// Section ids of a core module.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
	SecTag       = 13 // exception handling
)

var coreSectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "data count", "tag"}

// CoreSectionName names a core section id, or returns "unknown".
func CoreSectionName(id byte) string {
	if int(id) < len(coreSectionNames) {
		return coreSectionNames[id]
	}
	return "unknown"
}

// CoreSectionOrder returns the position that a non-custom core section must
// take among the others, or 0 for a custom section or an unknown id. The tag
// section sits between memory and global, data count between element and code.
func CoreSectionOrder(id byte) int {
	switch id {
	case SecType, SecImport, SecFunction, SecTable, SecMemory:
		return int(id)
	case SecTag:
		return 6
	case SecGlobal, SecExport, SecStart, SecElement:
		return int(id) + 1
	case SecDataCount:
		return 11
	case SecCode, SecData:
		return int(id) + 2
	}
	return 0
}

// Section ids of a component.
const (
	CompSecCustom       = 0
	CompSecCoreModule   = 1
	CompSecCoreInstance = 2
	CompSecCoreType     = 3
	CompSecComponent    = 4
	CompSecInstance     = 5
	CompSecAlias        = 6
	CompSecType         = 7
	CompSecCanon        = 8
	CompSecStart        = 9
	CompSecImport       = 10
	CompSecExport       = 11
	CompSecValue        = 12
)

var componentSectionNames = [...]string{"custom", "core module", "core instance", "core type", "component",
	"instance", "alias", "type", "canon", "start", "import", "export", "value"}

// ComponentSectionName names a component section id, or returns "unknown".
func ComponentSectionName(id byte) string {
	if int(id) < len(componentSectionNames) {
		return componentSectionNames[id]
	}
	return "unknown"
}

// Subsection ids of the "name" custom section.
const NameSubModule = 0
