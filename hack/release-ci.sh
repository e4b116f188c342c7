#!/usr/bin/env bash
# Checks the release pipeline without publishing anything: validates .goreleaser.yaml, builds
# the linux/amd64 snapshot (archive, .deb, .rpm, checksums), installs the .deb with dpkg and
# runs the installed storectl and its man page. It installs the package into the system, so it
# is meant for a CI machine; the package is removed again at the end.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*" >&2; }
elapsed() { printf '   (%ss)\n' "$((SECONDS - $1))" >&2; }

version=$(sed -n 's/^GORELEASER_VERSION ?= //p' Makefile)
goreleaser="$(go env GOPATH)/bin/goreleaser"
start=$SECONDS
if ! "$goreleaser" --version 2>/dev/null | grep -Eq "^GitVersion: +${version}$"; then
	step "installing goreleaser ${version}"
	GOFLAGS=-mod=mod go install "github.com/goreleaser/goreleaser/v2@${version}"
fi
elapsed "$start"

# goreleaser takes the commit, its date and the tag from git, and drops all of them when the
# repository has no remote; a clone without one gets the project's address for this run only.
if [[ -z "$(git remote)" ]]; then
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/storectl/storectl.git
fi

step "goreleaser check"
start=$SECONDS
"$goreleaser" check
elapsed "$start"

step "goreleaser release --snapshot (linux/amd64 only)"
start=$SECONDS
STORECTL_RELEASE_LINUX_AMD64_ONLY=1 "$goreleaser" release --snapshot --clean
elapsed "$start"

archive=$(compgen -G 'dist/storectl_*_linux_amd64.tar.gz')
deb=$(compgen -G 'dist/storectl_*_amd64.deb')
rpm=$(compgen -G 'dist/storectl-*.x86_64.rpm')
step "checking the archive, the packages and the checksums"
listing=$(tar -tzf "$archive")
for want in storectl LICENSE README.md completions/storectl.bash completions/storectl.zsh \
	completions/storectl.fish completions/storectl.powershell man/man1/storectl.1.gz man/man1/storectl-create.1.gz; do
	grep -qx "$want" <<<"$listing" || { echo "release-ci: $archive lacks $want" >&2; exit 1; }
done
(cd dist && sha256sum --quiet -c checksums.txt)
for f in "$archive" "$deb" "$rpm"; do
	grep -q " $(basename "$f")\$" dist/checksums.txt || { echo "release-ci: checksums.txt lacks $f" >&2; exit 1; }
done

step "dpkg -i $deb"
start=$SECONDS
# Slim images tell dpkg to leave out /usr/share/man; the pages are what is tested here.
dpkg --path-include='/usr/share/man/man1/storectl*' -i "$deb" >/dev/null
trap 'dpkg -P storectl >/dev/null' EXIT
for f in /usr/bin/storectl /usr/share/bash-completion/completions/storectl \
	/usr/share/zsh/vendor-completions/_storectl /usr/share/fish/vendor_completions.d/storectl.fish \
	/usr/share/man/man1/storectl.1.gz /usr/share/man/man1/storectl-create.1.gz; do
	dpkg -S "$f" >/dev/null || { echo "release-ci: the package does not install $f" >&2; exit 1; }
done
/usr/bin/storectl version
man -w storectl
man -w storectl-create
elapsed "$start"
