package framing

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/jsonstr"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// This file checks each well-formed frame before the library sees it, for
// what the library does not do the way JSON-RPC 2.0 (spec/protocol.md,
// "Messages") asks:
//
//   - an invalid request is answered with -32600 and its id whenever the
//     id can be read (the library answers id null);
//   - a request with "id": null is a request (the library takes it for a
//     notification and never answers it);
//   - a batch is answered member by member: a member that is not a request
//     object gets -32600 (the library answers -32700 for `[1,2,3]`).
//
// Batches are split here: their members reach the library one by one, as
// single messages, and their responses are gathered back into one array.
// Requests whose response must be routed (batch members, null ids) are
// handed over under an alias id that no client can guess; the stream turns
// the alias back into the request's own id when it writes the response.

// inbound is the stream's state for the above.
type inbound struct {
	prefix string   // alias ids: prefix + counter; the prefix holds a random nonce
	queue  [][]byte // batch members not yet handed to the library (read goroutine only)

	mu      sync.Mutex
	next    uint64
	aliases map[string]*alias
	byID    map[jsonrpc2.ID]string // a request's own id → its alias (for $/cancelRequest)
}

// alias is a request handed to the library under another id.
type alias struct {
	raw   []byte         // the request's own id as JSON ("null" for a null id)
	id    jsonrpc2.ID    // the same, decoded (the zero ID for null)
	batch *batchResponse // the batch it belongs to, or nil
}

// batchResponse gathers the responses of one batch.
type batchResponse struct {
	mu      sync.Mutex
	pending int      // calls not answered yet
	resps   [][]byte // responses so far
}

func newInbound() *inbound {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	return &inbound{
		prefix:  "chiphost-" + hex.EncodeToString(nonce) + "-",
		aliases: map[string]*alias{},
		byID:    map[jsonrpc2.ID]string{},
	}
}

// pop returns the next queued batch member, or nil.
func (in *inbound) pop() []byte {
	if len(in.queue) == 0 {
		return nil
	}
	m := in.queue[0]
	in.queue[0] = nil
	in.queue = in.queue[1:]
	return m
}

// aliasCall returns request msg (a call or a null-id request) rebuilt
// under a new alias id, and records the alias.
func (in *inbound) aliasCall(msg []byte, batch *batchResponse) ([]byte, bool) {
	v, err := jsonrpc2.ScanMessageView(msg)
	if err != nil || len(v.MethodRaw) == 0 {
		return nil, false
	}
	a := &alias{raw: []byte("null"), batch: batch}
	if len(v.IDRaw) > 0 && !bytes.Equal(v.IDRaw, []byte("null")) {
		id, ok := readID(v.IDRaw)
		if !ok {
			return nil, false
		}
		a.raw, a.id = bytes.Clone(v.IDRaw), id
	}
	in.mu.Lock()
	in.next++
	name := in.prefix + strconv.FormatUint(in.next, 10)
	in.aliases[name] = a
	if a.id.IsValid() {
		in.byID[a.id] = name
	}
	in.mu.Unlock()
	out := make([]byte, 0, len(msg)+len(name)+16)
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	out = jsonstr.Append(out, name)
	out = append(out, `,"method":`...)
	out = append(out, v.MethodRaw...)
	if v.Params != nil {
		out = append(out, `,"params":`...)
		out = append(out, v.Params...)
	}
	return append(out, '}'), true
}

// resolve takes the alias of a response id, if it is one.
func (in *inbound) resolve(id jsonrpc2.ID) (*alias, bool) {
	name, ok := id.StringValue()
	if !ok || !strings.HasPrefix(name, in.prefix) {
		return nil, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	a, ok := in.aliases[name]
	if ok {
		delete(in.aliases, name)
		if in.byID[a.id] == name {
			delete(in.byID, a.id)
		}
	}
	return a, ok
}

// aliasOf returns the alias a request with the given own id runs under.
func (in *inbound) aliasOf(id jsonrpc2.ID) (jsonrpc2.ID, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	name, ok := in.byID[id]
	return jsonrpc2.NewStringID(name), ok
}

// withOwnID returns response frame resp, whose id ends at end, with the
// request's own id instead of the alias.
func (a *alias) withOwnID(resp []byte, end int) []byte {
	const head = `{"jsonrpc":"2.0","id":`
	out := make([]byte, 0, len(head)+len(a.raw)+len(resp)-end)
	out = append(out, head...)
	out = append(out, a.raw...)
	return append(out, resp[end:]...)
}

// add records one response; once every call has one it returns the batch
// response to write.
func (b *batchResponse) add(resp []byte) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resps = append(b.resps, resp)
	b.pending--
	if b.pending > 0 {
		return nil
	}
	return joinArray(b.resps)
}

// joinArray encodes frames as one JSON array.
func joinArray(frames [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(frames, []byte{','})...), ']')
}

// readID decodes a JSON-RPC id: a string or an integer.
func readID(raw []byte) (jsonrpc2.ID, bool) {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return jsonrpc2.NewStringID(s), true
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return jsonrpc2.NewNumberID(n), true
	}
	return jsonrpc2.ID{}, false
}

// checkMessage returns the frame to hand to the library for the single
// message body (a null-id request is rebuilt under an alias), or answers an
// invalid request itself and returns nil.
func (s *Stream) checkMessage(body []byte) []byte {
	msg, err := jsonrpc2.DecodeMessage(body)
	if err != nil {
		id, why := invalidRequest(body)
		s.answerError(id, protocol.CodeInvalidRequest, why)
		return nil
	}
	if _, ok := msg.(*jsonrpc2.Notification); ok && hasNullID(body) {
		if out, ok := s.in.aliasCall(body, nil); ok {
			return out
		}
	}
	return body
}

// splitBatch queues the members of a batch for the library and answers
// what it must itself: an empty batch, members that are not requests.
func (s *Stream) splitBatch(body []byte) {
	var members []json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || len(members) == 0 {
		s.answerError(jsonrpc2.ID{}, protocol.CodeInvalidRequest, "invalid request: an empty batch")
		return
	}
	batch := &batchResponse{}
	var queue [][]byte
	for _, m := range members {
		msg, err := jsonrpc2.DecodeMessage(m)
		_, isResponse := msg.(*jsonrpc2.Response)
		_, isNote := msg.(*jsonrpc2.Notification)
		switch {
		case err != nil || isResponse:
			id, why := invalidRequest(m)
			batch.resps = append(batch.resps, errorFrame(id, protocol.CodeInvalidRequest, why))
		case isNote && !hasNullID(m):
			queue = append(queue, m)
		default: // a call, or a request with id null
			if out, ok := s.in.aliasCall(m, batch); ok {
				batch.pending++
				queue = append(queue, out)
			}
		}
	}
	if s.onBad != nil && len(batch.resps) > 0 {
		s.onBad("batch with invalid members")
	}
	s.in.queue = append(s.in.queue, queue...)
	if batch.pending == 0 && len(batch.resps) > 0 {
		_, _ = s.emit(joinArray(batch.resps))
	}
}

// hasNullID reports whether message m has "id": null.
func hasNullID(m []byte) bool {
	v, err := jsonrpc2.ScanMessageView(m)
	return err == nil && bytes.Equal(v.IDRaw, []byte("null"))
}

// invalidRequest explains why message m (valid JSON) is not a request, and
// returns its id when it can be read: m has a method and a string or
// integer id. Otherwise the id is null.
func invalidRequest(m []byte) (jsonrpc2.ID, string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(m, &obj) != nil {
		return jsonrpc2.ID{}, "invalid request: a message is a JSON object, found " + jsonType(m)
	}
	var id jsonrpc2.ID
	method, hasMethod := obj["method"]
	if hasMethod {
		id, _ = readID(obj["id"])
	}
	_, hasResult := obj["result"]
	_, hasError := obj["error"]
	var s string
	switch {
	case string(obj["jsonrpc"]) != `"2.0"`:
		return id, `invalid request: "jsonrpc" must be "2.0"`
	case !hasMethod && (hasResult || hasError):
		return id, "invalid request: a response where a request was expected"
	case !hasMethod:
		return id, `invalid request: no "method"`
	case json.Unmarshal(method, &s) != nil:
		return id, `invalid request: "method" must be a string`
	case hasResult || hasError:
		return id, `invalid request: a request has no "result" or "error"`
	case obj["id"] != nil && !id.IsValid() && string(obj["id"]) != "null":
		return id, `invalid request: "id" must be a string, an integer or null`
	}
	return id, "invalid request"
}

// jsonType names the type of JSON value v.
func jsonType(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// errorFrame encodes an error response.
func errorFrame(id jsonrpc2.ID, code jsonrpc2.Code, msg string) []byte {
	data, err := jsonrpc2.EncodeMessage(jsonrpc2.NewResponse(id, nil, jsonrpc2.NewError(code, msg)))
	if err != nil { // cannot happen for these values
		return []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"encoding an error failed"}}`)
	}
	return data
}

// answerError writes an error response the server gives itself.
func (s *Stream) answerError(id jsonrpc2.ID, code jsonrpc2.Code, msg string) {
	if s.onBad != nil {
		s.onBad(msg)
	}
	_, _ = s.emit(errorFrame(id, code, msg))
}

// validUTF8 returns b with every byte that is not part of valid UTF-8
// replaced by U+FFFD, which is how encoding/json reads such bytes in
// strings: ids then read the same as every other string, and no response
// echoes invalid UTF-8.
func validUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+64)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}
