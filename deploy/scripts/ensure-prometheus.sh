#!/usr/bin/env bash
# Make `prometheus` and `promtool` available for the deploy tests (Debian package `prometheus`).
#
# The package's post-install starts a system prometheus on :9090; the tests never use it
# (they run their own server on a free loopback port with their own config and storage),
# so it is stopped again when this script installed it, to keep :9090 free for others.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-prometheus: prometheus/promtool missing and not root; apt-get install prometheus" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 tells invoke-rc.d not to start the packaged service during install.
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    placed_policy=1
fi
trap 'if [[ $placed_policy -eq 1 ]]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null && command -v promtool >/dev/null
prometheus --version | head -n 1
