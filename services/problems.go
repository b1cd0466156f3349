package services

import (
	"errors"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// File is the configuration file's name; empty for a Config built in Go.
	File string
	// Line is the 1-based line of the offending key; 0 when unknown.
	Line int
	// Path is the key path, e.g. "services.books.authorizer" or
	// "http.rate_limit_reset_headers[1]"; empty for a problem with the
	// whole file, such as a YAML syntax error.
	Path string
	// Message says what is wrong, naming the bad value.
	Message string
}

// String formats p as "FILE:LINE: KEY.PATH: message", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one configuration. Parse, Load and
// Validate return it as a *Problems; use AsProblems to get it back from an
// error.
type Problems []Problem

// Error lists every problem, one per line.
func (ps *Problems) Error() string {
	lines := make([]string, len(*ps))
	for i, p := range *ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// AsProblems returns the problems carried by err, if it is (or wraps) a
// *Problems.
func AsProblems(err error) (Problems, bool) {
	var ps *Problems
	if errors.As(err, &ps) && ps != nil {
		return *ps, true
	}
	return nil, false
}
