package wit

import "fmt"

// Error is a problem found in a WIT file, with its position. File is the
// path relative to the directory given to [Parse]; Line and Col are 1-based
// (Col counts bytes).
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error formats e as "wit: file:line:col: message".
func (e *Error) Error() string {
	return fmt.Sprintf("wit: %s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// pos is a position in a WIT file.
type pos struct {
	file      string
	line, col int
}

// bailout carries an *Error out of the recursive parser and resolver; it is
// recovered in Parse and never escapes the package.
type bailout struct{ err *Error }

func fail(p pos, format string, args ...any) {
	panic(bailout{&Error{File: p.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}})
}

// catch turns a bailout panic into *errp; other panics propagate.
func catch(errp *error) {
	if r := recover(); r != nil {
		b, ok := r.(bailout)
		if !ok {
			panic(r)
		}
		*errp = b.err
	}
}
