package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// callbackRequest is the JSON body of every router callback: the
// subscription, the session's auth fields (user_id), the authorizer's
// fields (can_edit) and, for on_message, the client's data.
type callbackRequest struct {
	Subscription string          `json:"subscription"`
	UserID       string          `json:"user_id"`
	CanEdit      bool            `json:"can_edit"`
	Data         json.RawMessage `json:"data"`
}

// ok and fail are the two answers a callback gives (SPEC section 4).
func ok(extra map[string]any) map[string]any {
	out := map[string]any{"status": "ok"}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func fail(msg string) map[string]any { return map[string]any{"status": "error", "error": msg} }

// decodeCallback reads a callback body; on failure it answers 400, which
// the router takes as a final error.
func decodeCallback(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, fail("Bad request."))
		return false
	}
	return true
}

// bookID is the topic of a books.<id> subscription.
func bookID(subscription string) string {
	id, _ := strings.CutPrefix(subscription, "books.")
	return id
}

// handleValidateTicket redeems a ticket: {"ticket":T} → user_id.
func (a *app) handleValidateTicket(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ticket string `json:"ticket"`
	}
	if !decodeCallback(w, r, &req) {
		return
	}
	user, found := a.tickets.Redeem(req.Ticket)
	if !found {
		a.log.Info("ticket refused")
		writeJSON(w, http.StatusOK, fail("Invalid or expired ticket."))
		return
	}
	a.log.Info("ticket redeemed", "user", user)
	writeJSON(w, http.StatusOK, ok(map[string]any{"user_id": user}))
}

// handleAuthorize allows any signed-in user to read an existing book; users
// named guest… may not edit (can_edit reaches on_message).
func (a *app) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	var req callbackRequest
	if !decodeCallback(w, r, &req) {
		return
	}
	if _, found := a.books.Get(bookID(req.Subscription)); !found {
		writeJSON(w, http.StatusOK, fail(errNoBook.Error()))
		return
	}
	writeJSON(w, http.StatusOK, ok(map[string]any{"can_edit": !strings.HasPrefix(req.UserID, "guest")}))
}

// handleBeforeSubscribe answers the book's current state. Its version
// seeds the order filter, so a change published while the client was
// subscribing is delivered only if it is newer than this state.
func (a *app) handleBeforeSubscribe(w http.ResponseWriter, r *http.Request) {
	var req callbackRequest
	if !decodeCallback(w, r, &req) {
		return
	}
	b, found := a.books.Get(bookID(req.Subscription))
	if !found {
		writeJSON(w, http.StatusOK, fail(errNoBook.Error()))
		return
	}
	a.log.Info("reader joined", "user", req.UserID, "book", b.ID)
	writeJSON(w, http.StatusOK, ok(map[string]any{
		"data":    map[string]any{"book": b},
		"options": map[string]any{"order": b.Version},
	}))
}

// handleOnMessage applies an edit and PUBLISHes the new state with its
// version as the order. The answer carries no data, so the router sends
// the editor no reply: the edit comes back to every reader, the editor
// included, as a delivery.
func (a *app) handleOnMessage(w http.ResponseWriter, r *http.Request) {
	var req callbackRequest
	if !decodeCallback(w, r, &req) {
		return
	}
	if !req.CanEdit {
		writeJSON(w, http.StatusOK, fail("Guests can read but not edit."))
		return
	}
	var e Edit
	dec := json.NewDecoder(bytes.NewReader(req.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		writeJSON(w, http.StatusOK, fail("An edit is an object with title and/or notes."))
		return
	}
	b, err := a.books.Apply(bookID(req.Subscription), req.UserID, e)
	if err != nil { // a refusal: its text is for the user
		writeJSON(w, http.StatusOK, fail(err.Error()))
		return
	}
	pub := publication{
		Subscription: req.Subscription,
		Data:         map[string]any{"book": b},
		Options:      map[string]any{"order": b.Version},
	}
	if err := a.pub.Publish(r.Context(), req.Subscription, pub.encode()); err != nil {
		a.log.Error("publish failed", "err", err)
		writeJSON(w, http.StatusOK, fail("Saved, but the change could not be sent to readers."))
		return
	}
	a.log.Info("book edited", "user", req.UserID, "book", b.ID, "version", b.Version)
	writeJSON(w, http.StatusOK, ok(nil))
}

// handleBeforeUnsubscribe lets every reader leave.
func (a *app) handleBeforeUnsubscribe(w http.ResponseWriter, r *http.Request) {
	var req callbackRequest
	if !decodeCallback(w, r, &req) {
		return
	}
	writeJSON(w, http.StatusOK, ok(nil))
}

// handleOnUnsubscribe is told that a reader left, also when its
// connection closed; its answer is ignored.
func (a *app) handleOnUnsubscribe(w http.ResponseWriter, r *http.Request) {
	var req callbackRequest
	if !decodeCallback(w, r, &req) {
		return
	}
	a.log.Info("reader left", "user", req.UserID, "book", bookID(req.Subscription))
	writeJSON(w, http.StatusOK, ok(nil))
}
