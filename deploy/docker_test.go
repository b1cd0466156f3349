package deploy

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// dockerStage is one FROM stage of a Dockerfile: its base image and its
// instructions, continuation lines joined.
type dockerStage struct {
	from         string
	instructions []string
}

func dockerStages(t *testing.T, path string) []dockerStage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var pending string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if from, ok := strings.CutPrefix(line, "FROM "); ok {
			stages = append(stages, dockerStage{from: strings.Fields(from)[0]})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before FROM", path, line)
		}
		s := &stages[len(stages)-1]
		s.instructions = append(s.instructions, line)
	}
	return stages
}

// TestDockerfile: the image is built in one stage and run from a static
// base as a non-root user; the build stage's go build step, run here as a
// script, gives a static binary stamped with the version. Docker itself
// cannot run here, so the image is not built.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	const file = "Dockerfile"
	stages := dockerStages(t, file)
	if len(stages) != 2 {
		t.Fatalf("%s: %d stages, want a build stage and a run stage", file, len(stages))
	}
	build, run := stages[0], stages[1]
	if !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("build stage from %q, want a golang image", build.from)
	}
	if !strings.HasPrefix(run.from, "gcr.io/distroless/static") {
		t.Errorf("run stage from %q, want a static distroless image", run.from)
	}
	var user string
	for _, in := range run.instructions {
		if u, ok := strings.CutPrefix(in, "USER "); ok {
			user = u
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("run stage USER %q, want a non-root user", user)
	}
	bin := dockerBuild(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%s): the static base image cannot run it", p.Type)
		}
	}
	v, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(v)) != "wsrouter v9.9.9-deploytest" {
		t.Errorf("wsrouter -version = %q %v, want the VERSION build argument", v, err)
	}
}

// built is the binary the Dockerfile's build step made, shared by the
// tests that need one; TestMain removes it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// dockerBuild runs the build stage's go build step as a script, as the
// image build would, from the repository root with /out in a temporary
// directory and VERSION=v9.9.9-deploytest, once per test binary, and
// returns the binary.
func dockerBuild(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		var goBuild string
		for _, in := range dockerStages(t, "Dockerfile")[0].instructions {
			if cmd, ok := strings.CutPrefix(in, "RUN "); ok && strings.Contains(cmd, "go build") {
				goBuild = cmd
			}
		}
		if !strings.Contains(goBuild, "CGO_ENABLED=0") || !strings.Contains(goBuild, "-o /out/wsrouter") {
			built.err = fmt.Errorf("build step %q, want CGO_ENABLED=0 ... -o /out/wsrouter", goBuild)
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "wsrouter-deploy-"); built.err != nil {
			return
		}
		cmd := exec.Command("sh", "-c", strings.ReplaceAll(goBuild, "/out/", built.dir+"/"))
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "VERSION=v9.9.9-deploytest")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build step: %v\n%s", err, out)
			return
		}
		built.bin = filepath.Join(built.dir, "wsrouter")
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}
