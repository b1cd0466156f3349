package history

import (
	"errors"
	"testing"
)

func TestPrepare(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{`{"data":1}`, `{"data":1,"subscription":"books.b1"}`, true},
		{` {"subscription":"books.b1","data":null} `, `{"subscription":"books.b1","data":null}`, true},
		{`{"data":{"a":1},"options":{"order":3},"user_id":7}`, `{"data":{"a":1},"options":{"order":3},"subscription":"books.b1","user_id":7}`, true},
		{`{"subscription":"books.b2","data":1}`, ``, false},
		{`{"subscription":1,"data":1}`, ``, false},
		{`{"subscription":"books.b1"}`, ``, false},
		{`{"data":1,"offset":"1:1"}`, ``, false},
		{`[1]`, ``, false},
		{`{"data":1`, ``, false},
		{``, ``, false},
	}
	for _, c := range cases {
		got, err := Prepare("books.b1", []byte(c.in))
		if (err == nil) != c.ok || string(got) != c.want {
			t.Errorf("Prepare(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrMessage) {
			t.Errorf("Prepare(%q) error %v is not ErrMessage", c.in, err)
		}
	}
}
