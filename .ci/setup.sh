#!/usr/bin/env bash
# Installs everything rbt needs on Debian/Ubuntu, idempotently (a second run
# takes seconds and changes nothing):
#   - Go 1.27.3 via GOTOOLCHAIN (any installed Go >= 1.21 fetches it from the module proxy;
#     without one, Debian's golang-go bootstraps it),
#   - Debian's Jupyter (nbconvert, nbclient, ipykernel, the notebook server), make, git,
#   - Debian's chromium, in which nbrun checks every HTML report headless (network off),
#   - GoNB (the version pinned by go.mod's `tool` line), goimports and gopls at exact versions,
#   - the Jupyter kernel "gonb-rbt" that runs with GOTOOLCHAIN/GOEXPERIMENT set.
# Usage: bash .ci/setup.sh        (from anywhere; it works on the checkout it lives in)
# Environment: KERNEL_NAME (default gonb-rbt), TOOLS_BIN (default $(go env GOPATH)/bin),
#   GOMLX_BACKEND (written into the kernel; default go; e.g. xla:cuda on a GPU, which also
#   builds notebooks with -tags=xla).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
GO_VERSION=1.27.3
GOPLS_VERSION=v0.24.0      # first gopls that supports go 1.27
XTOOLS_VERSION=v0.52.0     # golang.org/x/tools, for goimports
KERNEL_NAME="${KERNEL_NAME:-gonb-rbt}"
BACKEND="${GOMLX_BACKEND:-go}"
JUPYTER=/usr/bin/jupyter   # Debian's; a pyenv/venv python lacks nbclient
DEB_PACKAGES=(jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel jupyter-core
  jupyter-notebook make git ca-certificates chromium)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: $*
  install them yourself (apt-get install $*) and re-run this script"
    sudo="sudo"
  fi
  command -v apt-get >/dev/null || die "apt-get not found (not Debian/Ubuntu?): install $* by hand and re-run"
  say "installing Debian packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Debian packages.
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; else say "Debian packages present"; fi
/usr/bin/python3 -c 'import nbclient, nbconvert, ipykernel, jupyter_client' \
  || die "Debian's python3 lacks nbclient/nbconvert/ipykernel after install"

# 2. Go: anything >= 1.21 switches itself to go$GO_VERSION through GOTOOLCHAIN.
go_ok() { command -v go >/dev/null && GOTOOLCHAIN=local GOEXPERIMENT= go version 2>/dev/null |
  awk '{split(substr($3,3),v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=21))}'; }
if ! go_ok; then
  # Debian bookworm's golang-go (1.19) predates GOTOOLCHAIN: use it once to fetch the
  # go$GO_VERSION toolchain module from the module proxy and install it in GO_BOOTSTRAP_DIR.
  GO_BOOTSTRAP_DIR="${GO_BOOTSTRAP_DIR:-/usr/local/go}"
  command -v go >/dev/null || apt_install golang-go
  say "bootstrapping go$GO_VERSION into $GO_BOOTSTRAP_DIR with $(GOTOOLCHAIN=local GOEXPERIMENT= go version)"
  tmp="$(mktemp -d)"
  mod="golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$(dpkg --print-architecture)"
  dir="$(cd "$tmp" && GOTOOLCHAIN=local GOEXPERIMENT= GOFLAGS=-mod=mod GOPATH="$tmp/gopath" GOMODCACHE="$tmp/gopath/pkg/mod" \
    go mod download -json "$mod" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -n "$dir" ] && [ -f "$dir/bin/go" ] || die "could not download $mod (no network to the Go module proxy?)"
  mkdir -p "$(dirname "$GO_BOOTSTRAP_DIR")" || die "cannot create $GO_BOOTSTRAP_DIR (not root? set GO_BOOTSTRAP_DIR)"
  rm -rf "$GO_BOOTSTRAP_DIR" && cp -r "$dir" "$GO_BOOTSTRAP_DIR" && chmod -R u+w "$GO_BOOTSTRAP_DIR"
  chmod +x "$GO_BOOTSTRAP_DIR"/bin/* "$GO_BOOTSTRAP_DIR"/pkg/tool/*/*   # module zips carry no exec bits
  chmod -R u+w "$tmp" && rm -rf "$tmp"
  export PATH="$GO_BOOTSTRAP_DIR/bin:$PATH"
  if [ "$GO_BOOTSTRAP_DIR" = /usr/local/go ] && [ -w /usr/local/bin ]; then ln -sf /usr/local/go/bin/go /usr/local/bin/go; fi
  go_ok || die "Go bootstrap failed: $GO_BOOTSTRAP_DIR/bin/go does not run"
  say "installed $(go version) in $GO_BOOTSTRAP_DIR; add $GO_BOOTSTRAP_DIR/bin to your PATH"
fi
say "$(go version) (GOEXPERIMENT=$GOEXPERIMENT)"
TOOLS_BIN="${TOOLS_BIN:-$(go env GOPATH)/bin}"
mkdir -p "$TOOLS_BIN"

# 3. Go tools at exact versions (GoNB's version comes from go.mod's `tool` line:
#    `go install github.com/janpfeifer/gonb@version` fails against the proxy's version list).
go mod download
have() { [ -x "$TOOLS_BIN/$1" ] && go version -m "$TOOLS_BIN/$1" 2>/dev/null | grep -q "$2"; }
have goimports "golang.org/x/tools	$XTOOLS_VERSION" || GOBIN="$TOOLS_BIN" go install "golang.org/x/tools/cmd/goimports@$XTOOLS_VERSION"
have gopls "golang.org/x/tools/gopls	$GOPLS_VERSION" || GOBIN="$TOOLS_BIN" go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
GONB_VERSION="$(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)"
have gonb "github.com/janpfeifer/gonb	$GONB_VERSION" || GOBIN="$TOOLS_BIN" go install github.com/janpfeifer/gonb
say "gonb $GONB_VERSION, gopls $GOPLS_VERSION, goimports $XTOOLS_VERSION in $TOOLS_BIN"

# 4. The kernel. Its env is merged over the environment that starts Jupyter; RBT_BUDGET and
#    RBT_DATA still come from the caller. GOMLX_BACKEND is what this script saw (default go).
goflags=""
case "$BACKEND" in xla*) goflags='"GOFLAGS": "-tags=xla",' ;; esac
spec="$(mktemp -d)"; trap 'rm -rf "$spec"' EXIT
cat > "$spec/kernel.json" <<JSON
{
  "argv": ["$TOOLS_BIN/gonb", "--kernel", "{connection_file}", "--logtostderr"],
  "display_name": "Go (go$GO_VERSION, simd, GoNB) for rbt",
  "language": "go",
  "interrupt_mode": "message",
  "env": {
    "GOTOOLCHAIN": "go$GO_VERSION",
    "GOEXPERIMENT": "simd",
    "GOMLX_BACKEND": "$BACKEND",
    $goflags
    "PATH": "$TOOLS_BIN:\${PATH}"
  }
}
JSON
PYDEVD_DISABLE_FILE_VALIDATION=1 "$JUPYTER" kernelspec install --user --replace \
  --name "$KERNEL_NAME" "$spec" >/dev/null 2>&1 || die "jupyter kernelspec install failed"
say "kernel $KERNEL_NAME installed in $("$JUPYTER" --data-dir)/kernels/$KERNEL_NAME (GOMLX_BACKEND=$BACKEND)"
say "done"
