package protocol

// Searches (searches/*): a search runs a filter of one or more queries
// over a session's rows in the server and keeps the indexes of the rows
// that match (spec/protocol.md, "Searches").

// Query kinds.
const (
	QueryLiteral = "literal"
	QueryRegex   = "regex"
)

// Ways to combine the queries of a search.
const (
	CombineAny = "any"
	CombineAll = "all"
)

// Directions of searches/nearest.
const (
	DirectionForward  = "forward"
	DirectionBackward = "backward"
)

// Limits of searches.
const (
	// MaxSearchesPerSession bounds the searches open at once on one
	// session; searches/open beyond it fails with CodeLimitReached.
	MaxSearchesPerSession = 32
	// MaxQueries bounds the queries of one search.
	MaxQueries = 64
	// MaxPatternBytes bounds the length of one query's pattern.
	MaxPatternBytes = 64 << 10
	// MaxRangesPerItem bounds the ranges of one searches/grab item: the
	// first ones are sent and the item says rangesTruncated.
	MaxRangesPerItem = 1024
)

// SearchQuery is one pattern of a search.
type SearchQuery struct {
	Pattern       string `json:"pattern" jsonschema:"description=the text to find (at most 64 KiB)"`
	Kind          string `json:"kind,omitempty" jsonschema:"enum=literal,enum=regex,description=literal (default): the bytes of pattern; regex: Go RE2 syntax"`
	CaseSensitive bool   `json:"caseSensitive,omitempty" jsonschema:"description=match case exactly (default false: case folded as RE2 (?i) does)"`
	WholeWord     bool   `json:"wholeWord,omitempty" jsonschema:"description=a match must not be preceded or followed by an ASCII word character"`
	Columns       []int  `json:"columns,omitempty" jsonschema:"description=for rows with columns: the 0-based columns to match (default: all of them joined by a tab)"`
	Invert        bool   `json:"invert,omitempty" jsonschema:"description=select the rows this query does not match (such a query adds no ranges)"`
}

// SearchesOpenParams are the params of searches/open: exactly one of Query
// or Queries.
type SearchesOpenParams struct {
	Session       string        `json:"session"`
	Query         *SearchQuery  `json:"query,omitempty" jsonschema:"description=the one query of the search (or give queries)"`
	Queries       []SearchQuery `json:"queries,omitempty" jsonschema:"description=several queries combined as combine says (at most 64)"`
	Combine       string        `json:"combine,omitempty" jsonschema:"enum=any,enum=all,description=with queries: a row matches when any (default) or all of them match"`
	ProgressToken any           `json:"progressToken,omitempty" jsonschema:"description=integer or string token for $/progress of the search: begin before the response and reports and end when the search ends (done or failed or closed)"`
}

// SearchesOpenResult is the result of searches/open.
type SearchesOpenResult struct {
	Search string `json:"search"`
}

// Search states: StateRunning, StateLive, StateDone, StateFailed and
// StateClosed, as for sessions (spec/protocol.md, searches/updated).

// SearchesUpdatedParams are the params of the searches/updated
// notification.
type SearchesUpdatedParams struct {
	Search       string     `json:"search"`
	Session      string     `json:"session"`
	State        string     `json:"state" jsonschema:"enum=running,enum=live,enum=done,enum=failed,enum=closed"`
	Matches      uint64     `json:"matches" jsonschema:"description=rows found so far"`
	RowsSearched uint64     `json:"rowsSearched" jsonschema:"description=rows searched so far (rows 0 to rowsSearched-1)"`
	Error        *ErrorData `json:"error,omitempty"`
}

// SearchesGrabParams are the params of searches/grab.
type SearchesGrabParams struct {
	Search string `json:"search"`
	Start  uint64 `json:"start" jsonschema:"description=position of the first match (0 is the match in the lowest row)"`
	Count  uint64 `json:"count" jsonschema:"description=at most maxGrabCount (10000)"`
}

// SearchItem is a matching row as sessions/grab gives it, with the ranges
// of its matches.
type SearchItem struct {
	Row
	Ranges          []MatchRange `json:"ranges" jsonschema:"description=byte ranges of the matches in the line or in the columns; sorted and not overlapping"`
	RangesTruncated bool         `json:"rangesTruncated,omitempty" jsonschema:"description=only the first 1024 ranges are given"`
}

// MatchRange is the byte range [Start, End) of a match within a row's line
// or, for rows with columns, within column Column.
type MatchRange struct {
	Column *int `json:"column,omitempty" jsonschema:"description=the column (rows with columns only)"`
	Start  int  `json:"start" jsonschema:"description=byte offset of the first byte (UTF-8)"`
	End    int  `json:"end" jsonschema:"description=byte offset after the last byte (UTF-8)"`
}

// SearchesGrabResult is the result of searches/grab.
type SearchesGrabResult struct {
	Items []SearchItem `json:"items" jsonschema:"description=matches start..start+len(items)-1 in row order; fewer than count at the end of the matches found so far or when the 1 MiB frame cap is reached"`
}

// SearchesNearestParams are the params of searches/nearest.
type SearchesNearestParams struct {
	Search    string `json:"search"`
	Row       uint64 `json:"row" jsonschema:"description=a session row index"`
	Direction string `json:"direction" jsonschema:"enum=forward,enum=backward,description=forward: the first match at or after row; backward: the last match at or before row"`
}

// SearchesNearestResult is the result of searches/nearest.
type SearchesNearestResult struct {
	Found bool    `json:"found" jsonschema:"description=false when no match found so far lies in that direction"`
	Match *uint64 `json:"match,omitempty" jsonschema:"description=the position of the match (as searches/grab start)"`
	Row   *uint64 `json:"row,omitempty" jsonschema:"description=its session row index"`
}

// SearchesCloseParams are the params of searches/close.
type SearchesCloseParams struct {
	Search string `json:"search"`
}
