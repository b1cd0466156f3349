package deploy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wsrouter/wsrouter/services"
)

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Data     map[string]string     `yaml:"data"`
	Spec     struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []struct {
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe probe `yaml:"readinessProbe"`
		LivenessProbe  probe `yaml:"livenessProbe"`
		Lifecycle      struct {
			PreStop struct {
				Sleep struct{ Seconds int } `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// TestKubernetesExample: the manifests parse; the ConfigMap's
// configuration is valid (as wsrouter -check sees it); readiness is
// /readyz on the metrics port; the grace period covers preStop and
// shutdown_timeout; the configuration is mounted as a directory, so the
// kubelet's updates reach the router's file watch; the pod runs as
// non-root with a read-only root.
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	const file = "kubernetes/wsrouter.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		objects[o.Kind] = o
	}
	for _, kind := range []string{"ConfigMap", "Deployment", "Service"} {
		if _, ok := objects[kind]; !ok {
			t.Fatalf("%s: no %s", file, kind)
		}
	}

	cfg, err := services.Parse(file+" (ConfigMap config.yaml)", []byte(objects["ConfigMap"].Data["config.yaml"]))
	if err != nil {
		t.Fatalf("the ConfigMap's configuration is invalid:\n%v", err)
	}
	pod := objects["Deployment"].Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	ports := map[string]string{}
	for _, p := range c.Ports {
		ports[p.Name] = itoa(p.ContainerPort)
	}
	for name, addr := range map[string]string{"ws": cfg.Listen, "metrics": cfg.Metrics.Listen} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || ports[name] != port || host != "0.0.0.0" {
			t.Errorf("%s listens on %q; the container port %q must match and the host be 0.0.0.0", name, addr, ports[name])
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port != "metrics" {
		t.Errorf("readiness probe %+v, want /readyz on the metrics port", c.ReadinessProbe.HTTPGet)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe %+v, want /healthz", c.LivenessProbe.HTTPGet)
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	drain := cfg.ShutdownTimeout.Std()
	if preStop <= 0 || grace < preStop+drain || grace > preStop+drain+30*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s, preStop sleep %s, shutdown_timeout %s: the grace period must cover both, with a small margin", grace, preStop, drain)
	}
	configDir := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/etc/wsrouter" && m.SubPath == "" {
			configDir = true
		}
	}
	if !configDir || len(c.Args) != 2 || c.Args[1] != "/etc/wsrouter/config.yaml" {
		t.Errorf("the ConfigMap must be mounted as the directory /etc/wsrouter (a subPath mount never sees updates) and -config point into it; mounts %+v, args %v", c.VolumeMounts, c.Args)
	}
	if !pod.SecurityContext.RunAsNonRoot || !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("security context: pod %+v, container %+v; want non-root, read-only root, no privilege escalation", pod.SecurityContext, c.SecurityContext)
	}
}

func itoa(n int) string {
	b, _ := yaml.Marshal(n)
	return string(bytes.TrimSpace(b))
}
