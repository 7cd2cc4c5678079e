# Sourced by the quick-start scripts: makes sure the Debian packages they need are installed.
# Installs them with apt-get when it can (root, or passwordless sudo); otherwise stops and prints
# the exact command to run.

mcpr_need_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      echo "error: missing packages: ${missing[*]}" >&2
      echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      exit 2
    fi
  fi
  echo "installing missing packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

mcpr_jobs() {
  nproc 2>/dev/null || echo 2
}

# Node.js and the pinned npm packages of the interop tests (tests/interop/package-lock.json).
mcpr_need_interop() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    mcpr_need_packages nodejs npm
  fi
  local dir=tests/interop
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "installing the interop test servers from npm (npm ci in $dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
