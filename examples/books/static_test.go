package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPublicRoutes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newApp(appConfig{WSURL: "ws://router.test/"}).Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantType, wantBody       string
	}{
		{name: "page", method: "GET", path: "/", wantStatus: 200, wantType: "text/html", wantBody: `<script type="module" src="app.js">`},
		{name: "client module", method: "GET", path: "/wsrouter.js", wantStatus: 200, wantType: "javascript", wantBody: "export class Client"},
		{name: "page script", method: "GET", path: "/app.js", wantStatus: 200, wantType: "javascript", wantBody: "from './wsrouter.js'"},
		{name: "config", method: "GET", path: "/config.json", wantStatus: 200, wantType: "application/json", wantBody: `{"ws_url":"ws://router.test/"}`},
		{name: "books", method: "GET", path: "/books", wantStatus: 200, wantType: "application/json", wantBody: `{"id":"book_1","title":"The Left Hand of Darkness"}`},
		{name: "ticket", method: "POST", path: "/ticket", body: `{"user":"alice"}`, wantStatus: 200, wantType: "application/json", wantBody: `{"ticket":"`},
		{name: "ticket without user", method: "POST", path: "/ticket", body: `{}`, wantStatus: 400, wantBody: "user must be"},
		{name: "ticket with a bad name", method: "POST", path: "/ticket", body: `{"user":"a b"}`, wantStatus: 400, wantBody: "user must be"},
		{name: "ticket by GET", method: "GET", path: "/ticket", wantStatus: 404},
		{name: "callback by GET", method: "GET", path: "/ws/books/authorize/", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.StatusCode, tt.wantStatus, body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want it to contain %q", ct, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %s, want it to contain %s", body, tt.wantBody)
			}
		})
	}
}
