package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryPageShowsTheCode checks that docs/HISTORY.md shows the
// publish script and the Go snippet exactly as the repository has them
// (the snippet runs in history/snippet_test.go).
func TestHistoryPageShowsTheCode(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page := read("docs/HISTORY.md")
	if lua := read("history/publish.lua"); !strings.Contains(page, "```lua\n"+lua+"```\n") {
		t.Error("docs/HISTORY.md does not show history/publish.lua verbatim")
	}
	src := read("history/snippet_test.go")
	_, rest, ok1 := strings.Cut(src, "// snippet start\n")
	snippet, _, ok2 := strings.Cut(rest, "\n// snippet end")
	if !ok1 || !ok2 {
		t.Fatal("history/snippet_test.go lost its snippet markers")
	}
	if !strings.Contains(page, "```go\n"+strings.TrimRight(snippet, "\n")+"\n```\n") {
		t.Error("docs/HISTORY.md does not show the snippet of history/snippet_test.go verbatim")
	}
}
