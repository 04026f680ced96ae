package rowjson

import (
	"encoding/json"
	"testing"

	"github.com/chiphost/chiphost/runtime"
)

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"q\"b\\n\nr\rt\t\x01", `"q\"b\\n\nr\rt\t\u0001"`},
		{"<&> ü 日本", `"<&> ü 日本"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
	}
	for _, tc := range tests {
		got := string(AppendString(nil, tc.in))
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%q: not JSON: %v", tc.in, err)
		}
	}
}

func TestAppendRow(t *testing.T) {
	created := "2024-01-01"
	tests := []struct {
		name string
		item runtime.Item
		path string
		want string
	}{
		{"line", runtime.Item{Message: &runtime.Message{Line: "hi"}}, "", `{"index":7,"line":"hi"}`},
		{"columns", runtime.Item{Message: &runtime.Message{Columns: []string{"2", "hi"}}}, "", `{"index":7,"columns":["2","hi"]}`},
		{"attachment only", runtime.Item{Attachment: &runtime.Attachment{Name: "a.txt", Size: 5, CreatedDate: &created}}, "/s/a.txt",
			`{"index":7,"attachment":{"name":"a.txt","size":5,"path":"/s/a.txt","createdDate":"2024-01-01","messages":[]}}`},
		{"both", runtime.Item{Message: &runtime.Message{Line: "x"}, Attachment: &runtime.Attachment{Name: "b", Size: 1, Messages: []uint64{0, 3}}}, "/b",
			`{"index":7,"line":"x","attachment":{"name":"b","size":1,"path":"/b","messages":[0,3]}}`},
	}
	for _, tc := range tests {
		got := string(AppendRow(nil, 7, &tc.item, tc.path))
		if got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.name, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: invalid JSON", tc.name)
		}
	}
}
