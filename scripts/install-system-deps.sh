#!/usr/bin/env bash
# Installs what the platform needs from Debian when it is missing: redis-server, Java 17+, Maven,
# chromium + chromedriver (browser tests), fonts, and Node.js + npm (interop and conformance suites).
# Idempotent; needs root (or sudo) only when something is missing. Everything `make test` needs is installed
# here: no test depends on a variable only CI sets.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)  # veraPDF runner (tests/interop/verapdf)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/color/icc/sRGB.icc ] || need+=(icc-profiles-free)  # the PDF's PDF/A output intent (sRGB, Zlib)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)  # PDF tests: rasterise, extract text
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)  # PDF tests: decode the printed QR code

if [ ${#need[@]} -gt 0 ]; then
  echo "installing from Debian: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

for tool in redis-server java mvn chromium chromedriver pdftoppm pdftotext zbarimg; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing after install: $tool" >&2; exit 1; }
done

# Node.js >= 18 and npm: the SD-JWT interop tests and the W3C conformance suites run independent JS libraries.
bash "$(dirname "$0")/../conformance/install-node.sh"
