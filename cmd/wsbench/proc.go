package main

import (
	"fmt"
	"syscall"

	"github.com/wsrouter/wsrouter/internal/procstat"
)

// serverProbe samples the server process's memory and CPU time from /proc.
type serverProbe struct {
	pid       int
	rssBefore uint64 // KiB
	rssAfter  uint64 // KiB
	cpuBefore uint64 // clock ticks
	cpuAfter  uint64 // clock ticks
}

func (p *serverProbe) sampleRSS(dst *uint64) error {
	v, err := procstat.RSS(p.pid)
	if err != nil {
		return fmt.Errorf("wsbench: server: %w", err)
	}
	*dst = v
	return nil
}

func (p *serverProbe) sampleCPU(dst *uint64) error {
	v, err := procstat.CPUTicks(p.pid)
	if err != nil {
		return fmt.Errorf("wsbench: server: %w", err)
	}
	*dst = v
	return nil
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
