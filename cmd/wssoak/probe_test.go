package main

import "testing"

func TestParseGoroutines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    int
		wantErr bool
	}{
		{name: "among others", text: "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 23\ngo_threads 9\n", want: 23},
		{name: "float form", text: "go_goroutines 1.5e+01\n", want: 15},
		{name: "no trailing newline", text: "go_goroutines 7", want: 7},
		{name: "prefix of another metric only", text: "go_goroutines_total 5\n", wantErr: true},
		{name: "missing", text: "go_threads 9\n", wantErr: true},
		{name: "malformed", text: "go_goroutines many\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseGoroutines([]byte(tt.text))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseGoroutines = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
