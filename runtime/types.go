package runtime

import "fmt"

// PluginKind is the kind of a plugin, decided by the interface it exports.
type PluginKind string

// The two plugin kinds of Chipmunk API 0.1.0.
const (
	Parser     PluginKind = "parser"
	ByteSource PluginKind = "bytesource"
)

// Version is a semantic version (WIT shared-types.version).
type Version struct {
	Major, Minor, Patch uint16
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// RenderOptions tells a viewer how to show a parser's columns
// (WIT render-options with columns-options present).
type RenderOptions struct {
	Columns  []ColumnInfo `json:"columns"`
	MinWidth uint16       `json:"minWidth"`
	MaxWidth uint16       `json:"maxWidth"`
}

// ColumnInfo describes one column; Width -1 means unlimited.
type ColumnInfo struct {
	Caption     string `json:"caption"`
	Description string `json:"description"`
	Width       int16  `json:"width"`
}

// LogLevel is a plugin log level (WIT logging.level), error=0 … trace=4.
type LogLevel uint8

// Plugin log levels in WIT order.
const (
	LevelError LogLevel = iota
	LevelWarn
	LevelInfo
	LevelDebug
	LevelTrace
)

var levelNames = [...]string{"error", "warn", "info", "debug", "trace"}

func (l LogLevel) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// ParseLogLevel parses "error", "warn", "info", "debug" or "trace".
func ParseLogLevel(s string) (LogLevel, error) {
	for i, n := range levelNames {
		if n == s {
			return LogLevel(i), nil
		}
	}
	return 0, fmt.Errorf("unknown log level %q (want error, warn, info, debug or trace)", s)
}

// LogSource says where a plugin log line came from.
type LogSource string

// Log line sources.
const (
	FromLogImport LogSource = "log"    // chipmunk:shared/logging.log
	FromStdout    LogSource = "stdout" // a line the plugin wrote to its stdout
	FromStderr    LogSource = "stderr" // a line the plugin wrote to its stderr
)

// LogRecord is one log line from a plugin instance.
type LogRecord struct {
	Plugin   string // plugin name
	Instance uint64 // instance id, unique within a Host
	Tag      string // InitOptions.LogTag of the instance ("" if none)
	Level    LogLevel
	Source   LogSource
	Message  string
}

// Item is one entry a parser returned (WIT parse-return). Message and
// Attachment are both nil when the plugin skipped Consumed bytes.
type Item struct {
	Consumed   uint64
	Message    *Message
	Attachment *Attachment
}

// CheckConsumed checks the bytes items say they consumed against the input
// of input bytes they were parsed from and returns their sum. Each item may
// consume at most what the items before it left, so the sum can neither
// exceed the input nor overflow; the error names the first item that breaks
// this and its values. Chipmunk clamps such counts silently.
func CheckConsumed(items []Item, input int) (int, error) {
	left := uint64(input)
	for i := range items {
		c := items[i].Consumed
		if c > left {
			return 0, fmt.Errorf("item %d of %d consumed %d bytes, but only %d of the %d-byte input were left (the items before it consumed %d)",
				i, len(items), c, left, input, uint64(input)-left)
		}
		left -= c
	}
	return input - int(left), nil
}

// Message is a parsed message: a single line, or columns when Columns != nil.
type Message struct {
	Line    string
	Columns []string
}

// Attachment is a file a parser extracted from the input (WIT attachment).
type Attachment struct {
	Name         string
	Size         uint64 // as declared by the plugin
	CreatedDate  *string
	ModifiedDate *string
	Messages     []uint64
	Data         []byte
}
