package wit

import (
	"embed"
	"io/fs"
)

// draftFS holds the producer draft layout: Chipmunk API 0.1.0 as upstream's
// draft pull request for producer plugins reshapes it. It differs from
// v0.1.0 in two ways only: columns-render-options and column-info move from
// chipmunk:parser/parse-types into chipmunk:shared/shared-types, and a
// fourth package, chipmunk:producer (world produce), is added. It lives
// apart from the released versions so that it can follow the draft until
// upstream merges it; then it becomes (or folds into) a vX.Y.Z directory.
//
//go:embed producer-draft
var draftFS embed.FS

// ProducerDraftDir is the directory of the producer draft layout in
// [DraftFS], and under wit/ in the repository.
const ProducerDraftDir = "producer-draft/v0.1.0"

// DraftFS returns the embedded draft layouts (see [ProducerDraftDir]).
func DraftFS() fs.FS { return draftFS }

// LoadProducerDraft parses the embedded producer draft layout. Its
// chipmunk:producer/produce@0.1.0 world is the one producer plugins are
// checked against; its parser and shared packages describe the same
// functions as v0.1.0 with the column types moved.
func LoadProducerDraft() (*Resolve, error) { return Parse(draftFS, ProducerDraftDir) }
