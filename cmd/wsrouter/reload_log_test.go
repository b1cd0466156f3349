package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/services"
)

// TestReloadAttrs: the reload log line names only the kinds of change
// there were, and says when nothing could be applied.
func TestReloadAttrs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		changes services.Changes
		want    string
	}{
		{"nothing changed", services.Changes{}, `["trigger","SIGHUP","applied","nothing"]`},
		{"only redis", services.Changes{RestartRequired: []string{"redis"}},
			`["trigger","SIGHUP","applied","nothing","needs_restart",["redis"]]`},
		{"a service added", services.Changes{ServicesAdded: []string{"news"}},
			`["trigger","SIGHUP","services_added",["news"]]`},
		{"services and settings", services.Changes{ServicesChanged: []string{"books"}, Other: []string{"http"}, RestartRequired: []string{"listen"}},
			`["trigger","SIGHUP","services_changed",["books"],"other_changes",["http"],"needs_restart",["listen"]]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(reloadAttrs("SIGHUP", tc.changes))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("reloadAttrs = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestReloadOnlyRedis: a reload that changes only a setting that needs a
// restart says so, and its "config reloaded" line has no empty fields.
func TestReloadOnlyRedis(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	next := f.cfg.clone()
	next.section("redis")["ping_interval"] = "7s"
	f.p.writeConfig(next)
	f.p.waitReloads(1, "file changed")
	f.p.logs.wait(t, time.Second, "needs a restart", func(l logLine) bool {
		return strings.HasPrefix(l.msg(), "config change needs a restart") && l.str("key") == "redis"
	})
	line := f.p.logs.wait(t, time.Second, "reloaded", msgIs("config reloaded"))
	if strings.Contains(line.raw, "null") || !strings.Contains(line.raw, `"applied":"nothing"`) || !strings.Contains(line.raw, `"needs_restart":["redis"]`) {
		t.Errorf("reload log line: %s", line.raw)
	}
	f.checkKeepReceiving()
}
