// Package procstat reads a process's resident memory and CPU time from
// Linux's /proc, for the load and soak tools that measure a running router.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ClockTicksPerSecond is Linux's USER_HZ, the unit of the CPU times in
// /proc/PID/stat; it is 100 on every architecture Go supports.
const ClockTicksPerSecond = 100

// RSS returns the resident memory of process pid, in KiB.
func RSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("procstat: pid %d: %w", pid, err)
	}
	return ParseVmRSS(b)
}

// CPUTicks returns the user plus system CPU time of process pid, in clock
// ticks (see ClockTicksPerSecond).
func CPUTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("procstat: pid %d: %w", pid, err)
	}
	utime, stime, err := ParseStatCPU(b)
	return utime + stime, err
}

// ParseVmRSS returns the VmRSS line of /proc/PID/status in KiB.
func ParseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("procstat: malformed VmRSS line %q", bytes.TrimSpace(line))
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: malformed VmRSS line: %w", err)
		}
		return v, nil
	}
	return 0, errors.New("procstat: no VmRSS line in status")
}

// ParseStatCPU returns utime and stime (fields 14 and 15, in clock ticks)
// of /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its last closing parenthesis.
func ParseStatCPU(stat []byte) (utime, stime uint64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("procstat: malformed stat: no command name")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("procstat: malformed stat: %d fields after the command name", len(f))
	}
	if utime, err = strconv.ParseUint(string(f[11]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("procstat: malformed stat utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(f[12]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("procstat: malformed stat stime: %w", err)
	}
	return utime, stime, nil
}
