// Package docs holds the user documentation as Markdown, and tests that
// keep it honest: every relative link resolves, no page points at a file
// the repository does not have, and the README's code matches the example
// files it shows.
package docs
