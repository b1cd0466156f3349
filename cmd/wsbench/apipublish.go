package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiPublisher sends the benchmark messages through the router's HTTP API
// instead of Redis: one POST /api/publish per message, or with batch > 1
// one POST /api/publish_batch per batch messages. Requests go one at a
// time, as one backend process would send them, so the order of the
// messages is kept.
type apiPublisher struct {
	url    string // base URL, e.g. http://127.0.0.1:9200
	key    string
	batch  int
	client *http.Client
}

func newAPIPublisher(url, key string, batch int) *apiPublisher {
	return &apiPublisher{url: url, key: key, batch: batch, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4},
	}}
}

// send posts msgs, each a publish object: one request for one message,
// publish_batch for several.
func (a *apiPublisher) send(ctx context.Context, msgs [][]byte) error {
	path, body := "/api/publish", msgs[0]
	if len(msgs) > 1 {
		path = "/api/publish_batch"
		body = append([]byte(`{"messages":[`), bytes.Join(msgs, []byte(","))...)
		body = append(body, "]}"...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wsbench: api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("wsbench: api: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wsbench: api: %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

// close drops the idle connections.
func (a *apiPublisher) close() { a.client.CloseIdleConnections() }
