package services

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// yamlLineRE matches the "yaml: line N: " prefix of a yaml.v3 syntax
// error (and the "line N: " of parseYAML's own).
var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxProblem turns a YAML syntax error into a Problem with the line in
// the FILE:LINE form. A tab in the indentation, the most common cause of
// "found character that cannot start any token", is named as such.
func syntaxProblem(data []byte, err error) Problem {
	msg := err.Error()
	p := Problem{Message: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = "YAML syntax: " + msg[len(m[0]):]
	}
	tabby := strings.Contains(msg, "tab") || strings.Contains(msg, "cannot start any token")
	if line, col := tabLine(data, p.Line); tabby && line > 0 {
		p.Line = line
		p.Message = fmt.Sprintf("a tab character at column %d: YAML indents with spaces, not tabs (%s)", col, p.Message)
	}
	return p
}

// tabLine finds the tab that most likely caused a syntax error: one in
// the indentation of line near (1-based; the parser reports the line it
// stopped on, which can be a later one), else of the first line that has
// one. It returns 0 when no line is indented with a tab.
func tabLine(data []byte, near int) (line, col int) {
	lines := bytes.Split(data, []byte("\n"))
	indentTab := func(i int) int {
		if i < 1 || i > len(lines) {
			return 0
		}
		l := lines[i-1]
		indent := len(l) - len(bytes.TrimLeft(l, " \t"))
		if j := bytes.IndexByte(l[:indent], '\t'); j >= 0 {
			return j + 1
		}
		return 0
	}
	for _, i := range []int{near, near - 1} {
		if c := indentTab(i); c > 0 {
			return i, c
		}
	}
	for i := 1; i <= len(lines); i++ {
		if c := indentTab(i); c > 0 {
			return i, c
		}
	}
	return 0, 0
}
