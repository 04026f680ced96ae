package runtime_test

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime/internal/component"
)

// The string_parser core module wrapped twice by wit-component: against the
// released 0.1.0 WIT and against the producer draft's layout, which moves
// columns-render-options and column-info into chipmunk:shared/shared-types.
const (
	releasedLayout = "parsers/string_parser/string_parser.wasm"
	draftLayout    = "compat/string_parser_draft/string_parser_draft.wasm"
)

// TestWITLayoutsDiffer checks that the two fixtures really are built against
// the two layouts: in the draft build the column types are exported by the
// shared-types instance import and parse-types only re-exports
// columns-render-options (an alias of the shared-types one); in the released
// build parse-types defines both and shared-types has neither.
func TestWITLayoutsDiffer(t *testing.T) {
	for _, tc := range []struct {
		fixture                      string
		sharedHas, parseTypesHas     []string
		sharedLacks, parseTypesLacks []string
	}{
		{releasedLayout, nil, []string{"columns-render-options", "column-info"}, []string{"columns-render-options", "column-info"}, nil},
		{draftLayout, []string{"columns-render-options", "column-info"}, []string{"columns-render-options"}, nil, []string{"column-info"}},
	} {
		bin, err := os.ReadFile(testutil.Plugin(t, tc.fixture))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := component.Decode(bin)
		if err != nil {
			t.Fatalf("%s: %v", tc.fixture, err)
		}
		types := map[string]map[string]bool{}
		for _, imp := range plan.Imports {
			types[imp.Name] = map[string]bool{}
			for n := range imp.Types {
				types[imp.Name][n] = true
			}
		}
		shared, parseTypes := types["chipmunk:shared/shared-types@0.1.0"], types["chipmunk:parser/parse-types@0.1.0"]
		if shared == nil || parseTypes == nil {
			t.Fatalf("%s: imports %v, want shared-types and parse-types instances", tc.fixture, reflect.ValueOf(types).MapKeys())
		}
		check := func(what string, set map[string]bool, names []string, want bool) {
			for _, n := range names {
				if set[n] != want {
					t.Errorf("%s: %s exports type %s = %v, want %v", tc.fixture, what, n, set[n], want)
				}
			}
		}
		check("shared-types", shared, tc.sharedHas, true)
		check("shared-types", shared, tc.sharedLacks, false)
		check("parse-types", parseTypes, tc.parseTypesHas, true)
		check("parse-types", parseTypes, tc.parseTypesLacks, false)
	}
}

// TestWITLayoutsLoadAlike loads both builds: the same kind, API version,
// version, config schemas and render options. (Their rows are compared in
// TestStringParserAgrees and, call by call against the jco reference host,
// in TestOracleScenarios.)
func TestWITLayoutsLoadAlike(t *testing.T) {
	h := newTestHost(t, nil)
	ctx := context.Background()
	rel, err := h.Load(ctx, fixture(t, releasedLayout))
	if err != nil {
		t.Fatal(err)
	}
	draft, err := h.Load(ctx, fixture(t, draftLayout))
	if err != nil {
		t.Fatalf("draft layout: %v", err)
	}
	if draft.Kind != rel.Kind || draft.APIVersion != rel.APIVersion || draft.Version != rel.Version {
		t.Errorf("draft layout: kind %s API %s version %s; released: %s %s %s", draft.Kind, draft.APIVersion, draft.Version, rel.Kind, rel.APIVersion, rel.Version)
	}
	if !reflect.DeepEqual(draft.ConfigSchemas, rel.ConfigSchemas) || len(rel.ConfigSchemas) != 7 {
		t.Errorf("config schemas differ:\n draft    %+v\n released %+v", draft.ConfigSchemas, rel.ConfigSchemas)
	}
	if rel.RenderOptions == nil || !reflect.DeepEqual(draft.RenderOptions, rel.RenderOptions) {
		t.Errorf("render options differ: draft %+v, released %+v", draft.RenderOptions, rel.RenderOptions)
	}
}
