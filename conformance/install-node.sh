#!/usr/bin/env bash
# Node.js >= 18 and npm for the W3C suites: from Debian when missing (CI reaches Debian and npm only).
set -euo pipefail
major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if ! command -v npm >/dev/null 2>&1 || [ "$(major)" -lt 18 ]; then
  echo "installing nodejs and npm from Debian"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
[ "$(major)" -ge 18 ] || { echo "need Node.js >= 18 (found $(node --version 2>/dev/null || echo none))" >&2; exit 1; }
