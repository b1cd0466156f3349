// Package testcluster gives tests a Redis Cluster of their own: 3 masters
// and 3 replicas of redis-server on loopback ports, started and stopped
// with scripts/redis-cluster.sh (the script developers use), so the tests
// and `scripts/redis-cluster.sh start` build the same cluster.
package testcluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// nodeTimeoutMs is the clusters' cluster-node-timeout: long enough that a
// busy CI machine does not fail a master over by itself, short enough that
// the tests that kill one wait seconds, not minutes.
const nodeTimeoutMs = 2000

// Cluster is a running Redis Cluster.
type Cluster struct {
	// Addrs are the six nodes' HOST:PORT, masters first as created.
	Addrs []string

	port int
	dir  string
}

// Start starts a cluster that stops when the test ends. Without
// redis-server and redis-cli on PATH the test is skipped, saying so.
func Start(t testing.TB) *Cluster {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("testcluster: %s is not on PATH; Redis Cluster tests need a real redis-server", bin)
		}
	}
	port, err := freePorts()
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	c := &Cluster{port: port, dir: filepath.Join(t.TempDir(), "cluster")}
	for i := range 6 {
		c.Addrs = append(c.Addrs, "127.0.0.1:"+strconv.Itoa(port+i))
	}
	t.Cleanup(func() {
		if out, err := c.script("stop"); err != nil {
			t.Errorf("testcluster: stop: %v\n%s", err, out)
		}
	})
	if out, err := c.script("start"); err != nil {
		t.Fatalf("testcluster: start: %v\n%s", err, out)
	}
	return c
}

// script runs scripts/redis-cluster.sh with this cluster's port and
// directory.
func (c *Cluster) script(arg string) ([]byte, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "redis-cluster.sh")
	cmd := exec.Command(path, arg)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(c.port), "DIR="+c.dir, "NODE_TIMEOUT="+strconv.Itoa(nodeTimeoutMs))
	return cmd.CombinedOutput()
}

// Client returns a cluster client closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Node returns a client of one node, closed when the test ends.
func (c *Cluster) Node(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Masters returns the addresses of the current masters that own slots, as
// a node sees them, and for each a replica of it.
func (c *Cluster) Masters(t testing.TB) map[string]string {
	t.Helper()
	ctx := context.Background()
	for _, a := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: a})
		shards, err := rdb.ClusterShards(ctx).Result()
		_ = rdb.Close()
		if err != nil {
			continue
		}
		out := map[string]string{}
		for _, sh := range shards {
			if len(sh.Slots) == 0 {
				continue
			}
			var master, replica string
			for _, n := range sh.Nodes {
				addr := n.IP + ":" + strconv.FormatInt(n.Port, 10)
				switch {
				case n.Role == "master" && n.Health == "online":
					master = addr
				case n.Role == "replica" && n.Health != "failed":
					replica = addr
				}
			}
			if master != "" {
				out[master] = replica
			}
		}
		return out
	}
	t.Fatal("testcluster: no node answers CLUSTER SHARDS")
	return nil
}

// Kill kills the server at addr with SIGKILL, as a crash would.
func (c *Cluster) Kill(t testing.TB, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	b, err := os.ReadFile(filepath.Join(c.dir, port, "redis.pid"))
	if err != nil {
		t.Fatalf("testcluster: pid of %s: %v", addr, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("testcluster: pid of %s: %v", addr, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("testcluster: kill %s: %v", addr, err)
	}
}

// WaitOK waits until every live node says cluster_state:ok and knows three
// masters with slots.
func (c *Cluster) WaitOK(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if c.ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: cluster not ok after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) ok() bool {
	ctx := context.Background()
	answered := 0
	for _, a := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: a, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		info, err := rdb.ClusterInfo(ctx).Result()
		_ = rdb.Close()
		if err != nil {
			continue // a killed node
		}
		answered++
		if !strings.Contains(info, "cluster_state:ok") {
			return false
		}
	}
	return answered > 0
}

// freePorts finds a base port p such that p..p+5 and their cluster bus
// ports p+10000..p+10005 are free.
func freePorts() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		p = 20000 + p%(30000-20000) // leave room for the bus ports below 65536
		if allFree(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no six free consecutive ports")
}

func allFree(p int) bool {
	for i := range 6 {
		for _, port := range []int{p + i, p + i + 10000} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				return false
			}
			_ = l.Close()
		}
	}
	return true
}

// MoveSlot moves one hash slot, with its keys, from its master to the
// master at to, the way `redis-cli --cluster reshard` moves each slot:
// IMPORTING on the target, MIGRATING on the source, MIGRATE of its keys,
// then the new owner announced to every master.
func (c *Cluster) MoveSlot(t testing.TB, slot int, to string) {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{} // master address -> node id
	var from string
	for _, a := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: a})
		shards, err := rdb.ClusterShards(ctx).Result()
		_ = rdb.Close()
		if err != nil {
			continue
		}
		for _, sh := range shards {
			for _, n := range sh.Nodes {
				if n.Role != "master" || n.Health != "online" {
					continue
				}
				addr := n.IP + ":" + strconv.FormatInt(n.Port, 10)
				ids[addr] = n.ID
				for _, r := range sh.Slots {
					if int64(slot) >= r.Start && int64(slot) <= r.End {
						from = addr
					}
				}
			}
		}
		break
	}
	if from == "" || ids[to] == "" {
		t.Fatalf("testcluster: move slot %d: source %q or target %q unknown", slot, from, to)
	}
	if from == to {
		return
	}
	src, dst := c.Node(t, from), c.Node(t, to)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("testcluster: move slot %d from %s to %s: %v", slot, from, to, err)
		}
	}
	must(dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[from]).Err())
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[to]).Err())
	host, port, _ := net.SplitHostPort(to)
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 100).Result()
		must(err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(src.Do(ctx, args...).Err())
	}
	must(dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err())
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err())
	for addr := range ids {
		if addr != from && addr != to {
			must(c.Node(t, addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err())
		}
	}
}

// Owner returns the address of the online master that owns slot, as the
// first node that answers sees it ("" when none does).
func (c *Cluster) Owner(t testing.TB, slot int) string {
	t.Helper()
	ctx := context.Background()
	for _, a := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: a, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		shards, err := rdb.ClusterShards(ctx).Result()
		_ = rdb.Close()
		if err != nil {
			continue
		}
		for _, sh := range shards {
			for _, r := range sh.Slots {
				if int64(slot) < r.Start || int64(slot) > r.End {
					continue
				}
				for _, n := range sh.Nodes {
					if n.Role == "master" && n.Health == "online" {
						return n.IP + ":" + strconv.FormatInt(n.Port, 10)
					}
				}
			}
		}
		return ""
	}
	return ""
}
