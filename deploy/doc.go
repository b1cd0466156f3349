// Package deploy holds the files for running wsrouter in production — a
// systemd unit, a Dockerfile, a Kubernetes example, Prometheus alert rules
// and a Grafana dashboard — and the tests that check them as far as a
// machine without Docker or Kubernetes can: every file parses, every
// metric they name exists, the rules pass promtool and the unit
// systemd-analyze when those are installed, and the Dockerfile's build
// step yields a static binary.
package deploy
