package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/wsrouter/wsrouter/internal/procstat"
)

// serverProbe samples the server process's memory and CPU time from /proc.
type serverProbe struct {
	pid       int
	rssBefore uint64 // KiB
	rssAfter  uint64 // KiB, after connect
	rssEnd    uint64 // KiB, after the deliveries
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

// fileReserve is the open files a process needs beside its client
// sockets: stdio, Redis, the resolver, the listener and some slack.
const fileReserve = 64

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
	if need := uint64(clients) + fileReserve; need > lim.Cur {
		return fmt.Errorf("wsbench: -clients %d needs %d open files; this process may have %d (its hard limit). %s",
			clients, need, lim.Cur, raiseAdvice(need))
	}
	return nil
}

// checkServerFileLimit refuses a run whose server could not hold the
// clients: its open-file soft limit (Go programs such as wsrouter raise it
// to the hard limit at start) from /proc/PID/limits.
func checkServerFileLimit(pid, clients int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return fmt.Errorf("wsbench: server: %w", err)
	}
	soft, ok := parseOpenFiles(b)
	if !ok {
		return nil // unlimited or an unknown format: nothing to check
	}
	if need := uint64(clients) + fileReserve; need > soft {
		return fmt.Errorf("wsbench: -clients %d needs %d open files in the server, and server PID %d may have %d. %s Start the server from a shell with the higher limit",
			clients, need, pid, soft, raiseAdvice(need))
	}
	return nil
}

// parseOpenFiles returns the soft limit of the "Max open files" line of
// /proc/PID/limits.
func parseOpenFiles(limits []byte) (uint64, bool) {
	for line := range bytes.Lines(limits) {
		rest, ok := bytes.CutPrefix(line, []byte("Max open files"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 1 {
			return 0, false
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// raiseAdvice says what to raise for need open files per process.
func raiseAdvice(need uint64) string {
	return fmt.Sprintf("Raise the hard limit to at least %d where the process starts: as root `ulimit -Hn %d` "+
		"(needs CAP_SYS_RESOURCE; a container's limit is set from outside it, e.g. `docker run --ulimit nofile=%d:%d`), "+
		"LimitNOFILE=%d in a systemd unit, or nofile in /etc/security/limits.conf; "+
		"the kernel caps it at sysctl fs.nr_open, and all processes together at fs.file-max.",
		need, need, need, need, need)
}
