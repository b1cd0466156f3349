package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// alertRules is the shape of a Prometheus rule file.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertRules: the rule file parses, covers what an operator must be
// woken for, names only metrics wsrouter exports, and passes promtool's
// check and its unit tests when promtool is installed.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	const file = "prometheus/wsrouter-alerts.yml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	known := knownMetrics(t)
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := file + ": " + r.Alert
			if seen[r.Alert] {
				t.Errorf("%s: alert defined twice", where)
			}
			seen[r.Alert] = true
			checkExpr(t, known, where, r.Expr)
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}
		}
	}
	for _, want := range []string{"WsrouterRedisDown", "WsrouterNotReady", "WsrouterSlowConsumerDrops", "WsrouterCallbackErrors", "WsrouterConfigReloadFailed"} {
		if !seen[want] {
			t.Errorf("%s: no %s alert", file, want)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not on PATH (Debian's prometheus package has it): the rules were checked by this test only")
		return
	}
	for _, args := range [][]string{
		{"check", "rules", "wsrouter-alerts.yml"},
		{"test", "rules", "wsrouter-alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// TestGrafanaDashboard: the dashboard parses, its panels have distinct ids
// and fit the grid, every query names only exported metrics and uses the
// data source chosen on import, and together they chart every wsrouter_*
// metric.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	const file = "grafana/wsrouter.json"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("%s: needs a title and a uid", file)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("%s: template variables %v, want a datasource and an instance", file, vars)
	}
	known := knownMetrics(t)
	charted := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := file + ": " + p.Title
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("%s: id %d missing or used twice", where, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 || p.GridPos.H <= 0 {
			t.Errorf("%s: gridPos %+v does not fit 24 columns", where, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: data source %+v, want the ${datasource} variable", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, q := range p.Targets {
			checkExpr(t, known, where, q.Expr)
			if !strings.Contains(q.Expr, `instance=~"$instance"`) {
				t.Errorf("%s: query ignores the instance variable: %s", where, q.Expr)
			}
			for _, n := range metricName.FindAllString(q.Expr, -1) {
				charted[strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count")] = true
			}
		}
	}
	for name := range known {
		if strings.HasPrefix(name, "wsrouter_") && !strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_count") && !strings.HasSuffix(name, "_sum") && !charted[name] {
			t.Errorf("%s: no panel charts %s", file, name)
		}
	}
}
