#!/usr/bin/env bash
# The tests render labels (poppler-utils), decode their QR codes (zbar-tools), drive the UI in
# Debian's Chromium, and host virtual boards on pseudo-terminals (python3). Installs what is
# missing when we may (root + apt-get); otherwise names exactly what to install and fails.
set -euo pipefail
declare -A need=( [chromium]=chromium [pdftoppm]=poppler-utils [pdftotext]=poppler-utils [zbarimg]=zbar-tools [python3]=python3 )
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${need[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian packages: $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
else
  echo "The tests need these Debian packages: $pkgs" >&2
  echo "Install them with: sudo apt-get install -y $pkgs" >&2
  exit 1
fi
