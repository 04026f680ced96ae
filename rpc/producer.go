package rpc

import (
	"context"

	"github.com/chiphost/chiphost/rpc/protocol"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// Sessions of producer plugins: sessions/open {"producer": {"plugin",
// "config"}}. A producer reads the input its config names, so the session
// has no source and no parser; rows, grab, stream, progress and close work
// as for any session.

// checkProducerParams checks the shape of sessions/open params with a
// producer: a plugin, and no source or parser.
func checkProducerParams(p *protocol.SessionsOpenParams) error {
	src, par := p.Source, p.Parser
	switch {
	case p.Producer.Plugin == "":
		return invalidParams("producer.plugin: required (the id or name of a producer plugin, or a .wasm path)")
	case src.File != "" || src.Stdin || src.Plugin != "" || src.Config != nil || src.Follow ||
		par.Plugin != "" || par.Builtin != "" || par.Config != nil:
		return invalidParams("producer: a session with a producer has no source and no parser (the producer reads the input its config names)")
	}
	return nil
}

// startProducerSession creates the session's producer instance, registers
// the session and starts its run, as startSession does for a source and a
// parser.
func (s *Server) startProducerSession(ctx, runCtx context.Context, sess *session, plan *openPlan) (*protocol.SessionsOpenResult, error) {
	stop := context.AfterFunc(ctx, sess.cancel)
	defer stop()
	initCtx := runtime.WithCompileTrace(runCtx, runtime.CompileTraceFrom(ctx))
	pr, err := plan.producer.NewProducer(initCtx, initOptions(sess, plan.level, plan.producerCfg))
	if err != nil {
		return nil, err
	}
	sess.closes = append(sess.closes, pr.Close)
	sess.plugin, sess.parser = plan.producer.Name, plan.producer.Name
	sess.addInstance(pr)
	res := &protocol.SessionsOpenResult{Session: sess.id}
	if ro := plan.producer.RenderOptions; ro != nil {
		res.Columns = ro.Columns
		res.RenderOptions = ro
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if !stop() {
		return nil, context.Canceled
	}
	s.sessions.add(sess)
	s.startParseProgress(sess, plan.progressToken, protocol.SourceSpec{})
	go s.runSession(runCtx, sess, func(ctx context.Context, sink driver.Sink, o *driver.Options) (driver.Stats, error) {
		return driver.RunProducer(ctx, pr, sink, o)
	})
	go s.sessionUpdates(sess)
	return res, nil
}
