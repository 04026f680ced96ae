package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/wit"
)

// Producer plugins follow upstream's draft (chipmunk:producer/produce@0.1.0,
// wit/producer-draft): everything that depends on it is in this file, so
// that it can follow the draft until upstream merges it.

// Producer is the plugin kind of upstream's draft producer world: a plugin
// that finds its own input and returns items, with no byte source or parser
// around it.
const Producer PluginKind = "producer"

const (
	producerExport  = "chipmunk:producer/producer"
	producerWorld   = "chipmunk:producer/produce"
	producerVersion = "0.1.0" // the API version the draft keeps
)

// addProducerDraft adds the draft's producer world to the API version it
// belongs to: its export, and its imports that the released worlds do not
// already have (chipmunk:parser/parse-types, which holds only types).
func addProducerDraft(apis map[string]*apiVersion) error {
	res, err := wit.LoadProducerDraft()
	if err != nil {
		return fmt.Errorf("embedded wit %s: %w", wit.ProducerDraftDir, err)
	}
	w := res.World(producerWorld + "@" + producerVersion)
	if w == nil || len(w.Exports) != 1 {
		return fmt.Errorf("embedded wit %s: world %s@%s missing or without its one export", wit.ProducerDraftDir, producerWorld, producerVersion)
	}
	a := apis[producerVersion]
	if a == nil {
		return fmt.Errorf("embedded wit %s: API version %s is not embedded", wit.ProducerDraftDir, producerVersion)
	}
	a.exports[Producer] = w.Exports[0]
	for _, imp := range w.Imports {
		if _, ok := a.imports[imp.QualifiedName()]; !ok {
			a.imports[imp.QualifiedName()] = imp
		}
	}
	return nil
}

// Produced is one produce-next answer: its item entries in order, the
// number of each other entry, and whether it ended with done.
type Produced struct {
	// Items are the item entries (WIT produce-return.item); Consumed is 0.
	// They, and all strings and bytes they reference, are valid only until
	// the next call on the instance.
	Items                      []Item
	Skipped, Incomplete, Empty int
	// Done is set when the answer ended with done: the producer has
	// nothing more, and ProduceNext will not call it again.
	Done bool
}

// ProducerInstance is a producer plugin instance (one per session). Like a
// ParserInstance, it is closed after a trap, timeout, cancellation or ABI
// violation.
type ProducerInstance struct {
	in      *instance
	name    string
	produce *boundFunc
	done    bool
	itemBuffers
	returns []abi.Value // parse-return-shaped views of the item entries
	fields  []abi.Value
}

// NewProducer creates a producer instance and initialises it with opts.
// Files and directories named in the config are the only host paths it
// sees, besides its temporary directory, as for every plugin.
func (p *Plugin) NewProducer(ctx context.Context, opts *InitOptions) (*ProducerInstance, error) {
	in, err := p.newInitialized(ctx, Producer, opts)
	if err != nil {
		return nil, err
	}
	return &ProducerInstance{in: in, name: p.Name, produce: in.funcs["produce-next"]}, nil
}

// ErrProducerDone is wrapped by the error ProduceNext returns once the
// producer has answered done: it is not called again.
var ErrProducerDone = errors.New("the producer said done: produce-next is not called again")

// ProduceNext calls the plugin's produce-next, with the per-call deadline.
// An error the plugin reports is a *Error of KindPluginError with its case
// in Code ("unrecoverable", "produce", "other"). An entry after done in the
// same answer breaks the contract: KindABI, and the instance is closed.
func (pr *ProducerInstance) ProduceNext(ctx context.Context) (Produced, error) {
	if pr.done {
		return Produced{}, &Error{Kind: KindClosed, Plugin: pr.name, Op: "produce-next", Err: ErrProducerDone}
	}
	res, err := pr.in.callFunc(ctx, "produce-next", pr.produce, nil)
	if err != nil {
		return Produced{}, err
	}
	if res.Num != 0 {
		e := res.Elems[0]
		codes := [...]string{"unrecoverable", "produce", "other"}
		return Produced{}, &Error{Kind: KindPluginError, Plugin: pr.name, Op: "produce-next", Code: codes[e.Num], Err: errors.New(strings.Clone(e.Elems[0].Str))}
	}
	return pr.collect(res.Elems[0].Elems)
}

// produce-return cases, in WIT order.
const (
	produceItem = iota
	produceSkipped
	produceIncomplete
	produceEmpty
	produceDone
)

// collect sorts the entries of one answer and converts the items.
func (pr *ProducerInstance) collect(entries []abi.Value) (Produced, error) {
	var out Produced
	pr.returns = pr.returns[:0]
	pr.fields = grow(pr.fields, 2*len(entries))
	for i, e := range entries {
		if out.Done {
			pr.in.Close()
			return Produced{}, &Error{Kind: KindABI, Plugin: pr.name, Op: "produce-next",
				Err: fmt.Errorf("entry %d of %d comes after done, which must be the last entry", i, len(entries))}
		}
		switch e.Num {
		case produceItem:
			// A parse-return view: value some(parse-yield), consumed 0.
			f := pr.fields[2*len(pr.returns) : 2*len(pr.returns)+2 : 2*len(pr.returns)+2]
			f[0], f[1] = abi.Value{Num: 1, Elems: e.Elems[:1]}, abi.Value{}
			pr.returns = append(pr.returns, abi.Value{Elems: f})
		case produceSkipped:
			out.Skipped++
		case produceIncomplete:
			out.Incomplete++
		case produceEmpty:
			out.Empty++
		case produceDone:
			out.Done = true
		}
	}
	out.Items = pr.convert(pr.returns)
	pr.done = out.Done
	return out, nil
}

// Close discards the instance and its temporary directory.
func (pr *ProducerInstance) Close() { pr.in.Close() }

// ID returns the instance id, unique within the Host; log records carry it
// (LogRecord.Instance).
func (pr *ProducerInstance) ID() uint64 { return pr.in.id }
