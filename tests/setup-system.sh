#!/usr/bin/env bash
# Installs the system packages the test suite needs (idempotent; run as root).
# sshd for the transport tests, debootstrap + systemd-nspawn for the lab fleet,
# chromium for the HTML report tests, podman for container tests (catatonit: `podman run --init`,
# only a Recommends of podman, which --no-install-recommends leaves out), rpm for its parser fixtures.
# Every tool a test needs is here: under CI=true a missing one fails the test (tests/tools.py).
set -euo pipefail
pkgs=(openssh-server openssh-client debootstrap systemd-container chromium podman catatonit crun runc rpm iproute2 sudo busybox dpkg-dev procps)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-system: installing ${missing[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# The machine's own sshd must not start on install and squat port 22 (tests start their own).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now ssh >/dev/null 2>&1 || true
fi
