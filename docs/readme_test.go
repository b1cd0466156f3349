package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// fileBlockRE finds a code block the README marks as a file's content:
// an HTML comment naming the file, then a fenced block.
var fileBlockRE = regexp.MustCompile("(?ms)^<!-- file: (\\S+) -->\\n```[a-z]*\\n(.*?)^```$")

// TestReadmeShowsExampleFiles checks that each code block the README
// presents as an example file is that file, byte for byte, so what a
// reader copies is what CI runs.
func TestReadmeShowsExampleFiles(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, m := range fileBlockRE.FindAllStringSubmatch(string(b), -1) {
		name, block := m[1], m[2]
		shown[name] = true
		want, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("README shows %s: %v", name, err)
			continue
		}
		if block != string(want) {
			t.Errorf("README's copy of %s differs from the file; paste the file again", name)
		}
	}
	for _, name := range []string{"examples/orders/config.yaml", "examples/orders/orders.py", "examples/orders/main.go"} {
		if !shown[name] {
			t.Errorf("README does not show %s (a <!-- file: %s --> comment before its code block)", name, name)
		}
	}
}
