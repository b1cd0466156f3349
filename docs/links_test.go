package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, relative to this package's directory.
const root = ".."

// pages are the Markdown files a user reads, relative to root.
func pages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"*.md", "docs/*.md", "clients/js/*.md", "examples/*/*.md"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatalf("glob %s: %v", pattern, err)
		}
		out = append(out, m...)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d Markdown pages: %v", len(out), out)
	}
	return out
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	slugDrop  = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	specRE    = regexp.MustCompile(`\bSPEC\b`)
	// inlineCodeRE matches `code` spans, whose text is not a link.
	inlineCodeRE = regexp.MustCompile("`[^`\n]*`")
)

// slug is the anchor GitHub gives a heading.
func slug(heading string) string {
	s := slugDrop.ReplaceAllString(strings.ToLower(heading), "")
	return strings.ReplaceAll(s, " ", "-")
}

// anchors lists the heading anchors of a Markdown file.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(stripCode(string(b)), -1) {
		out[slug(m[1])] = true
	}
	return out
}

// stripCode blanks fenced code blocks, whose lines are not headings.
func stripCode(s string) string {
	lines := strings.Split(s, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// TestLinksResolve checks that every relative link of every page names a
// file or directory that exists and, with a #fragment into Markdown, a
// heading of that file.
func TestLinksResolve(t *testing.T) {
	t.Parallel()
	for _, page := range pages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := inlineCodeRE.ReplaceAllString(stripCode(string(b)), "")
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link %q: %v", page, target, err)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(path, ".md") && !anchors(t, path)[frag] {
				t.Errorf("%s: link %q: no heading with anchor #%s in %s", page, target, frag, path)
			}
		}
	}
}

// TestNoSpecReferences checks that the pages stand alone: none sends the
// reader to a specification file that is not in the repository.
func TestNoSpecReferences(t *testing.T) {
	t.Parallel()
	for _, page := range pages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if specRE.MatchString(line) {
				t.Errorf("%s:%d: refers to SPEC, which users do not have: %s", page, i+1, line)
			}
		}
	}
}

// TestReadmeStaysShort keeps the README a newcomer's page: reference
// material belongs in docs/. Code blocks, which show the examples in
// full, do not count.
func TestReadmeStaysShort(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	prose := 0
	for _, line := range strings.Split(stripCode(string(b)), "\n") {
		if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "    ") {
			prose++
		}
	}
	if prose > 130 {
		t.Errorf("README.md has %d lines of prose; move reference material into docs/ (limit 130)", prose)
	}
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Options: order and throttle", "options-order-and-throttle"},
		{"Origins: the one thing to do first", "origins-the-one-thing-to-do-first"},
		{"`auth`", "auth"},
		{"Filter fields consult authorizer fields", "filter-fields-consult-authorizer-fields"},
	} {
		if got := slug(tc.in); got != tc.want {
			t.Errorf("slug(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
