// Command wsrouter runs the WebSocket message router.
//
//	wsrouter -config config.yaml          # run
//	wsrouter -check -config config.yaml   # validate, print problems, exit 0/1
//	wsrouter -version
//	wsrouter publish -config config.yaml SUBSCRIPTION JSON
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/wsrouter/wsrouter/services"
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build stamps `git describe`); empty, the build information is used.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "publish" {
		return runPublish(args[1:], os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("wsrouter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "config.yaml", "path to the YAML configuration file")
	check := fs.Bool("check", false, "validate the configuration, print every problem, and exit (0 valid, 1 invalid)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "wsrouter", buildVersion())
		return 0
	}
	cfg, err := services.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		noun := "services"
		if len(cfg.Services) == 1 {
			noun = "service"
		}
		fmt.Fprintf(stdout, "%s: configuration is valid (%d %s)\n", *configPath, len(cfg.Services), noun)
		return 0
	}
	if err := serve(*configPath, cfg, stderr); err != nil {
		fmt.Fprintln(stderr, "wsrouter:", err)
		return 1
	}
	return 0
}

// buildVersion is what -version prints and the start-up log says.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	return versionOf(version, info, ok)
}

// versionOf picks the version: the one stamped at link time, else the
// module version `go install …@version` records (or the pseudo-version a
// build in a checkout gets), else the commit the build information names,
// else "dev".
func versionOf(stamped string, info *debug.BuildInfo, ok bool) string {
	if stamped != "" {
		return stamped
	}
	if !ok || info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "devel-" + rev
}
