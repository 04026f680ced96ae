package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// handler is how the server runs one client→server method of the protocol
// table (protocol.Methods).
type handler struct {
	async bool // release the read loop before running (methods that may take time)
	work  bool // holds a concurrency slot while running; shutdown lets it finish
	run   func(s *Server, ctx context.Context, params json.RawMessage) (any, error)
	// params and result are the types run decodes and returns, checked
	// against the table by newRoutes.
	params, result reflect.Type
}

// Handler flags for typed.
const (
	async    = 1 << iota // see handler.async
	work                 // see handler.work
	required             // the params' required fields must be present and not null (see missingField)
)

// handlers returns the handler of every client→server method, by name.
// newRoutes checks it against the protocol table.
func handlers() map[string]handler {
	return map[string]handler{
		protocol.MethodInitialize:      typed((*Server).initialize, 0),
		protocol.MethodInitialized:     typed((*Server).initializedNotification, 0),
		protocol.MethodShutdown:        typed((*Server).shutdownRequest, 0),
		protocol.MethodExit:            typed((*Server).exitNotification, 0),
		protocol.MethodPluginsList:     typed((*Server).pluginsList, async|work),
		protocol.MethodPluginsDescribe: typed((*Server).pluginsDescribe, async|work),
		protocol.MethodPluginsReload:   typed((*Server).pluginsReload, async|work),
		protocol.MethodSessionsOpen:    typed((*Server).sessionsOpen, async|work),
		protocol.MethodSessionsGrab:    typed((*Server).sessionsGrab, async|work),
		protocol.MethodSessionsStream:  typed((*Server).sessionsStream, async),
		protocol.MethodSessionsClose:   typed((*Server).sessionsClose, async),
		protocol.MethodSearchesOpen:    typed((*Server).searchesOpen, async|work|required),
		protocol.MethodSearchesGrab:    typed((*Server).searchesGrab, async|work|required),
		protocol.MethodSearchesNearest: typed((*Server).searchesNearest, async|required),
		protocol.MethodSearchesClose:   typed((*Server).searchesClose, async|required),
		// Handled by the preempter first (see preempter).
		protocol.MethodCancelRequest:  typed((*Server).cancelNotification, 0),
		protocol.MethodSessionsCredit: typed((*Server).creditNotification, 0),
	}
}

// typed adapts a handler taking decoded params to the dispatch; flags are
// async and work.
func typed[P any, R any](f func(*Server, context.Context, *P) (R, error), flags int) handler {
	return handler{
		async: flags&async != 0, work: flags&work != 0,
		params: reflect.TypeFor[P](), result: reflect.TypeFor[R](),
		run: func(s *Server, ctx context.Context, raw json.RawMessage) (any, error) {
			var p P
			if len(raw) > 0 && string(raw) != "null" && !isEmptyArray(raw) {
				if err := json.Unmarshal(raw, &p); err != nil {
					return nil, invalidParams("invalid params: %s", paramsError(err))
				}
			}
			if flags&required != 0 {
				if err := missingField(raw, reflect.TypeFor[P]()); err != nil {
					return nil, err
				}
			}
			return f(s, ctx, &p)
		},
	}
}

// route is a message the server accepts: its handler, and whether the
// table says it is answered.
type route struct {
	handler
	request bool
}

// newRoutes joins the protocol table and the handlers. It fails when a
// client→server method has no handler, a handler has no client→server
// method in the table, or a handler's types are not the table's.
func newRoutes(table []protocol.Method, hs map[string]handler) (map[string]route, error) {
	routes := make(map[string]route, len(hs))
	var errs []error
	for _, m := range table {
		if m.Direction != protocol.ClientToServer {
			continue
		}
		h, ok := hs[m.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no handler", m.Name))
			continue
		}
		if err := checkTypes(m, h); err != nil {
			errs = append(errs, err)
		}
		routes[m.Name] = route{h, m.Request}
	}
	for name := range hs {
		if _, ok := routes[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: a handler, but no client→server method in the protocol table", name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dispatch does not match the protocol table: %w", errors.Join(errs...))
	}
	return routes, nil
}

var (
	noParams    = reflect.TypeFor[struct{}]()
	nullResult  = reflect.TypeFor[*protocol.Null]()
	anyResult   = reflect.TypeFor[any]()
	rawResult   = reflect.TypeFor[jsonrpc2.RawMessage]()
	handlerName = map[bool]string{true: "request", false: "notification"}
)

// checkTypes checks that handler h decodes the params type of m and
// returns its result type: a pointer to it, or JSON encoded by hand
// (jsonrpc2.RawMessage); nothing (any) for a notification and *Null for a
// null result.
func checkTypes(m protocol.Method, h handler) error {
	wantParams := m.ParamsType()
	if wantParams == nil {
		wantParams = noParams
	}
	if h.params != wantParams {
		return fmt.Errorf("%s: the handler decodes %v, the table says %v", m.Name, h.params, wantParams)
	}
	var ok bool
	switch want := m.ResultType(); {
	case !m.Request:
		ok = h.result == anyResult
	case want == nil:
		ok = h.result == nullResult
	default:
		ok = h.result == reflect.PointerTo(want) || h.result == rawResult
	}
	if !ok {
		return fmt.Errorf("%s: the handler returns %v, which does not fit the %s's result %v in the table", m.Name, h.result, handlerName[m.Request], m.ResultType())
	}
	return nil
}

// isEmptyArray reports whether raw is the JSON array []: params [] mean no
// params, as {} do (Neovim's vim.json encodes an empty table as []).
func isEmptyArray(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "[]"
}

// missingField checks that params raw, already decoded into struct type t,
// hold each of t's required fields (a json tag without omitempty, as the
// schemas in spec/schema list them) with a value other than null: a
// missing field would otherwise read as its zero value (start 0, direction
// ""), hiding the client's mistake. Keys match as the decoder matches them
// (case-insensitively).
func missingField(raw json.RawMessage, t reflect.Type) error {
	var obj map[string]json.RawMessage
	if len(raw) > 0 && string(raw) != "null" && !isEmptyArray(raw) {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil // not an object: the decoder has already said so
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		v, ok := lookupKey(obj, name)
		switch {
		case !ok:
			return invalidParams("%s: missing (%s)", name, fieldWant(f))
		case string(bytes.TrimSpace(v)) == "null":
			return invalidParams("%s: null (%s)", name, fieldWant(f))
		}
	}
	return nil
}

// lookupKey finds key in obj as encoding/json matches keys: the exact key
// first, else one equal under case folding.
func lookupKey(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// fieldWant names what a required field takes, for messages: the values of
// its jsonschema enum, else its JSON type.
func fieldWant(f reflect.StructField) string {
	var enum []string
	for _, opt := range strings.Split(f.Tag.Get("jsonschema"), ",") {
		if v, ok := strings.CutPrefix(opt, "enum="); ok {
			enum = append(enum, v)
		}
	}
	if len(enum) > 0 {
		return "want " + strings.Join(enum, " or ")
	}
	switch f.Type.Kind() {
	case reflect.String:
		return "want a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "want an integer"
	case reflect.Bool:
		return "want true or false"
	case reflect.Slice:
		return "want an array"
	}
	return "want an object"
}

// paramsError makes a json decoding error readable for clients.
func paramsError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "params"
		}
		return fmt.Sprintf("%s: want %s, found JSON %s", clip(field, maxEcho), te.Type, clip(te.Value, maxEcho))
	}
	return err.Error()
}

// handle is the server's jsonrpc2 handler: lifecycle gate, dispatch, async
// release, concurrency bound, then the call (panic guard, error mapping).
//
// The handler runs on its own context, derived from the serve context and
// registered under the request id for $/cancelRequest; the library's request
// context (rctx) is used only to release the read loop.
func (s *Server) handle(rctx context.Context, req *jsonrpc2.Request) (any, error) {
	ctx, cancel := context.WithCancel(s.baseCtx)
	defer cancel()
	rt, known := s.routes[req.Method()]
	if req.IsCall() {
		defer s.track(req.ID(), known && rt.work, cancel)()
	}
	if ok, err := s.gate(req.Method(), req.IsCall()); !ok {
		return nil, err
	}
	if ok, err := s.dispatchable(req, rt, known); !ok {
		return nil, err
	}
	if rt.async {
		// Before Async the method borrows the read buffer, which the next
		// read reuses; Async gives the request its own copy.
		jsonrpc2.Async(rctx)
	}
	if rt.work {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-ctx.Done():
			return nil, toWire(ctx, ctx.Err(), "")
		}
	}
	return s.call(ctx, req, rt.handler)
}

// track records an accepted call until its handler returns: as unanswered
// (answers.go; work says whether shutdown waits for it) and as
// cancellable by $/cancelRequest. The returned function ends the latter.
func (s *Server) track(id jsonrpc2.ID, work bool, cancel context.CancelFunc) (untrack func()) {
	s.answers.add(id, work)
	s.imu.Lock()
	s.inflight[id] = cancel
	s.imu.Unlock()
	return func() {
		s.imu.Lock()
		delete(s.inflight, id)
		s.imu.Unlock()
	}
}

// gate applies the lifecycle rules (spec/protocol.md, "Lifecycle"): it
// reports false when the message must not run, with the error that answers
// a call (nil: the notification is dropped).
func (s *Server) gate(method string, isCall bool) (bool, error) {
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case !initialized && method != protocol.MethodInitialize && method != protocol.MethodExit:
		if isCall {
			return false, jsonrpc2.NewError(protocol.CodeServerNotInitialized, "server not initialized: send initialize first")
		}
		return false, nil // LSP: notifications before initialize are dropped
	case initialized && method == protocol.MethodInitialize:
		return false, jsonrpc2.NewError(protocol.CodeInvalidRequest, "initialize was already sent")
	case shutdown && isCall:
		return false, jsonrpc2.NewError(protocol.CodeInvalidRequest, "server is shutting down: only exit is accepted")
	}
	return true, nil
}

// dispatchable reports false, with the error that answers a call, for a
// message the server does not run: an unknown method (known false), or a
// request sent as a notification.
func (s *Server) dispatchable(req *jsonrpc2.Request, rt route, known bool) (bool, error) {
	switch {
	case !known && req.IsCall():
		return false, jsonrpc2.NewError(protocol.CodeMethodNotFound, "method not found: "+echo(req.Method()))
	case !known:
		s.log.Debug().Str("method", clip(req.Method(), maxEcho)).Msg("ignoring unknown notification")
		return false, nil
	case rt.request && !req.IsCall():
		s.log.Warn().Str("method", req.Method()).Msg("request sent as a notification (no id); ignored")
		return false, nil
	}
	return true, nil
}

// call runs handler h for req with a logger naming the method and id, and
// maps its outcome: a call's error gets its code (toWire), a
// notification's is logged, never sent.
func (s *Server) call(ctx context.Context, req *jsonrpc2.Request, h handler) (any, error) {
	log := s.log.With().Str("method", req.Method()).Logger()
	if req.IsCall() {
		log = log.With().Str("id", clip(fmt.Sprint(req.ID()), maxEcho)).Logger()
	}
	ctx = log.WithContext(ctx)
	res, err := s.run(ctx, h, json.RawMessage(req.Params()))
	switch {
	case !req.IsCall():
		if err != nil { // never fail the connection for a notification
			log.Warn().Str("error", clip(err.Error(), maxErrorText)).Msg("notification failed")
		}
		return nil, nil
	case err != nil:
		log.Debug().Str("error", clip(err.Error(), maxErrorText)).Msg("request failed")
		return nil, toWire(ctx, err, "")
	}
	return res, nil
}

// run calls a handler, turning a panic into an internal error instead of
// letting it close the connection.
func (s *Server) run(ctx context.Context, h handler, params json.RawMessage) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("stack", string(debug.Stack())).Msgf("handler panic: %v", r)
			res, err = nil, wireError(protocol.CodeInternalError, fmt.Sprintf("internal error: %v", r), &protocol.ErrorData{Kind: kindInternal, Detail: fmt.Sprint(r)})
		}
	}()
	return h.run(s, ctx, params)
}

// preempter handles $/cancelRequest and sessions/credit on the read loop,
// ahead of anything queued, without blocking.
type preempter struct{ s *Server }

func (p preempter) Preempt(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case protocol.MethodCancelRequest:
		var cp protocol.CancelParams
		if err := json.Unmarshal(req.Params(), &cp); err == nil {
			if id, ok := toID(cp.ID); ok {
				p.s.cancelRequest(id)
			}
		}
		return true, nil
	case protocol.MethodSessionsCredit:
		var cp protocol.SessionsCreditParams
		if err := json.Unmarshal(req.Params(), &cp); err == nil {
			p.s.sessions.credit(cp.Session, cp.Credits.Rows)
		}
		return true, nil
	}
	return nil, jsonrpc2.ErrNotHandled
}

// cancelRequest cancels the running request id, and the batch member with
// that id (it runs under an alias, see rpc/framing); unknown ids are ignored.
func (s *Server) cancelRequest(id jsonrpc2.ID) {
	ids := []jsonrpc2.ID{id}
	if a, ok := s.stream.AliasOf(id); ok {
		ids = append(ids, a)
	}
	s.imu.Lock()
	var cancels []context.CancelFunc
	for _, id := range ids {
		if cancel := s.inflight[id]; cancel != nil {
			cancels = append(cancels, cancel)
		}
	}
	s.imu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// toID converts a decoded JSON id (float64 or string) to a jsonrpc2.ID.
func toID(v any) (jsonrpc2.ID, bool) {
	switch x := v.(type) {
	case float64:
		return jsonrpc2.NewNumberID(int64(x)), true
	case string:
		return jsonrpc2.NewStringID(x), true
	}
	return jsonrpc2.ID{}, false
}

// cancelNotification and creditNotification are only reached if the
// preempter did not handle the message; they do the same.
func (s *Server) cancelNotification(_ context.Context, p *protocol.CancelParams) (any, error) {
	if id, ok := toID(p.ID); ok {
		s.cancelRequest(id)
	}
	return nil, nil
}

func (s *Server) creditNotification(_ context.Context, p *protocol.SessionsCreditParams) (any, error) {
	s.sessions.credit(p.Session, p.Credits.Rows)
	return nil, nil
}
