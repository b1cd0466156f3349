package services

import (
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(exampleFile); err == nil {
		f.Add(data)
	}
	for _, seed := range []string{
		"",
		"listen: 127.0.0.1:9000\n",
		"services: {books: , news: {on_message: 'http://a/', heartbeat_period: 1}}\n",
		"redis_alt: {url: embedded}\nwebsocket: {ping_interval: 0.5, send_queue: x}\n",
		"services:\n  a: &a {on_message: 'http://a/'}\n  b: {<<: *a}\n  c: *a\n",
		"websocket: &w {<<: *w}\n",
		"a: &a [*a]\n",
		"- 1\n- 2\n",
		"listen: [a\n",
		"{[a]: 1, ~: 2}\n",
		"http: {ca_file: /dev/zero}\ntls: {cert_file: /dev/stdin, key_file: /dev/null}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a Config and an error")
			}
			ps, ok := AsProblems(err)
			if !ok || len(ps) == 0 {
				t.Fatalf("Parse error is not a non-empty *Problems: %T %v", err, err)
			}
			_ = err.Error()
			return
		}
		if c == nil {
			t.Fatal("Parse returned neither a Config nor an error")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed Config does not validate: %v", err)
		}
		if d := Diff(c, c); !d.Empty() {
			t.Fatalf("Diff of a Config with itself = %+v", d)
		}
	})
}
