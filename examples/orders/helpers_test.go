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
