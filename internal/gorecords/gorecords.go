// Package gorecords is a native Go implementation of the go_records test
// parser (testdata/plugins/src/go) for its message kinds, producing the rows
// the plugin produces: the baseline that benchmarks compare the Go-built
// wasm parser against.
//
// It implements driver.Parser; it imports only the runtime's data types.
package gorecords

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/chiphost/chiphost/runtime"
)

// Parser parses `kind|payload` lines: "line|text" is a line message,
// "cols|a,b,c" a columns message and "skip|…" skipped bytes. The
// attachment kinds ("attach", "both") and "eof" are not implemented: they
// end the call like an unknown kind does in the plugin.
type Parser struct {
	Sep      string // default "|"
	MaxItems int    // most items per call; 0: unlimited

	items []runtime.Item
	msgs  []runtime.Message
}

func (p *Parser) fail(code, msg string) error {
	return &runtime.Error{Kind: runtime.KindPluginError, Plugin: "go_records", Op: "parse", Code: code, Err: errors.New(msg)}
}

// Parse implements driver.Parser.
func (p *Parser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	sep := p.Sep
	if sep == "" {
		sep = "|"
	}
	limit := p.MaxItems
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	p.items, p.msgs = p.items[:0], p.msgs[:0]
	for len(data) > 0 && len(p.items) < limit {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			if len(p.items) == 0 {
				return nil, p.fail("incomplete", "incomplete")
			}
			break
		}
		line := string(data[:nl])
		kind, payload, ok := strings.Cut(line, sep)
		var msg runtime.Message
		switch {
		case !ok:
			if len(p.items) == 0 {
				return nil, p.fail("parse", "no separator")
			}
			return p.done(), nil
		case kind == "line":
			msg.Line = payload
		case kind == "cols":
			msg.Columns = strings.Split(payload, ",")
		case kind == "skip":
			p.items = append(p.items, runtime.Item{Consumed: uint64(nl + 1)})
			p.msgs = append(p.msgs, runtime.Message{})
			data = data[nl+1:]
			continue
		default:
			if len(p.items) == 0 {
				return nil, p.fail("unrecoverable", "unknown kind "+kind)
			}
			return p.done(), nil
		}
		p.msgs = append(p.msgs, msg)
		p.items = append(p.items, runtime.Item{Consumed: uint64(nl + 1), Message: &runtime.Message{}})
		data = data[nl+1:]
	}
	return p.done(), nil
}

// done points the items at their messages (the slice may have moved).
func (p *Parser) done() []runtime.Item {
	for i := range p.items {
		if p.items[i].Message != nil {
			p.items[i].Message = &p.msgs[i]
		}
	}
	return p.items
}
