package callbacks

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"user and password", "http://user:secret@app.internal:8080/ws/ticket/?a=1", "http://app.internal:8080/ws/ticket/?a=1"},
		{"user only", "https://user@app.internal/cb", "https://app.internal/cb"},
		{"no credentials", "http://app.internal/cb", "http://app.internal/cb"},
		{"at sign in the path kept", "http://app.internal/a@b", "http://app.internal/a@b"},
		{"unparsable with credentials", "http://user:se%zzcret@app.internal/cb", "http://app.internal/cb"},
		{"unparsable without credentials", "http://app.internal/%zz", "http://app.internal/%zz"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
