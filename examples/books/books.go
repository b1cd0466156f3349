package main

import (
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"
)

// Book is the state the page shows and edits.
type Book struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Author string `json:"author"`
	Notes  string `json:"notes"`
	// Version counts edits; it is the publication's order, so a client
	// never goes back to an older state.
	Version  int64  `json:"version"`
	EditedBy string `json:"edited_by,omitempty"`
}

// Edit is the data of a message event: the fields to change.
type Edit struct {
	Title *string `json:"title"`
	Notes *string `json:"notes"`
}

// Limits of an edit, in characters.
const (
	maxTitle = 200
	maxNotes = 2000
)

// refusal is an error whose text is shown to the user as is, in the
// style of the router's own error strings ("Unauthorized.").
type refusal string

func (r refusal) Error() string { return string(r) }

// errNoBook is the error answered for a subscription to an unknown book.
const errNoBook = refusal("No such book.")

// bookStore holds the books in memory.
type bookStore struct {
	mu    sync.Mutex
	books map[string]*Book
}

func newBookStore() *bookStore {
	s := &bookStore{books: make(map[string]*Book)}
	for _, b := range []Book{
		{ID: "book_1", Title: "The Left Hand of Darkness", Author: "Ursula K. Le Guin", Notes: "Winter on Gethen."},
		{ID: "book_2", Title: "Invisible Cities", Author: "Italo Calvino", Notes: "Marco Polo describes cities to Kublai Khan."},
		{ID: "book_3", Title: "The Periodic Table", Author: "Primo Levi", Notes: "Twenty-one elements, twenty-one stories."},
	} {
		s.books[b.ID] = &b
	}
	return s
}

// Get returns a copy of the book.
func (s *bookStore) Get(id string) (Book, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.books[id]
	if !ok {
		return Book{}, false
	}
	return *b, true
}

// List returns every book, by id.
func (s *bookStore) List() []Book {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Book, 0, len(s.books))
	for _, b := range s.books {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Book) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Apply validates and applies an edit, bumps the version and returns the
// new state. The error text is shown to the user as is.
func (s *bookStore) Apply(id, user string, e Edit) (Book, error) {
	switch {
	case e.Title == nil && e.Notes == nil:
		return Book{}, refusal("Nothing to change.")
	case e.Title != nil && (*e.Title == "" || utf8.RuneCountInString(*e.Title) > maxTitle):
		return Book{}, refusal(fmt.Sprintf("The title must have 1 to %d characters.", maxTitle))
	case e.Notes != nil && utf8.RuneCountInString(*e.Notes) > maxNotes:
		return Book{}, refusal(fmt.Sprintf("The notes can have at most %d characters.", maxNotes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.books[id]
	if !ok {
		return Book{}, errNoBook
	}
	if e.Title != nil {
		b.Title = *e.Title
	}
	if e.Notes != nil {
		b.Notes = *e.Notes
	}
	b.Version++
	b.EditedBy = user
	return *b, nil
}
