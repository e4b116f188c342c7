#!/usr/bin/env bash
# Sets up one WooCommerce store with WP-CLI. The chart runs it as a post-install and
# post-upgrade hook, so it runs again on every upgrade: each step reads the current state
# first and changes only what differs, and a second run changes nothing. It ends by reading
# back what a working store needs and fails loudly when anything is missing.
#
# Passwords arrive in the environment from the store's Secret and are never put on a command
# line: the admin password reaches WP-CLI on standard input.
set -euo pipefail

: "${STORE_URL:?STORE_URL is not set}"
: "${STORE_TITLE:?STORE_TITLE is not set}"
: "${ADMIN_EMAIL:?ADMIN_EMAIL is not set}"
: "${WORDPRESS_ADMIN_USER:?WORDPRESS_ADMIN_USER is not set}"
: "${WORDPRESS_ADMIN_PASSWORD:?WORDPRESS_ADMIN_PASSWORD is not set}"
: "${WC_VERSION:?WC_VERSION is not set}"
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
PERMALINKS='/%postname%/'
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# changed records whether this run wrote anything; rewrite rules are flushed only then.
changed=0

log() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: FAILED: %s\n' "$*" >&2
	exit 1
}

wp() { command wp --path="$WP_PATH" "$@"; }
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
	[[ -s "$WP_PATH/wp-config.php" && -f "$WP_PATH/wp-includes/version.php" ]]
}

database_ready() {
	php "$SCRIPT_DIR/db-ready.php"
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

install_core() {
	if wp core is-installed; then
		log "WordPress is installed"
		return 0
	fi
	log "installing WordPress at ${STORE_URL}"
	printf '%s\n' "$WORDPRESS_ADMIN_PASSWORD" |
		wp core install \
			--url="$STORE_URL" \
			--title="$STORE_TITLE" \
			--admin_user="$WORDPRESS_ADMIN_USER" \
			--admin_email="$ADMIN_EMAIL" \
			--skip-email \
			--prompt=admin_password
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

install_woocommerce() {
	local installed upgraded=0
	if wp plugin is-installed woocommerce; then
		installed=$(wp plugin get woocommerce --field=version)
		if version_lt "$installed" "$WC_VERSION"; then
			log "upgrading WooCommerce ${installed} to ${WC_VERSION}"
			wp plugin install woocommerce --version="$WC_VERSION" --force
			upgraded=1
			changed=1
		elif [[ "$installed" != "$WC_VERSION" ]]; then
			# Never downgrade: a newer WooCommerce may already have migrated the database.
			log "WooCommerce ${installed} is newer than ${WC_VERSION}; keeping it"
		else
			log "WooCommerce ${installed} is installed"
		fi
	else
		log "installing WooCommerce ${WC_VERSION}"
		wp plugin install woocommerce --version="$WC_VERSION"
		changed=1
	fi

	if wp plugin is-active woocommerce; then
		log "WooCommerce is active"
	else
		log "activating WooCommerce"
		wp plugin activate woocommerce
		changed=1
	fi

	if ((upgraded)); then
		# Runs the new version's database migrations now rather than in the background.
		wc_cli update
	fi
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
	ensure_option woocommerce_task_list_hidden yes
	ensure_option woocommerce_allow_tracking no
	ensure_option woocommerce_show_marketplace_suggestions no
	ensure_option woocommerce_enable_guest_checkout yes
}

# page_published KEY succeeds when WooCommerce's KEY page (shop, cart, ...) exists and is published.
page_published() {
	local id status
	id=$(wp option get "woocommerce_$1_page_id" 2>/dev/null) || return 1
	[[ "$id" =~ ^[1-9][0-9]*$ ]] || return 1
	status=$(wp post get "$id" --field=post_status 2>/dev/null) || return 1
	[[ "$status" == publish ]]
}

ensure_pages() {
	local page missing=()
	for page in shop cart checkout myaccount; do
		page_published "$page" || missing+=("$page")
	done
	if ((${#missing[@]} == 0)); then
		log "shop pages exist"
		return 0
	fi
	# The tool creates only the pages that are missing.
	log "creating shop pages: ${missing[*]}"
	wc_cli tool run install_pages
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
	local problems=() ids found price status
	if ! wp plugin is-active woocommerce; then
		problems+=("WooCommerce is not active")
	fi
	if ! cod_enabled; then
		problems+=("cash on delivery is not enabled")
	fi
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
	log "verified: WooCommerce active, cash on delivery enabled, ${PRODUCT_SKU} at ${PRODUCT_PRICE}"
}

main() {
	log "setting up ${STORE_URL}"
	wait_for "WordPress files in ${WP_PATH}" wordpress_files_ready
	wait_for "the database" database_ready

	install_core
	ensure_permalinks
	install_woocommerce
	configure_store
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
