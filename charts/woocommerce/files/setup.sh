#!/usr/bin/env bash
# Sets up one WooCommerce store with WP-CLI. The chart runs it as a post-install and
# post-upgrade hook, so it runs again on every upgrade: each step reads the current state
# first and changes only what differs, and a second run changes nothing. It ends by reading
# back what a working store needs and fails loudly when anything is missing.
#
# Passwords arrive in the environment from the store's Secret and are never put on a command
# line: the admin password reaches WP-CLI on standard input, and nothing WP-CLI prints while
# it holds the password reaches the log unscrubbed.
#
# Every wait ends: the waits for files and the database are bounded by SETUP_TIMEOUT, each
# database check by DB_CHECK_TIMEOUT, and PHP's own socket timeouts (the Job's php.ini) bound
# every query WordPress makes, so a database that accepts connections and never answers fails
# the run with a message instead of hanging it.
#
# On an upgrade it also moves the database forward: "wp core update-db" when the WordPress
# files on the volume expect a newer schema than the database has, and "wp wc update" when the
# installed WooCommerce is newer than its schema, with the site in maintenance mode while they
# run and taken out of it again whatever happens. It waits first for this revision's WordPress
# files (CORE_IMAGE, recorded by the WordPress pod's sync-core step) and MariaDB release
# (DB_EXPECT_VERSION), so it never upgrades against the previous version of either.
set -euo pipefail

: "${STORE_URL:?STORE_URL is not set}"
: "${STORE_TITLE:?STORE_TITLE is not set}"
: "${ADMIN_EMAIL:?ADMIN_EMAIL is not set}"
: "${WORDPRESS_ADMIN_USER:?WORDPRESS_ADMIN_USER is not set}"
: "${WORDPRESS_ADMIN_PASSWORD:?WORDPRESS_ADMIN_PASSWORD is not set}"
: "${WC_VERSION:?WC_VERSION is not set}"
: "${WC_SOURCE_URL:?WC_SOURCE_URL is not set}"
: "${STORE_CURRENCY:?STORE_CURRENCY is not set}"
: "${STORE_COUNTRY:?STORE_COUNTRY is not set}"
: "${STORE_ADDRESS:?STORE_ADDRESS is not set}"
: "${STORE_CITY:?STORE_CITY is not set}"
: "${STORE_POSTCODE:?STORE_POSTCODE is not set}"
: "${PRODUCT_NAME:?PRODUCT_NAME is not set}"
: "${PRODUCT_SKU:?PRODUCT_SKU is not set}"
: "${PRODUCT_PRICE:?PRODUCT_PRICE is not set}"

WP_PATH=${WP_PATH:-/var/www/html}
SETUP_TIMEOUT=${SETUP_TIMEOUT:-600}
POLL_SECONDS=${POLL_SECONDS:-5}
DB_CHECK_TIMEOUT=${DB_CHECK_TIMEOUT:-10}
# CORE_IMAGE, when set, is the WordPress image whose core files this revision runs.
CORE_IMAGE=${CORE_IMAGE:-}
# WC_SHA256, when set, is the sha256 the WooCommerce archive must have; empty means the
# installed files are checked against wordpress.org's published checksums instead.
WC_SHA256=${WC_SHA256:-}
DOWNLOAD_TIMEOUT=${DOWNLOAD_TIMEOUT:-600}
# An archive larger than this is refused while it downloads.
DOWNLOAD_MAX_BYTES=${DOWNLOAD_MAX_BYTES:-268435456}
PAGES=(shop cart checkout myaccount)
PERMALINKS='/%postname%/'
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# changed records whether this run wrote anything; rewrite rules are flushed only then.
changed=0
# maintenance is 1 while this run holds the site in maintenance mode.
maintenance=0

log() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: FAILED: %s\n' "$*" >&2
	exit 1
}

# --url gives WordPress the host it would get from a web request (without it PHP warns about
# HTTP_HOST on the first call, and multisite-aware code guesses).
wp() { command wp --path="$WP_PATH" --url="$STORE_URL" "$@"; }
# WooCommerce's commands go through its REST API and need an administrator.
wc_cli() { wp wc "$@" --user="$WORDPRESS_ADMIN_USER"; }

# wait_for DESCRIPTION COMMAND... retries COMMAND until it succeeds or SETUP_TIMEOUT passes.
wait_for() {
	local what=$1
	shift
	local deadline=$((SECONDS + SETUP_TIMEOUT))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			die "timed out after ${SETUP_TIMEOUT}s waiting for ${what}"
		fi
		log "waiting for ${what}"
		sleep "$POLL_SECONDS"
	done
}

wordpress_files_ready() {
	[[ -s "$WP_PATH/wp-config.php" && -f "$WP_PATH/wp-includes/version.php" ]] || return 1
	[[ -z $CORE_IMAGE ]] && return 0
	# The WordPress pod records the image its core files are settled for; until it names this
	# revision's image the files may still be the previous version's.
	[[ -f "$WP_PATH/.storectl-core" && "$(<"$WP_PATH/.storectl-core")" == "$CORE_IMAGE" ]]
}

# files_db_version prints the database schema version the WordPress files on the volume
# expect ($wp_db_version in wp-includes/version.php), as WP-CLI itself reads it.
files_db_version() {
	# shellcheck disable=SC2016 # a PHP variable, matched literally
	sed -n 's/^\$wp_db_version = \([0-9][0-9]*\);.*/\1/p' "$WP_PATH/wp-includes/version.php" | head -n 1
}

# maintenance_on puts the site into maintenance mode for the rest of the upgrade steps.
maintenance_on() {
	((maintenance)) && return 0
	log "putting the site into maintenance mode"
	wp maintenance-mode activate
	maintenance=1
}

# maintenance_off ends the maintenance mode this run holds. WordPress itself ignores a
# maintenance file older than ten minutes, and WP-CLI then reports the mode as inactive.
maintenance_off() {
	((maintenance)) || return 0
	if wp maintenance-mode is-active; then
		wp maintenance-mode deactivate
	fi
	maintenance=0
	log "the site is out of maintenance mode"
}

# resume_maintenance takes over a maintenance mode an interrupted run left on (only this
# script turns it on), so that it ends with this run's upgrade steps.
resume_maintenance() {
	if wp maintenance-mode is-active; then
		log "the site is in maintenance mode, as an interrupted upgrade leaves it; it ends once the upgrade steps are done"
		maintenance=1
	fi
}

# on_exit ends maintenance mode on every way out, a failure included, keeping the exit code.
on_exit() {
	local rc=$?
	if ((maintenance)); then
		maintenance_off || printf 'setup: FAILED to end maintenance mode; run: wp maintenance-mode deactivate\n' >&2
	fi
	exit "$rc"
}

# database_ready makes one bounded connection attempt: db-ready.php sets its own connect and
# read timeouts, and timeout(1) ends a PHP that hangs anyway.
database_ready() {
	local rc=0
	DB_CHECK_TIMEOUT=$DB_CHECK_TIMEOUT timeout "$((DB_CHECK_TIMEOUT + 5))" php "$SCRIPT_DIR/db-ready.php" || rc=$?
	if ((rc == 124 || rc == 143)); then
		log "the database at ${WORDPRESS_DB_HOST:-?} did not answer within $((DB_CHECK_TIMEOUT + 5))s"
	fi
	return "$rc"
}

# ensure_option NAME VALUE [json] sets an option unless it already holds VALUE; with "json"
# the value is compared and written as JSON.
ensure_option() {
	local name=$1 want=$2 format=() current
	if [[ "${3:-}" == json ]]; then
		format=(--format=json)
	fi
	if current=$(wp option get "$name" "${format[@]}" 2>/dev/null) && [[ "$current" == "$want" ]]; then
		return 0
	fi
	log "setting ${name}"
	wp option update "$name" "$want" "${format[@]}"
	changed=1
}

# scrub prints its standard input with every form of the admin password WP-CLI could print
# (as typed, and shell-quoted as WP-CLI echoes a prompted command) replaced.
scrub() {
	local text quoted sq="'"
	text=$(cat)
	quoted="${sq}${WORDPRESS_ADMIN_PASSWORD//${sq}/${sq}\\${sq}${sq}}${sq}"
	text=${text//"$quoted"/[redacted]}
	text=${text//"$WORDPRESS_ADMIN_PASSWORD"/[redacted]}
	[[ -z "$text" ]] || printf '%s\n' "$text"
}

install_core() {
	if wp core is-installed; then
		log "WordPress is installed"
		return 0
	fi
	log "installing WordPress at ${STORE_URL}"
	# WP-CLI echoes a command that used --prompt with the prompted values filled in; --quiet
	# stops that, and scrub catches whatever a future WP-CLI prints instead.
	local out rc=0
	out=$(printf '%s\n' "$WORDPRESS_ADMIN_PASSWORD" |
		wp core install \
			--url="$STORE_URL" \
			--title="$STORE_TITLE" \
			--admin_user="$WORDPRESS_ADMIN_USER" \
			--admin_email="$ADMIN_EMAIL" \
			--skip-email \
			--quiet \
			--prompt=admin_password 2>&1) || rc=$?
	printf '%s' "$out" | scrub
	if ((rc != 0)); then
		die "installing WordPress failed (exit ${rc})"
	fi
	log "WordPress is installed"
	changed=1
}

# upgrade_core_database runs WordPress's database upgrade when the files on the volume expect
# a newer schema than the database has, and checks that the database reached it. A database
# newer than the files (they are never downgraded, so only a restore of older files makes
# this) is left alone: "wp core update-db" would write the older version over it.
upgrade_core_database() {
	local want have
	want=$(files_db_version)
	[[ -n $want ]] || die "no \$wp_db_version in ${WP_PATH}/wp-includes/version.php"
	have=$(wp option get db_version)
	if [[ "$have" == "$want" ]]; then
		log "the WordPress database is at version ${have}"
		return 0
	fi
	if [[ ! "$have" =~ ^[0-9]+$ ]] || ((have > want)); then
		log "the WordPress database is at version ${have}, and the files expect ${want}; leaving it"
		return 0
	fi
	maintenance_on
	log "upgrading the WordPress database from version ${have} to ${want}"
	wp core update-db
	have=$(wp option get db_version)
	[[ "$have" == "$want" ]] || die "after 'wp core update-db' the WordPress database is at version ${have}, want ${want}"
	changed=1
}

# upgrade_woocommerce_database runs WooCommerce's database updates when its schema is older
# than the installed plugin (right after a plugin upgrade, or after a run that stopped before
# them), and checks that the schema reached the plugin's version.
upgrade_woocommerce_database() {
	local plugin schema
	plugin=$(wp plugin get woocommerce --field=version)
	if ! schema=$(wp option get woocommerce_db_version 2>/dev/null) || [[ -z "$schema" ]]; then
		log "WooCommerce records no database version; leaving its updates to WooCommerce"
		return 0
	fi
	if ! version_lt "$schema" "$plugin"; then
		log "the WooCommerce database is at version ${schema}"
		return 0
	fi
	maintenance_on
	log "updating the WooCommerce database from version ${schema} to ${plugin}"
	# Runs the new version's database migrations now rather than in the background.
	wc_cli update
	schema=$(wp option get woocommerce_db_version)
	[[ "$schema" == "$plugin" ]] || die "after 'wp wc update' the WooCommerce database is at version ${schema}, want ${plugin}"
	changed=1
}

# ensure_permalinks turns on pretty permalinks, which /shop/ and /wp-json/ need. "wp core
# install" only does it when a loopback request succeeds, which a locked-down Job cannot make.
ensure_permalinks() {
	local current
	if current=$(wp option get permalink_structure) && [[ "$current" == "$PERMALINKS" ]]; then
		log "permalinks are set"
		return 0
	fi
	log "setting permalinks to ${PERMALINKS}"
	wp rewrite structure "$PERMALINKS"
	changed=1
}

# version_lt A B succeeds when release A (dotted numbers) is older than release B. Pure bash:
# the WP-CLI image's busybox sort has no version ordering.
version_lt() {
	local -a a b
	local i x y
	IFS=. read -r -a a <<<"$1"
	IFS=. read -r -a b <<<"$2"
	for ((i = 0; i < ${#a[@]} || i < ${#b[@]}; i++)); do
		x=${a[i]:-0}
		y=${b[i]:-0}
		# Keep the leading digits of a part ("2-rc" compares as 2).
		x=${x%%[!0-9]*}
		y=${y%%[!0-9]*}
		x=$((10#${x:-0}))
		y=$((10#${y:-0}))
		if ((x < y)); then
			return 0
		fi
		if ((x > y)); then
			return 1
		fi
	done
	return 1
}

# fetch_woocommerce downloads the WooCommerce archive from WC_SOURCE_URL (https, http or a
# file:// path inside this container) into /tmp, bounded in time and size, checks it against
# WC_SHA256 when one is pinned, and prints the archive's path.
fetch_woocommerce() {
	local archive=${TMPDIR:-/tmp}/woocommerce-${WC_VERSION}.zip out rc=0 got
	rm -f "$archive"
	log "fetching WooCommerce ${WC_VERSION} from ${WC_SOURCE_URL}" >&2
	out=$(curl --fail --silent --show-error --location \
		--proto '=https,http,file' --proto-redir '=https,http' \
		--connect-timeout 30 --max-time "$DOWNLOAD_TIMEOUT" --max-filesize "$DOWNLOAD_MAX_BYTES" \
		--output "$archive" "$WC_SOURCE_URL" 2>&1) || rc=$?
	if ((rc != 0)); then
		rm -f "$archive"
		die "could not fetch WooCommerce ${WC_VERSION} from ${WC_SOURCE_URL}: ${out:-curl exit ${rc}}"
	fi
	if [[ -n "$WC_SHA256" ]]; then
		got=$(sha256sum "$archive")
		got=${got%% *}
		if [[ "$got" != "$WC_SHA256" ]]; then
			rm -f "$archive"
			die "the WooCommerce archive from ${WC_SOURCE_URL} has sha256 ${got}, want ${WC_SHA256}; refusing to install it"
		fi
		log "WooCommerce archive matches sha256 ${WC_SHA256}" >&2
	fi
	printf '%s\n' "$archive"
}

# install_woocommerce_archive installs WooCommerce from a verified archive (replacing what is
# there with --force) and checks that it holds the version asked for.
install_woocommerce_archive() {
	local archive got
	archive=$(fetch_woocommerce)
	wp plugin install "$archive" "$@"
	rm -f "$archive"
	got=$(wp plugin get woocommerce --field=version)
	if [[ "$got" != "$WC_VERSION" ]]; then
		die "the archive from ${WC_SOURCE_URL} holds WooCommerce ${got}, want ${WC_VERSION}"
	fi
	if [[ -z "$WC_SHA256" ]]; then
		# No pinned archive checksum: the installed files must match the checksums wordpress.org
		# publishes for this release.
		log "checking WooCommerce's files against wordpress.org's checksums"
		wp plugin verify-checksums woocommerce ||
			die "WooCommerce ${WC_VERSION} from ${WC_SOURCE_URL} does not match wordpress.org's checksums"
	fi
}

install_woocommerce() {
	local installed
	if wp plugin is-installed woocommerce; then
		installed=$(wp plugin get woocommerce --field=version)
		if version_lt "$installed" "$WC_VERSION"; then
			maintenance_on
			log "upgrading WooCommerce ${installed} to ${WC_VERSION}"
			install_woocommerce_archive --force
			changed=1
		elif [[ "$installed" != "$WC_VERSION" ]]; then
			# Never downgrade: a newer WooCommerce may already have migrated the database.
			log "WooCommerce ${installed} is newer than ${WC_VERSION}; keeping it"
		else
			log "WooCommerce ${installed} is installed"
		fi
	else
		log "installing WooCommerce ${WC_VERSION}"
		install_woocommerce_archive
		changed=1
	fi

	if wp plugin is-active woocommerce; then
		log "WooCommerce is active"
	else
		log "activating WooCommerce"
		wp plugin activate woocommerce
		changed=1
	fi
	upgrade_woocommerce_database
}

configure_store() {
	ensure_option woocommerce_store_address "$STORE_ADDRESS"
	ensure_option woocommerce_store_city "$STORE_CITY"
	ensure_option woocommerce_store_postcode "$STORE_POSTCODE"
	ensure_option woocommerce_default_country "$STORE_COUNTRY"
	ensure_option woocommerce_currency "$STORE_CURRENCY"
	# New installs start in "coming soon" mode, which hides the shop from visitors.
	ensure_option woocommerce_coming_soon no
	ensure_option woocommerce_store_pages_only no
	ensure_option woocommerce_onboarding_profile '{"skipped":true}' json
	ensure_task_list_hidden
	ensure_option woocommerce_allow_tracking no
	ensure_option woocommerce_show_marketplace_suggestions no
	ensure_option woocommerce_enable_guest_checkout yes
}

# ensure_task_list_hidden hides the onboarding task list. WooCommerce intercepts writes to the
# old option woocommerce_task_list_hidden (it moves the value into
# woocommerce_task_list_hidden_lists, deletes the option and makes the update report failure),
# so the list of hidden task lists is written directly.
ensure_task_list_hidden() {
	local current
	if current=$(wp option get woocommerce_task_list_hidden_lists --format=json 2>/dev/null); then
		if [[ "$current" == *'"setup"'* ]]; then
			return 0
		fi
		case $current in
		'[]' | '{}' | '""' | null | false) current='["setup"]' ;;
		'['*']') current="${current%]},\"setup\"]" ;;
		'{'*'}') current="${current%\}},\"storectl\":\"setup\"}" ;;
		*) current='["setup"]' ;;
		esac
	else
		current='["setup"]'
	fi
	log "hiding the onboarding task list"
	wp option update woocommerce_task_list_hidden_lists "$current" --format=json
	changed=1
}

# page_status KEY prints the status of WooCommerce's KEY page (shop, cart, ...), or "missing".
page_status() {
	local id status
	if ! id=$(wp option get "woocommerce_$1_page_id" 2>/dev/null) || [[ ! "$id" =~ ^[1-9][0-9]*$ ]]; then
		echo missing
		return 0
	fi
	if ! status=$(wp post get "$id" --field=post_status 2>/dev/null); then
		echo missing
		return 0
	fi
	echo "$status"
}

# ensure_pages makes the shop's four pages exist and be published. WooCommerce's install_pages
# tool recreates missing pages only (a page in draft, pending or private counts as present), so
# those are published again here; a page in the bin is untrashed by the tool.
ensure_pages() {
	local page status id recreate=()
	for page in "${PAGES[@]}"; do
		status=$(page_status "$page")
		case $status in
		publish) ;;
		missing | trash) recreate+=("$page") ;;
		*)
			id=$(wp option get "woocommerce_${page}_page_id")
			log "publishing the ${page} page (${id}), which was ${status}"
			wp post update "$id" --post_status=publish
			changed=1
			;;
		esac
	done
	if ((${#recreate[@]} > 0)); then
		log "creating shop pages: ${recreate[*]}"
		wc_cli tool run install_pages
		changed=1
	fi
	log "shop pages are published"
}

# hpos_enabled succeeds when WooCommerce keeps orders in its own tables.
hpos_enabled() {
	local v
	v=$(wp option get woocommerce_custom_orders_table_enabled 2>/dev/null) && [[ "$v" == yes ]]
}

# ensure_order_storage gives the store the order storage a new WooCommerce install gets
# (High-Performance Order Storage). WooCommerce switches a new shop over on the first admin
# page load, which a store set up by WP-CLI alone never has. A store that already keeps orders
# in the posts table is left alone: moving them is a migration an operator starts.
ensure_order_storage() {
	local legacy
	if hpos_enabled; then
		log "orders use WooCommerce's order tables"
		return 0
	fi
	legacy=$(wp post list --post_type=shop_order --post_status=any --format=count)
	if [[ "$legacy" != 0 ]]; then
		log "${legacy} orders are kept in the posts table; leaving the order storage as it is (see 'wp wc hpos')"
		return 0
	fi
	log "switching orders to WooCommerce's order tables"
	wc_cli hpos enable
	changed=1
}

cod_enabled() {
	local enabled
	enabled=$(wp option pluck woocommerce_cod_settings enabled 2>/dev/null) || return 1
	[[ "$enabled" == yes ]]
}

enable_cod() {
	if cod_enabled; then
		log "cash on delivery is enabled"
		return 0
	fi
	log "enabling cash on delivery"
	wc_cli payment_gateway update cod --enabled=true
	changed=1
}

# ensure_shipping gives the "rest of the world" zone (0) a method when it has none, so a
# physical product can be checked out.
ensure_shipping() {
	local ids
	ids=$(wc_cli shipping_zone_method list 0 --format=ids)
	if [[ -n "$ids" ]]; then
		log "a shipping method exists"
		return 0
	fi
	log "adding free shipping"
	wc_cli shipping_zone_method create 0 --method_id=free_shipping --enabled=true
	changed=1
}

# product_ids prints the ids of the products with the sample product's SKU.
product_ids() {
	wc_cli product list --sku="$PRODUCT_SKU" --format=ids
}

ensure_product() {
	local ids found price
	ids=$(product_ids)
	read -r -a found <<<"$ids"
	case ${#found[@]} in
	0)
		log "creating ${PRODUCT_NAME} (${PRODUCT_SKU})"
		wc_cli product create \
			--name="$PRODUCT_NAME" \
			--sku="$PRODUCT_SKU" \
			--type=simple \
			--regular_price="$PRODUCT_PRICE" \
			--status=publish \
			--porcelain
		changed=1
		;;
	1)
		price=$(wc_cli product get "${found[0]}" --field=regular_price)
		if [[ "$price" == "$PRODUCT_PRICE" ]]; then
			log "${PRODUCT_SKU} exists at ${price}"
		else
			log "setting ${PRODUCT_SKU} price from ${price} to ${PRODUCT_PRICE}"
			wc_cli product update "${found[0]}" --regular_price="$PRODUCT_PRICE"
			changed=1
		fi
		;;
	*)
		die "products ${found[*]} share SKU ${PRODUCT_SKU}; remove the duplicates"
		;;
	esac
}

# verify reads back what a working store needs and lists every problem before failing.
verify() {
	local problems=() ids found price status page
	if ! wp plugin is-active woocommerce; then
		problems+=("WooCommerce is not active")
	fi
	if ! cod_enabled; then
		problems+=("cash on delivery is not enabled")
	fi
	for page in "${PAGES[@]}"; do
		status=$(page_status "$page")
		if [[ "$status" != publish ]]; then
			problems+=("the ${page} page is ${status}, want publish")
		fi
	done
	ids=$(product_ids)
	read -r -a found <<<"$ids"
	if ((${#found[@]} != 1)); then
		problems+=("expected one product with SKU ${PRODUCT_SKU}, found ${#found[@]}")
	else
		price=$(wc_cli product get "${found[0]}" --field=regular_price)
		status=$(wc_cli product get "${found[0]}" --field=status)
		if [[ "$price" != "$PRODUCT_PRICE" ]]; then
			problems+=("${PRODUCT_SKU} reads back at price '${price}', want ${PRODUCT_PRICE}")
		fi
		if [[ "$status" != publish ]]; then
			problems+=("${PRODUCT_SKU} has status '${status}', want publish")
		fi
	fi
	if ((${#problems[@]} > 0)); then
		printf 'setup: verification failed: %s\n' "${problems[@]}" >&2
		exit 1
	fi
	log "verified: WooCommerce active, cash on delivery enabled, shop pages published, ${PRODUCT_SKU} at ${PRODUCT_PRICE}"
}

main() {
	log "setting up ${STORE_URL}"
	wait_for "WordPress files in ${WP_PATH}${CORE_IMAGE:+ from ${CORE_IMAGE}}" wordpress_files_ready
	wait_for "the database" database_ready

	install_core
	trap on_exit EXIT
	resume_maintenance
	upgrade_core_database
	ensure_permalinks
	install_woocommerce
	maintenance_off
	configure_store
	ensure_order_storage
	ensure_pages
	enable_cod
	ensure_shipping
	ensure_product
	if ((changed)); then
		# WooCommerce adds /shop/ and /product/ rules when it activates.
		wp rewrite flush
	fi
	verify
	log "done"
}

main "$@"
