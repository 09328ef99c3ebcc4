#!/bin/sh
# The packages of a recipe's 'debian' lines, as one configured tree for
# mkimage: resolved by apt's own solver (run as you, with private state:
# no root, no subordinate ids), pinned in a lock file, fetched into a cache
# shared by every output directory (content-addressed by sha256), and
# configured inside UML, where the maintainer scripts run as guest root.
# See docs/debian.md; 'debian.sh --help' for the commands.
set -eu

prog=debian.sh
STAGE_VERSION=1 # bump when the stage's output changes for the same lock
ARCH=amd64      # User Mode Linux here is x86_64

usage() {
	cat <<'USAGE'
Usage: debian.sh COMMAND [OPTIONS]

  resolve -l LOCK -q REQUEST        resolve REQUEST (a file: "SUITE PKG...",
                                    as 'mkimage --debian-request' prints it)
                                    with apt and write LOCK
  lock    -l LOCK -q REQUEST        resolve only if LOCK is missing or was made
                                    for another request (what a build does)
  fetch   -l LOCK                   download into the cache what it lacks
  tree    -l LOCK -o TREE.tar -k KERNEL -r RUNTIME -m MKIMAGE -i INIT
                                    the configured tree, from the cache or made
                                    by booting KERNEL (link or copy at TREE.tar)

Options: -M MIRROR  a mirror URI instead of the host's apt sources
Environment: UMLKIT_DEBIAN_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/umlkit/debian)

Exit status: 0 done; 1 error; 2 usage; 3 apt cannot resolve the request
(an unknown package, a conflict); 4 the mirror cannot be reached and the
cache lacks a file; 5 a file's sha256 differs from the lock; 6 a
maintainer script failed in the guest.
USAGE
}

die() {
	status=$1
	shift
	echo "$prog: $*" >&2
	exit "$status"
}

cache=${UMLKIT_DEBIAN_CACHE:-${XDG_CACHE_HOME:-${HOME:?}/.cache}/umlkit/debian}

# --- apt, as this user, with state of its own ---------------------------

# The host's deb sources for SUITE: the stanzas naming the host's codename
# (and its -updates and -security suites) with that codename replaced, so
# a bookworm host can resolve trixie from the same mirror. Reads one-line
# and deb822 files; keeps URIs, components and Signed-By.
host_sources() {
	target=$1
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die 1 "/etc/os-release names no VERSION_CODENAME: set DEBIAN_MIRROR (make menuconfig)"
	set -- /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
	for f; do [ -f "$f" ] && printf '%s\n' "$f"; done | while read -r f; do
		case $f in
		*.sources) awk -v RS= '{ print; print "" }' "$f" ;;
		*) awk '$1 == "deb" {
			opts = ""; i = 2
			if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
			printf "Types: deb\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
			for (j = i + 2; j <= NF; j++) printf " %s", $j
			if (opts ~ /signed-by=/) { sub(/.*signed-by=/, "", opts); sub(/[] ].*/, "", opts); printf "\nSigned-By: %s", opts }
			printf "\n\n" }' "$f" ;;
		esac
	done | awk -v RS= -v host="$codename" -v suite="$target" '
	{
		types = uris = suites = comps = signed = ""; enabled = 1
		n = split($0, lines, "\n")
		for (i = 1; i <= n; i++) {
			if (lines[i] ~ /^#/) continue
			key = lines[i]; sub(/:.*/, "", key); val = lines[i]; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "Types") types = val
			else if (key == "URIs") uris = val
			else if (key == "Suites") suites = val
			else if (key == "Components") comps = val
			else if (key == "Signed-By") signed = val
			else if (key == "Enabled" && val == "no") enabled = 0
		}
		if (!enabled || (" " types " ") !~ / deb /) next
		out = ""; m = split(suites, s, " ")
		for (i = 1; i <= m; i++)
			if (s[i] == host) out = out " " suite
			else if (s[i] == host "-updates" || s[i] == host "-security") out = out " " suite substr(s[i], length(host) + 1)
		if (out == "") next
		printf "Types: deb\nURIs: %s\nSuites:%s\nComponents: %s\n", uris, out, comps
		if (signed != "") printf "Signed-By: %s\n", signed
		printf "\n"
	}'
}

sources_for() {
	if [ -n "$mirror" ]; then
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
			"$mirror" "$1" /usr/share/keyrings/debian-archive-keyring.gpg
	else
		host_sources "$1"
	fi
}

# apt_setup SUITE: APT_CONFIG for SUITE's private state under the cache
# (one directory per set of sources); sets $aptdir.
apt_setup() {
	src=$(sources_for "$1")
	[ -n "$src" ] || die 1 "the host's apt sources have no Debian suite to map to '$1': set DEBIAN_MIRROR (make menuconfig)"
	key=$(printf '%s\n%s\n' "$ARCH" "$src" | sha256sum | cut -c1-16)
	aptdir=$cache/apt/$1-$key
	mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/etc/sources.list.d" \
		"$aptdir/etc/apt.conf.d" "$aptdir/etc/preferences.d"
	# one apt at a time in this state (apt's own locking is off: not root)
	exec 9>"$aptdir/lock"
	flock 9
	printf '%s\n' "$src" >"$aptdir/etc/sources.list.d/umlkit.sources"
	: >>"$aptdir/status"
	cat >"$aptdir/apt.conf" <<CONF
Dir::State "$aptdir";
Dir::State::Lists "$aptdir/lists";
Dir::State::status "$aptdir/status";
Dir::Cache "$aptdir";
Dir::Cache::Archives "$aptdir/archives";
Dir::Etc "$aptdir/etc";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::Parts "$aptdir/etc/apt.conf.d";
Dir::Etc::Preferences "/dev/null";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Sandbox::User "$(id -un)";
APT::Install-Recommends "false";
APT::Get::AllowUnauthenticated "false";
Debug::NoLocking "true";
Acquire::Languages "none";
Acquire::Retries "2";
APT::Update::Error-Mode "any";
CONF
	APT_CONFIG=$aptdir/apt.conf
	export APT_CONFIG
}

apt_update() {
	echo ">>> debian: apt-get update ($1)" >&2
	if ! apt-get -q -o Acquire::http::Timeout=20 update >"$aptdir/update.log" 2>&1; then
		why=$(grep -m1 -E '^(E|W): ' "$aptdir/update.log" || tail -n 1 "$aptdir/update.log")
		die 4 "cannot reach the mirror for '$1' ($why)"
	fi
}

# --- resolve: the request to a lock -------------------------------------

# print-uris lines to "name version" (the file name is NAME_VERSION_ARCH.deb,
# the version URL-encoded)
uris_to_names() {
	sed -n "s/^'[^']*' \([^ ]*\)_\([^_ ]*\)_[^_ ]*\.deb .*/\1 \2/p" | sed 's/%3a/:/g'
}

# resolve_set OUT PACKAGE...: "name version" lines, sorted, into OUT
resolve_set() {
	into=$1
	shift
	if ! apt-get -q -y --print-uris install "$@" >"$aptdir/resolve.out" 2>"$aptdir/resolve.err"; then
		why=$(grep -m1 '^E: ' "$aptdir/resolve.err" || tail -n 1 "$aptdir/resolve.err")
		die 3 "apt cannot install the recipe's packages: ${why#E: }"
	fi
	uris_to_names <"$aptdir/resolve.out" | sort >"$into"
}

cmd_resolve() {
	[ -s "$request" ] || die 2 "request file '$request' is empty or missing"
	read -r suite pkgs <"$request" || :
	apt_setup "$suite"
	apt_update "$suite"
	# The tree's /usr is merged from the start (stage_recipe), as
	# mmdebstrap makes it: where the suite has usr-is-merged, it stands for
	# the essential set's "usrmerge | usr-is-merged", which apt would
	# otherwise meet with usrmerge and, through it, all of perl (50 MB).
	merged=
	apt-cache show usr-is-merged >/dev/null 2>&1 && merged=usr-is-merged
	resolve_set "$aptdir/essential" '?essential' apt $merged
	# shellcheck disable=SC2086 # the packages are words by construction
	resolve_set "$aptdir/all" '?essential' '?priority(required)' apt $merged $pkgs
	essential=$(cat "$aptdir/essential")
	all=$(cat "$aptdir/all")
	epoch=$(sed -n 's/^Date: //p' "$aptdir"/lists/*_"$suite"_InRelease 2>/dev/null | head -n 1)
	epoch=$(date -u -d "${epoch:-@0}" +%s)
	# shellcheck disable=SC2046
	apt-cache show $(printf '%s\n' "$all" | awk '{ print $1 "=" $2 }') 2>/dev/null |
		awk -v ess="$essential" '
		BEGIN { n = split(ess, e, "\n"); for (i = 1; i <= n; i++) is_ess[e[i]] = 1 }
		/^Package: / { p = $2 } /^Version: / { v = $2 } /^Architecture: / { a = $2 }
		/^SHA256: / { h = $2 } /^Size: / { s = $2 }
		/^$/ { if (p != "" && !seen[p]++) printf "%s %s %s %s %s %s\n", p, v, a, s, h, (is_ess[p " " v] ? "essential" : "apt"); p = "" }
		END { if (p != "" && !seen[p]++) printf "%s %s %s %s %s %s\n", p, v, a, s, h, (is_ess[p " " v] ? "essential" : "apt") }' |
		sort >"$lock.body"
	[ "$(wc -l <"$lock.body")" -eq "$(printf '%s\n' "$all" | wc -l)" ] ||
		die 1 "apt-cache show did not describe every resolved package"
	{
		echo "# umlkit Debian lock: what the recipe's 'debian' lines resolved to."
		echo "# Made by the first build or 'make debian-update'; commit it to pin the guest."
		echo "# package version architecture size sha256 stage"
		printf 'request %s\n' "$(cat "$request")"
		printf 'epoch %s\n' "$epoch"
		cat "$lock.body"
	} >"$lock.tmp"
	rm -f "$lock.body"
	mv "$lock.tmp" "$lock"
	echo ">>> debian: $lock: $(grep -c -v -e '^#' -e '^request ' -e '^epoch ' "$lock") packages" >&2
}

lock_request() { sed -n 's/^request //p' "$1"; }

cmd_lock() {
	if [ -f "$lock" ] && [ "$(lock_request "$lock")" = "$(cat "$request")" ]; then
		return 0
	fi
	[ -f "$lock" ] && echo ">>> debian: the recipes' debian lines changed: resolving $lock anew" >&2
	cmd_resolve
}

# lock lines: name version arch size sha256 stage
lock_packages() { grep -v -e '^#' -e '^request ' -e '^epoch ' "$1"; }

check_lock() {
	[ -f "$lock" ] || die 1 "no lock file '$lock': run 'make debian-update'"
	# every field reaches apt-get's argument vector or a path: Debian's
	# own character sets only (a name cannot start with '-', an option)
	lock_request "$lock" | awk -v f="$lock" 'NF < 1 || $0 !~ /^[a-z0-9][a-z0-9+. -]*$/ {
		printf "%s: the request line is not \"request SUITE PACKAGE...\": run make debian-update\n", f; exit 1 }' >&2 ||
		exit 1
	lock_packages "$lock" | awk -v f="$lock" 'NF != 6 || $1 !~ /^[a-z0-9][a-z0-9+.-]*$/ ||
		$2 !~ /^[0-9][A-Za-z0-9.+~:-]*$/ || $3 !~ /^[a-z0-9][a-z0-9-]*$/ || $4 !~ /^[0-9]+$/ ||
		length($5) != 64 || $5 ~ /[^0-9a-f]/ || $6 !~ /^(essential|apt)$/ {
		printf "%s: line \"%s\" is not \"package version architecture size sha256 stage\": run make debian-update\n", f, $0; exit 1 }' >&2 ||
		exit 1
}

# --- fetch: the cache by sha256 -----------------------------------------

cmd_fetch() {
	check_lock
	debs=$cache/debs
	mkdir -p "$debs"
	missing=$(lock_packages "$lock" | while read -r name version _ _ sum _; do
		[ -f "$debs/$sum.deb" ] || printf '%s=%s\n' "$name" "$version"
	done)
	[ -n "$missing" ] || return 0
	apt_setup "$(lock_request "$lock" | cut -d' ' -f1)"
	apt_update "$(lock_request "$lock" | cut -d' ' -f1)"
	tmp=$(mktemp -d "$debs/.fetch-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo ">>> debian: download $(printf '%s\n' "$missing" | wc -l) packages" >&2
	# shellcheck disable=SC2086
	if ! (cd "$tmp" && apt-get -q download $missing) >"$tmp/log" 2>&1; then
		why=$(grep -m1 '^E: ' "$tmp/log" || tail -n 1 "$tmp/log")
		case $why in
		*"Can't select version"* | *"Unable to locate"*)
			die 4 "the mirror no longer has what $lock pins (${why#E: }): run 'make debian-update'" ;;
		esac
		die 4 "cannot download from the mirror (${why#E: })"
	fi
	for f in "$tmp"/*.deb; do
		sum=$(sha256sum "$f" | cut -d' ' -f1)
		mv "$f" "$debs/$sum.deb"
	done
	rm -rf "$tmp"
	trap - EXIT
	lock_packages "$lock" | while read -r name version _ _ sum _; do
		[ -f "$debs/$sum.deb" ] ||
			die 5 "$name $version: the mirror's file does not have the sha256 $lock pins ($sum): run 'make debian-update'"
	done
}

# --- tree: the configured tree, staged in UML ---------------------------

verify_debs() {
	lock_packages "$lock" | while read -r name version _ _ sum _; do
		f=$cache/debs/$sum.deb
		[ -f "$f" ] || die 4 "$name $version is not in the cache: run 'make debian-fetch' (needs the mirror)"
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] ||
			die 5 "$f: sha256 differs from $lock: the cache was altered; remove it and run 'make debian-fetch'"
	done
}

tree_key() {
	here=$(dirname "$0")
	{
		echo "stage $STAGE_VERSION"
		sed -n 's/^epoch //p' "$lock"
		lock_packages "$lock"
		cat "$here/debian-configure.sh"
	} | sha256sum | cut -d' ' -f1
}

stage_recipe() {
	echo "slink /bin usr/bin 0777 0 0"
	echo "slink /sbin usr/sbin 0777 0 0"
	echo "slink /lib usr/lib 0777 0 0"
	echo "slink /lib64 usr/lib64 0777 0 0"
	for d in usr/bin usr/sbin usr/lib usr/lib64 var/lib/dpkg/info var/lib/dpkg/updates \
		var/lib/dpkg/triggers etc/apt/apt.conf.d umlkit-debian umlkit-debs umlkit-out; do
		echo "dir /$d 0755 0 0"
	done
	# printf, not echo: dash's echo would turn \n into a new line
	printf '%s\n' 'text /var/lib/dpkg/status 0644 0 0 ""' \
		'text /var/lib/dpkg/available 0644 0 0 ""' \
		"text /var/lib/dpkg/arch 0644 0 0 \"$ARCH\\n\"" \
		'text /usr/sbin/policy-rc.d 0755 0 0 "#!/bin/sh\nexit 101\n"' \
		'text /etc/fstab 0644 0 0 ""'
	lock_packages "$lock" | awk -v debs="$cache/debs" '$6 == "essential" { print "deb " debs "/" $5 ".deb" }'
	echo "file /sbin/umlkit-init $init 0755 0 0"
	echo "file /umlkit-configure $(dirname "$0")/debian-configure.sh 0755 0 0"
}

# what the guest reads from its share: the order of the two steps
stage_share() {
	lock_packages "$lock" | awk '$6 == "essential" { print $5 ".deb" }' >"$1/essential"
	lock_packages "$lock" | awk '$6 == "apt" { print $5 ".deb" }' >"$1/apt"
	sed -n 's/^epoch //p' "$lock" >"$1/epoch"
}

stage_entry() {
	entry=$1 image=$2
	{
		echo "name=debian-stage"
		echo "kernel=Linux (debian stage)"
		echo "mode=command"
		echo "command="
		echo "mem=1024M"
		echo "cmdline=root=/dev/ubda rw init=/sbin/umlkit-init"
		echo "disks=stage.ext4"
		echo "initrd="
	} >"$entry/bundle.conf"
	ln -s "$kernel" "$entry/linux"
	ln -s "$image" "$entry/stage.ext4"
}

stage_failed() {
	log=$1
	failed=$(grep -m1 -E "^dpkg: error processing (package|archive) " "$log" || :)
	pkg=$(printf '%s\n' "$failed" | sed -n 's/^dpkg: error processing [a-z]* \([^ ]*\).*/\1/p')
	script=$(grep -m1 -E "(pre|post)-(installation|removal) script subprocess returned error" "$log" |
		sed -n 's/.*installed \(.*\) package \([a-z-]*\) script subprocess.*/\2/p')
	# the failing script's own words: what came just before dpkg's error
	if [ -n "$failed" ]; then
		grep -m1 -B8 -A1 -E "^dpkg: error processing (package|archive) " "$log"
	else
		tail -n 20 "$log"
	fi | sed 's/^/  | /' >&2
	if [ -n "$pkg" ]; then
		die 6 "maintainer script failed in the guest: package ${pkg%%:*}, ${script:-script} (full log: $log)"
	fi
	die 6 "the configure stage failed in the guest (full log: $log)"
}

cmd_tree() {
	check_lock
	if [ -z "$out" ] || [ ! -x "$kernel" ] || [ ! -x "$runtime" ] || [ ! -x "$mkimage" ] || [ ! -f "$init" ]; then
		die 2 "tree needs -o TREE.tar and existing -k KERNEL -r RUNTIME -m MKIMAGE -i INIT"
	fi
	verify_debs
	key=$(tree_key)
	trees=$cache/trees
	mkdir -p "$trees" "$cache/locks"
	# concurrent builds of one tree: the second waits and takes the first's
	exec 8>"$cache/locks/$key"
	flock 8
	if [ ! -f "$trees/$key.tar" ]; then
		stage_tree "$trees/$key.tar"
	fi
	# already that file (a hard link): mv would refuse "the same file"
	[ "$(stat -c %d:%i "$out" 2>/dev/null)" = "$(stat -c %d:%i "$trees/$key.tar")" ] && return 0
	rm -f "$out.tmp"
	ln "$trees/$key.tar" "$out.tmp" 2>/dev/null || cp "$trees/$key.tar" "$out.tmp"
	mv -f "$out.tmp" "$out"
}

stage_tree() {
	dest=$1
	# a run SIGKILLed mid-stage left its work directory: this key's lock
	# is ours, so any that remain are stale
	rm -rf "$dest".work-*
	work=$(mktemp -d "$dest.work-XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir "$work/entry" "$work/share" "$work/out"
	stage_recipe >"$work/stage.recipe"
	stage_share "$work/share"
	echo ">>> debian: unpack the essential set ($(wc -l <"$work/share/essential") packages)" >&2
	size=$(lock_packages "$lock" | awk '{ s += $4 } END { printf "%dM", s * 5 / 1048576 + 512 }')
	"$mkimage" -t ext4 -s "$size" -o "$work/stage.ext4" "$work/stage.recipe" ||
		die 1 "mkimage could not make the stage image"
	stage_entry "$work/entry" "$work/stage.ext4"
	echo ">>> debian: configure in UML (dpkg and apt as guest root; log: $dest.log)" >&2
	rc=0
	"$runtime" "$runtime" "$work/entry" --disk-limit 0 --sandbox off \
		--share "$work/share:/umlkit-debian" --share "$cache/debs:/umlkit-debs" \
		--share "$work/out:/umlkit-out:rw" -- /umlkit-configure </dev/null >"$dest.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$work/out/tree.tar" ]; then
		stage_failed "$dest.log"
	fi
	mv "$work/out/tree.tar" "$dest"
	rm -rf "$work"
	trap - EXIT
}

# --- command line -------------------------------------------------------

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
-h | --help) usage; exit 0 ;;
resolve | lock | fetch | tree) ;;
*) echo "$prog: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
lock='' request='' out='' kernel='' runtime='' mkimage='' init='' mirror=''
while getopts l:q:o:k:r:m:i:M:h opt; do
	case $opt in
	l) lock=$OPTARG ;;
	q) request=$OPTARG ;;
	o) out=$OPTARG ;;
	k) kernel=$OPTARG ;;
	r) runtime=$OPTARG ;;
	m) mkimage=$OPTARG ;;
	i) init=$OPTARG ;;
	M) mirror=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$lock" ] || die 2 "$cmd needs -l LOCK (see --help)"
case $cmd in resolve | lock) [ -n "$request" ] || die 2 "$cmd needs -q REQUEST" ;; esac
"cmd_$cmd"
