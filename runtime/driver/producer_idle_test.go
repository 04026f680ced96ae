package driver

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chiphost/chiphost/runtime"
)

// scripted answers ProduceNext from a list, then done.
type scripted struct{ answers []runtime.Produced }

func (s *scripted) ProduceNext(context.Context) (runtime.Produced, error) {
	if len(s.answers) == 0 {
		return runtime.Produced{Done: true}, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

type countRows struct{ n int }

func (c *countRows) Rows(_ context.Context, rows []Row) error { c.n += len(rows); return nil }

// TestProducerIdlePauses: a producer with nothing new is called again after
// pauses that double from 1 ms to 50 ms; an answer with items ends the
// pauses, one with skipped entries is followed by an immediate call. Before,
// RunProducer called an idle producer back to back, keeping a core busy.
func TestProducerIdlePauses(t *testing.T) {
	item := runtime.Produced{Items: []runtime.Item{{Message: &runtime.Message{Line: "x"}}}}
	nothing := runtime.Produced{}
	empty := runtime.Produced{Empty: 1}
	incomplete := runtime.Produced{Incomplete: 1}
	skipped := runtime.Produced{Skipped: 2}
	answers := []runtime.Produced{nothing, empty, incomplete, item, empty, skipped, empty}
	for range 8 {
		answers = append(answers, nothing)
	}
	var pauses []time.Duration
	wait := func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
	var sink countRows
	st, err := runProducer(context.Background(), &scripted{answers: answers}, &sink, nil, wait)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	want := []time.Duration{1 * ms, 2 * ms, 4 * ms, 1 * ms, 1 * ms, 2 * ms, 4 * ms, 8 * ms, 16 * ms, 32 * ms, 50 * ms, 50 * ms, 50 * ms}
	if !slices.Equal(pauses, want) {
		t.Errorf("pauses %v, want %v", pauses, want)
	}
	if sink.n != 1 || st.Items != 1 || st.Calls != uint64(len(answers)+1) {
		t.Errorf("rows %d, stats %+v; want 1 row in %d calls", sink.n, st, len(answers)+1)
	}
}

// TestProducerIdlePauseCancelled: cancelling while an idle producer is
// paused ends the run with the context's error, not done.
func TestProducerIdlePauseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wait := func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, time.Hour) // returns at once: ctx is done
	}
	_, err := runProducer(ctx, &scripted{answers: []runtime.Produced{{}, {}}}, &countRows{}, nil, wait)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}
