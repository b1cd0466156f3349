package procstat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		file         string
		text         string
		utime, stime uint64
		wantErr      bool
	}{
		{name: "floor process", file: "stat-floor.txt", utime: 435, stime: 1018},
		{name: "command name with spaces and parentheses", file: "stat-odd-name.txt", utime: 7, stime: 3},
		{name: "truncated", text: "1 (x) S 1 2 3", wantErr: true},
		{name: "no command name", text: "1 x S 1 2 3 4 5 6 7 8 9 10 11 12 13", wantErr: true},
		{name: "non-numeric utime", text: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 1 0 0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := []byte(tc.text)
			if tc.file != "" {
				var err error
				if b, err = os.ReadFile(filepath.Join("testdata", tc.file)); err != nil {
					t.Fatal(err)
				}
			}
			u, s, err := ParseStatCPU(b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && (u != tc.utime || s != tc.stime) {
				t.Errorf("utime, stime = %d, %d; want %d, %d", u, s, tc.utime, tc.stime)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	t.Parallel()
	fixture, err := os.ReadFile(filepath.Join("testdata", "status-floor.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		status  string
		want    uint64
		wantErr bool
	}{
		{name: "fixture", status: string(fixture), want: 358092},
		{name: "minimal", status: "Name:\tx\nVmRSS:\t  12 kB\n", want: 12},
		{name: "missing", status: "Name:\tx\nVmSize:\t 12 kB\n", wantErr: true},
		{name: "wrong unit", status: "VmRSS:\t12 MB\n", wantErr: true},
		{name: "not a number", status: "VmRSS:\tx kB\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVmRSS([]byte(tc.status))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseVmRSS = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestOwnProcess reads this test's own process, which is always there.
func TestOwnProcess(t *testing.T) {
	t.Parallel()
	if rss, err := RSS(os.Getpid()); err != nil || rss == 0 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if _, err := CPUTicks(os.Getpid()); err != nil {
		t.Errorf("CPUTicks: %v", err)
	}
	if _, err := RSS(-1); err == nil {
		t.Error("RSS of pid -1 succeeded")
	}
}
