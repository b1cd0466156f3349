package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// clockTicksPerSecond is Linux's USER_HZ, the unit of utime and stime in
// /proc/PID/stat; it is 100 on every architecture Go supports.
const clockTicksPerSecond = 100

// serverProbe samples the server process's memory and CPU time from /proc.
type serverProbe struct {
	pid       int
	rssBefore uint64 // KiB
	rssAfter  uint64 // KiB
	cpuBefore uint64 // clock ticks
	cpuAfter  uint64 // clock ticks
}

func (p *serverProbe) sampleRSS(dst *uint64) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return fmt.Errorf("wsbench: server pid %d: %w", p.pid, err)
	}
	v, err := parseVmRSS(b)
	if err != nil {
		return fmt.Errorf("wsbench: server pid %d: %w", p.pid, err)
	}
	*dst = v
	return nil
}

func (p *serverProbe) sampleCPU(dst *uint64) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return fmt.Errorf("wsbench: server pid %d: %w", p.pid, err)
	}
	utime, stime, err := parseStatCPU(b)
	if err != nil {
		return fmt.Errorf("wsbench: server pid %d: %w", p.pid, err)
	}
	*dst = utime + stime
	return nil
}

// parseVmRSS returns the VmRSS line of /proc/PID/status in KiB.
func parseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("wsbench: malformed VmRSS line %q", bytes.TrimSpace(line))
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("wsbench: malformed VmRSS line: %w", err)
		}
		return v, nil
	}
	return 0, errors.New("wsbench: no VmRSS line in status")
}

// parseStatCPU returns utime and stime (fields 14 and 15, in clock ticks) of
// /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its last closing parenthesis.
func parseStatCPU(stat []byte) (utime, stime uint64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("wsbench: malformed stat: no command name")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("wsbench: malformed stat: %d fields after the command name", len(f))
	}
	if utime, err = strconv.ParseUint(string(f[11]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("wsbench: malformed stat utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(f[12]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("wsbench: malformed stat stime: %w", err)
	}
	return utime, stime, nil
}

// raiseFileLimit lifts the open-file soft limit to the hard limit and checks
// that it leaves room for the clients.
func raiseFileLimit(clients int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("wsbench: read open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("wsbench: raise open-file limit: %w", err)
		}
	}
	const reserve = 64 // stdio, Redis, resolver, listener slack
	if uint64(clients)+reserve > lim.Cur {
		return fmt.Errorf("wsbench: -clients %d needs more open files than the limit %d allows", clients, lim.Cur)
	}
	return nil
}
