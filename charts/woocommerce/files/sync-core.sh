#!/usr/bin/env bash
# Puts the image's WordPress onto the store's volume before Apache starts: all of it on a new
# volume, and on a later start only when the image carries a newer WordPress than the volume.
#
# The image's own entrypoint copies with tar, which as a non-root user on a volume whose root
# it does not own (the usual case with fsGroup) copies the files and then exits 2 on
# "Cannot change mode" for the volume root, before writing wp-config.php: the first start of
# every store would crash. This copies the entries inside the root instead, so the root's own
# owner and mode are never touched. The entrypoint then finds WordPress in place and only
# writes wp-config.php.
#
# An upgrade replaces core files only: wp-content (plugins, themes, uploads) and wp-config.php
# stay as they are, and a volume with a newer WordPress than the image is never downgraded.
#
# Once the volume's core files are settled for this image, the image reference (CORE_IMAGE)
# is recorded in .storectl-core on the volume: the setup Job of the same revision waits for it
# before it upgrades the database, so it never runs against the previous version's files.
set -euo pipefail

SRC=${WORDPRESS_SOURCE:-/usr/src/wordpress}
DST=${WORDPRESS_ROOT:-/var/www/html}
CORE_IMAGE=${CORE_IMAGE:-}

log() { printf 'sync-core: %s\n' "$*"; }

# settled records that the volume's core files are settled for CORE_IMAGE.
settled() {
	[[ -n $CORE_IMAGE ]] || return 0
	printf '%s\n' "$CORE_IMAGE" >"$DST/.storectl-core.new"
	mv "$DST/.storectl-core.new" "$DST/.storectl-core"
}

# wp_version DIR prints the WordPress version in DIR, or nothing.
wp_version() {
	local f=$1/wp-includes/version.php
	[[ -f $f ]] || return 0
	sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p" "$f" | head -n 1
}

# older A B succeeds when version A is older than version B.
older() {
	# shellcheck disable=SC2016 # PHP code, expanded by PHP
	php -r 'exit(version_compare($argv[1], $argv[2], "<") ? 0 : 1);' "$1" "$2"
}

want=$(wp_version "$SRC")
[[ -n $want ]] || {
	echo "sync-core: no WordPress in ${SRC}" >&2
	exit 1
}
have=$(wp_version "$DST")

skip=()
if [[ -z $have ]]; then
	log "copying WordPress ${want} to ${DST}"
elif [[ $have == "$want" ]]; then
	log "WordPress ${have} is on the volume"
	settled
	exit 0
elif older "$want" "$have"; then
	log "the volume has WordPress ${have}, newer than the image's ${want}; leaving it"
	settled
	exit 0
else
	log "upgrading WordPress files ${have} to ${want}"
	skip=(wp-content wp-config.php)
fi

mapfile -t entries < <(cd "$SRC" && ls -A)
copy=()
for e in "${entries[@]}"; do
	keep=0
	for s in "${skip[@]}"; do
		[[ $e == "$s" ]] && keep=1
	done
	# A new volume may already hold a wp-content (a restore, for one): never overwrite it.
	if [[ -z $have && $e == wp-content && -e $DST/wp-content ]]; then
		keep=1
	fi
	((keep)) || copy+=("$e")
done

# version.php goes last, so an interrupted copy is redone on the next start.
(cd "$SRC" && tar --create --file - --exclude=wp-includes/version.php -- "${copy[@]}") |
	tar --extract --file - --directory "$DST" --no-same-owner --no-overwrite-dir
mkdir -p "$DST/wp-includes"
cp "$SRC/wp-includes/version.php" "$DST/wp-includes/version.php.new"
mv "$DST/wp-includes/version.php.new" "$DST/wp-includes/version.php"
settled
log "WordPress ${want} is on the volume"
