package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// jsonDecode decodes a 2xx JSON answer into v.
func jsonDecode(res *http.Response, v any) error {
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %s", res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// sameJSON reports whether got and the JSON text want are equal as JSON.
func sameJSON(got map[string]any, want string) bool {
	var w map[string]any
	if json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}
