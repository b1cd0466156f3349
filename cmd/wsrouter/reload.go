package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/router"
	"github.com/wsrouter/wsrouter/services"
	"github.com/wsrouter/wsrouter/status"
)

// coalesce is how long file events are gathered into one reload, so that
// one save is one reload.
const coalesce = 200 * time.Millisecond

// reloader re-reads the configuration on SIGHUP and when the file changes
// on disk, and applies it when it is valid.
type reloader struct {
	path    string
	r       *router.Router
	m       *metrics.Metrics
	level   *slog.LevelVar
	log     *slog.Logger
	watcher *fsnotify.Watcher
	history *status.Reloads        // the status page's list of recent reloads
	applied func(*services.Config) // told of each configuration applied
	done    chan struct{}
	wg      sync.WaitGroup

	mu  sync.Mutex
	cfg *services.Config
}

func newReloader(path string, cfg *services.Config, r *router.Router, m *metrics.Metrics, history *status.Reloads, level *slog.LevelVar, log *slog.Logger,
	applied func(*services.Config)) *reloader {
	rl := &reloader{path: path, r: r, m: m, history: history, level: level, log: log, cfg: cfg, applied: applied, done: make(chan struct{})}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		// The directory, not the file: editors that write a new file and
		// rename it over the old one would end a watch on the file itself.
		err = w.Add(filepath.Dir(path))
	}
	if err != nil {
		log.Warn("config file watch unavailable; reload with SIGHUP", "err", err)
		if w != nil {
			w.Close()
		}
		return rl
	}
	rl.watcher = w
	rl.wg.Add(1)
	go rl.watch()
	return rl
}

func (rl *reloader) current() *services.Config {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.cfg
}

// watch turns file events on the configuration file into reloads.
func (rl *reloader) watch() {
	defer rl.wg.Done()
	name := filepath.Clean(rl.path)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-rl.done:
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-rl.watcher.Events:
			if !ok {
				return
			}
			if !touches(ev, name) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(coalesce)
			} else {
				timer.Reset(coalesce)
			}
			fire = timer.C
		case err, ok := <-rl.watcher.Errors:
			if !ok {
				return
			}
			rl.log.Warn("config file watch error", "err", err)
		case <-fire:
			fire = nil
			rl.reload("file changed")
		}
	}
}

// kubeletData is the symlink a Kubernetes ConfigMap or Secret volume
// swaps to update its files at once: the file names in the directory are
// links through it and never change themselves.
const kubeletData = "..data"

// touches reports whether ev may have changed the configuration file
// name: an event on the file itself (not a mere chmod), or a new ..data
// link in its directory.
func touches(ev fsnotify.Event, name string) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	if filepath.Clean(ev.Name) == name {
		return true
	}
	return filepath.Base(ev.Name) == kubeletData && filepath.Dir(ev.Name) == filepath.Dir(name) && ev.Has(fsnotify.Create)
}

func (rl *reloader) stop() {
	if rl.watcher == nil {
		return
	}
	close(rl.done)
	rl.watcher.Close()
	rl.wg.Wait()
}

// reload validates the whole file and applies it, or keeps the running
// configuration and logs every problem.
func (rl *reloader) reload(why string) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	next, err := services.Load(rl.path) // refuses an empty file, as -check does
	if err != nil {
		rl.m.ConfigReloads.WithLabelValues("error").Inc()
		rl.record(why, "error", err.Error())
		var problems *services.Problems
		if errors.As(err, &problems) {
			for _, line := range strings.Split(problems.Error(), "\n") {
				rl.log.Error("config reload rejected; keeping the running configuration", "trigger", why, "problem", line)
			}
		} else {
			rl.log.Error("config reload rejected; keeping the running configuration", "trigger", why, "err", err)
		}
		return
	}
	old := rl.cfg
	changes := services.Diff(old, next)
	for _, key := range changes.RestartRequired {
		rl.log.Warn("config change needs a restart; ignored until then", "key", key)
	}
	keepRestartOnly(old, next)
	if err := rl.r.Reload(next); err != nil {
		rl.m.ConfigReloads.WithLabelValues("error").Inc()
		rl.log.Error("config reload failed; keeping the running configuration", "trigger", why, "err", err)
		rl.record(why, "error", err.Error())
		return
	}
	rl.cfg = next
	rl.level.Set(parseLevel(next.Log.Level))
	rl.applied(next)
	rl.m.ConfigReloads.WithLabelValues("ok").Inc()
	rl.record(why, "ok", describe(changes))
	rl.log.Info("config reloaded", reloadAttrs(why, changes)...)
}

// record adds a reload to the status page's list.
func (rl *reloader) record(trigger, result, detail string) {
	rl.history.Record(status.Reload{At: time.Now().UTC(), Trigger: trigger, Result: result, Detail: detail})
}

// describe says in one line what a reload changed.
func describe(c services.Changes) string {
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{
		{"services added", c.ServicesAdded}, {"services removed", c.ServicesRemoved},
		{"services changed", c.ServicesChanged}, {"other changes", c.Other},
		{"ignored until a restart", c.RestartRequired},
	} {
		if len(p.names) > 0 {
			parts = append(parts, p.what+": "+strings.Join(p.names, ", "))
		}
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, "; ")
}

// reloadAttrs describes a successful reload for its log line: what was
// applied, by kind, leaving out the kinds with nothing in them; applied
// "nothing" when only settings that need a restart changed, or nothing.
func reloadAttrs(why string, changes services.Changes) []any {
	attrs := []any{"trigger", why}
	for _, kind := range []struct {
		key  string
		keys []string
	}{
		{"services_added", changes.ServicesAdded},
		{"services_removed", changes.ServicesRemoved},
		{"services_changed", changes.ServicesChanged},
		{"other_changes", changes.Other},
	} {
		if len(kind.keys) > 0 {
			attrs = append(attrs, kind.key, kind.keys)
		}
	}
	if len(attrs) == 2 {
		attrs = append(attrs, "applied", "nothing")
	}
	if len(changes.RestartRequired) > 0 {
		attrs = append(attrs, "needs_restart", changes.RestartRequired)
	}
	return attrs
}

// keepRestartOnly carries the settings that need a restart over from the
// running configuration, so the new one describes what actually runs.
func keepRestartOnly(running, next *services.Config) {
	next.Listen = running.Listen
	next.TLS = running.TLS
	next.Metrics.Listen = running.Metrics.Listen
	next.Redis = running.Redis
	next.RedisAlt = running.RedisAlt
	next.Log.Format = running.Log.Format
	next.API.Listen = running.API.Listen
	next.API.TLS = running.API.TLS
}
