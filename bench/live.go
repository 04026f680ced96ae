package bench

import (
	"context"
)

// liveSection measures live sources (issue 10, docs/performance.md "Live
// sources"): how soon a line written to a pipe or appended to a followed
// file reaches chiphost parse's stdout and a client of chiphost serve; what
// streaming reads cost on a finished file against Options.FullWindows; and
// a followed file growing at a steady 20 MB/s.
func (b *bencher) liveSection(ctx context.Context) error {
	if b.cfg.Exe == "" {
		b.Skip(7, "no chiphost binary")
		return nil
	}
	parsers := []liveParser{{Name: "text"}, {Name: "string_parser", Wasm: b.cfg.fixture(fxString)}}
	parts := []struct {
		name string
		f    func(context.Context, []liveParser) error
	}{
		{"latency", b.latencyFigures},
		{"cost", b.streamCostFigures},
		{"follow", b.followFigures},
	}
	for _, p := range parts {
		if !b.cfg.wantLive(p.name) {
			continue
		}
		if err := p.f(ctx, parsers); err != nil {
			return err
		}
	}
	return nil
}
