package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// kubeletVolume lays out a directory as the kubelet does for a ConfigMap
// volume: the file is a link through ..data to a timestamped directory,
// and an update writes a new directory and swaps ..data in one rename.
type kubeletVolume struct {
	t   *testing.T
	dir string
	seq int
}

func (v *kubeletVolume) write(name string, data []byte) {
	v.t.Helper()
	v.seq++
	ts := filepath.Join(v.dir, "..2026_12_02_00_00_0"+string(rune('0'+v.seq)))
	if err := os.Mkdir(ts, 0o755); err != nil {
		v.t.Fatal(err)
	}
	writeFile(v.t, filepath.Join(ts, name), data)
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		v.t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(v.dir, kubeletData))
	if err := os.Rename(tmp, filepath.Join(v.dir, kubeletData)); err != nil {
		v.t.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, old)); err != nil {
			v.t.Fatal(err)
		}
		return
	}
	if err := os.Symlink(filepath.Join(kubeletData, name), filepath.Join(v.dir, name)); err != nil {
		v.t.Fatal(err)
	}
}

// TestReloadConfigMapUpdate: a configuration mounted from a Kubernetes
// ConfigMap is reloaded when the kubelet swaps in a new version, though
// the file's own name never sees an event.
func TestReloadConfigMapUpdate(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	cfg := baseConfig(t, rs.URL())
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	vol := &kubeletVolume{t: t, dir: t.TempDir()}
	vol.write("wsrouter.yaml", marshal(t, cfg))
	p := launchPath(t, filepath.Join(vol.dir, "wsrouter.yaml"), cfg)
	p.waitReady(15 * time.Second)
	c := wstest.Dial(t, p.url())
	requireError(t, c, subscribeEvent("news.x"), "Invalid service.")

	next := cfg.clone()
	next.services()["news"] = map[string]any{"require_authentication": false}
	vol.write("wsrouter.yaml", marshal(t, next))
	p.waitReloads(1, "file changed")
	c.Subscribe("news.x", nil)
}
