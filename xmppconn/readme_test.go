package xmppconn_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMESnippets checks that every Go snippet of the README stands, as
// it is, in a test file of this package, where the compiler checks it.
func TestREADMESnippets(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippet in the README")
	}
	for _, b := range blocks {
		if !strings.Contains(string(example), string(b[1])) {
			t.Errorf("README snippet not in example_readme_test.go (copy it there so that it compiles):\n%s", b[1])
		}
	}
}
