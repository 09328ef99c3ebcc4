# Listings of an image's content, read back with the filesystem's own tools
# (debugfs, unsquashfs, cpio), in one format for all:
#   PATH TYPE MODE UID GID SIZE|MAJ,MIN|- LINK-TARGET|- SHA256|-
# sorted by path; the root is "/", ext's lost+found is left out.
# shellcheck shell=sh

# "drwsr-xr-t" -> "d 5755"
listing_perm_awk='
function perm(s,   m, i, c, bits) {
	m = 0
	for (i = 2; i <= 10; i++) {
		c = substr(s, i, 1)
		bits = (c != "-" && c != "S" && c != "T") ? 1 : 0
		m = m * 2 + bits
	}
	if (substr(s, 4, 1) ~ /[sS]/) m += 2048
	if (substr(s, 7, 1) ~ /[sS]/) m += 1024
	if (substr(s, 10, 1) ~ /[tT]/) m += 512
	return sprintf("%04o", m)
}
function ftype(s) { c = substr(s, 1, 1); return c == "-" ? "f" : c }
'

# sha256 of every regular file below DIR, as "PATH SHA" with PATH from /
_hashes() {
	(cd "$1" && find . -type f -exec sha256sum {} + 2>/dev/null) |
		awk '{ p = substr($0, 67); sub(/^\.\//, "/", p); print p "\t" $1 }' | sort >"$1.sha"
	(cd "$1" && find . -type f -printf '%p\t%s\n') | sed 's|^\./|/|' | sort >"$1.size"
	join -t '	' "$1.sha" "$1.size"
}

# join metadata (PATH\t...) with hashes (PATH\tSHA\tSIZE); tab-separated
# in, space-separated out. cpio keeps a hard-linked file's size on one of its
# names only: with a third argument, sizes come from the extracted files.
_join() {
	awk -F'\t' -v extracted_size="${3:-}" 'FILENAME == ARGV[1] { h[$1] = $2; s[$1] = $3; next }
		{ sha = ($2 == "f") ? h[$1] : "-"
		  size = ($2 == "f" && extracted_size != "") ? s[$1] : $6
		  print $1, $2, $3, $4, $5, size, $7, sha }' "$2" "$1" | sort
}

list_squashfs() {
	img=$1 tmp=$(mktemp -d)
	unsquashfs -q -n -d "$tmp/x" "$img" >/dev/null 2>&1 || :
	_hashes "$tmp/x" >"$tmp/h"
	unsquashfs -lln "$img" 2>/dev/null | awk "$listing_perm_awk"'
		length($1) == 10 && $1 ~ /^[-dlcbps][-rwxsStT]+$/ {
			split($2, o, "/")
			t = ftype($1)
			if (t == "c" || t == "b") { size = $3 $4; gsub(/ /, "", size) } else { size = $3 }
			line = $0
			# path starts after the time field
			n = index(line, "squashfs-root")
			p = substr(line, n + length("squashfs-root"))
			target = "-"
			if (t == "l") { k = index(p, " -> "); target = substr(p, k + 4); p = substr(p, 1, k - 1) }
			if (p == "") p = "/"
			if (t != "f" && t != "c" && t != "b") size = "-"
			print p "\t" t "\t" perm($1) "\t" o[1] "\t" o[2] "\t" size "\t" target
		}' >"$tmp/m"
	_join "$tmp/m" "$tmp/h"
	rm -rf "$tmp"
}

list_cpio() {
	img=$(readlink -f "$1") tmp=$(mktemp -d)
	case $(head -c 4 "$img" | od -An -tx1 | tr -d ' \n') in
	1f8b*) cat="gzip -dc" ;; fd377a58) cat="xz -dc" ;; 28b52ffd) cat="zstd -qdc" ;; *) cat="cat" ;;
	esac
	mkdir "$tmp/x"
	(cd "$tmp/x" && $cat "$img" | cpio -id --quiet --no-absolute-filenames 2>/dev/null) || :
	_hashes "$tmp/x" >"$tmp/h"
	$cat "$img" | cpio -itv --numeric-uid-gid --quiet 2>/dev/null | awk "$listing_perm_awk"'
		{
			t = ftype($1)
			if (t == "c" || t == "b") { size = $5 $6; gsub(/ /, "", size); i = 10 } else { size = $5; i = 9 }
			# the path is everything after the date fields
			line = $0
			for (k = 1; k < i; k++) { sub(/^[ ]*[^ ]+[ ]+/, "", line) }
			p = line
			target = "-"
			if (t == "l") { k = index(p, " -> "); target = substr(p, k + 4); p = substr(p, 1, k - 1) }
			p = (p == ".") ? "/" : "/" p
			if (t != "f" && t != "c" && t != "b") size = "-"
			print p "\t" t "\t" perm($1) "\t" $3 "\t" $4 "\t" size "\t" target
		}' >"$tmp/m"
	_join "$tmp/m" "$tmp/h" extracted-size
	rm -rf "$tmp"
}

# "h\xc3\xa9" -> the bytes (printf %b knows octal, not hex, in every shell)
_unhex() {
	printf '%b' "$(printf '%s' "$1" | awk '{
		out = ""; s = $0; hex = "0123456789abcdef"
		while ((i = index(s, "\\x")) > 0) {
			h = tolower(substr(s, i + 2, 2))
			v = (index(hex, substr(h, 1, 1)) - 1) * 16 + index(hex, substr(h, 2, 1)) - 1
			out = out substr(s, 1, i - 1) sprintf("\\0%03o", v)
			s = substr(s, i + 4)
		}
		printf "%s", out s
	}')"
}

# one lister per format, named after it (list_FORMAT, xattrs_FORMAT)
list_ext2() { list_ext "$@"; }
list_ext4() { list_ext "$@"; }
xattrs_ext2() { xattrs_ext "$@"; }
xattrs_ext4() { xattrs_ext "$@"; }

# ext2/ext4 through debugfs: "ls -p" per directory for metadata, "stat"
# for devices and links, rdump for content.
list_ext() {
	img=$1 tmp=$(mktemp -d)
	mkdir "$tmp/x"
	debugfs -R "rdump / $tmp/x" "$img" >/dev/null 2>&1 || :
	rm -rf "$tmp/x/lost+found"
	_hashes "$tmp/x" >"$tmp/h"
	: >"$tmp/m"
	printf '%s\n' / >"$tmp/dirs"
	while [ -s "$tmp/dirs" ]; do
		d=$(head -n 1 "$tmp/dirs")
		sed -i 1d "$tmp/dirs"
		debugfs -R "ls -p \"$d\"" "$img" 2>/dev/null | awk -F/ -v dir="$d" '
			NF >= 7 {
				name = $6; for (i = 7; i < NF - 1; i++) name = name "/" $i
				if (name == "..") next
				if (name == "." && dir != "/") next
				if (dir == "/" && name == "lost+found") next
				p = (name == ".") ? "/" : (dir == "/" ? "/" name : dir "/" name)
				print p "\t" $3 "\t" $4 "\t" $5 "\t" $(NF - 1)
			}' >"$tmp/ls"
		while IFS='	' read -r p mode uid gid size; do
			# debugfs writes bytes over 0x7f as \xHH: back to bytes
			case $p in *'\x'*) p=$(_unhex "$p") ;; esac
			t=$(( 0$mode >> 12 ))
			perm=$(printf '%04o' $(( 0$mode & 07777 )))
			target=- sz=-
			case $t in
			4) type=d; [ "$p" != / ] && printf '%s\n' "$p" >>"$tmp/dirs" ;;
			8) type=f sz=$size ;;
			10) type=l target=$(readlink "$tmp/x$p") ;;
			2|6)
				[ $t = 2 ] && type=c || type=b
				sz=$(debugfs -R "stat \"$p\"" "$img" 2>/dev/null |
					sed -n 's/^Device major\/minor number: 0*\([0-9]*\):0*\([0-9]*\).*/\1,\2/p' |
					sed 's/^,/0,/; s/,$/,0/')
				;;
			1) type=p ;;
			12) type=s ;;
			esac
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$type" "$perm" "$uid" "$gid" "$sz" "$target" >>"$tmp/m"
		done <"$tmp/ls"
	done
	_join "$tmp/m" "$tmp/h"
	rm -rf "$tmp"
}

# A tar archive, as GNU tar lists it (the source a "tar /" recipe reads):
# hard-linked names count as files with their content; sizes and hashes
# come from an extraction (owners need root there, so they come from the
# listing).
list_tar() {
	img=$(readlink -f "$1") tmp=$(mktemp -d)
	mkdir "$tmp/x"
	tar -xf "$img" -C "$tmp/x" --no-same-owner --no-same-permissions 2>/dev/null || :
	chmod -R u+rwX "$tmp/x"
	_hashes "$tmp/x" >"$tmp/h"
	tar -tvf "$img" --numeric-owner --quoting-style=literal 2>/dev/null | awk "$listing_perm_awk"'
		{
			t = ftype($1)
			if (t == "h") t = "f"
			split($2, o, "/")
			if (t == "c" || t == "b") { size = $3; sub(/,/, ",", size) } else { size = $3 }
			line = $0
			for (k = 1; k < 6; k++) { sub(/^[ ]*[^ ]+[ ]+/, "", line) }
			p = line
			target = "-"
			if (t == "l") { k = index(p, " -> "); target = substr(p, k + 4); p = substr(p, 1, k - 1) }
			k = index(p, " link to ")
			if (k) { p = substr(p, 1, k - 1); t = "f" }
			sub(/^\.\//, "", p); sub(/\/$/, "", p)
			p = (p == "." || p == "") ? "/" : "/" p
			if (t != "f" && t != "c" && t != "b") size = "-"
			print p "\t" t "\t" perm($1) "\t" o[1] "\t" o[2] "\t" size "\t" target
		}' >"$tmp/m"
	_join "$tmp/m" "$tmp/h" extracted-size
	rm -rf "$tmp"
}

# "PATH NAME=HEX" for each extended attribute of PATH in an image; the
# tools print printable values as text, the rest as hex bytes
_xattr_lines() {
	while IFS='=' read -r name value; do
		case $value in
		'"'*'"') value=${value#\"} value=${value%\"}
			value=$(printf '%s' "$value" | od -An -v -tx1 | tr -d ' \n') ;;
		0x*) value=${value#0x} ;;
		*) value=$(printf '%s' "$value" | od -An -v -tx1 | tr -d ' \n') ;;
		esac
		printf '%s %s=%s\n' "$1" "$name" "$value"
	done
}

xattrs_ext() {
	# hex bytes come as "01 00 ...": 0x0100... like rdsquashfs's
	debugfs -R "ea_list \"$2\"" "$1" 2>/dev/null |
		sed -n 's/^  \([a-z][a-z]*\.[^ ]*\) ([0-9]*) = \(.*\) *$/\1=\2/p' | sed 's/ *$//' |
		sed '/="/!{ s/=/=0x/; :a; s/\(=0x[0-9a-f]*\) /\1/; ta; }' | _xattr_lines "$2"
}

xattrs_squashfs() {
	rdsquashfs -x "$2" "$1" 2>/dev/null | grep '=' | _xattr_lines "$2"
}

# EROFS: extracted by fsck.erofs inside a fakeroot session (owners and
# device nodes without root), listed in the same session.
list_erofs() {
	img=$(readlink -f "$1") tmp=$(mktemp -d)
	fakeroot -- sh -c '
		fsck.erofs --extract="$2/x" "$1" >/dev/null 2>&1 || :
		cd "$2/x" && find . -printf "%p\t%y\t%m\t%U\t%G\t%s\t%l\n" >"$2/find"
		# (find -type trusts readdir, which fakeroot does not fake)
		find . -exec stat -c "%n	%Hr,%Lr" {} + >"$2/dev"
	' sh "$img" "$tmp"
	chmod -R u+rwX "$tmp/x"
	rm -rf "$tmp/x/lost+found"
	_hashes "$tmp/x" >"$tmp/h"
	awk -F'\t' 'FILENAME == ARGV[1] { dev[$1] = $2; next }
		{
			p = $1; sub(/^\./, "", p); if (p == "") p = "/"
			t = $2; size = "-"; target = "-"
			if (t == "f") size = $6
			if (t == "c" || t == "b") size = dev[$1]
			if (t == "l") target = $7
			printf "%s\t%s\t%04o\t%s\t%s\t%s\t%s\n", p, t, ("0" $3) + 0 == 0 ? 0 : oct($3), $4, $5, size, target
		}
		function oct(s,   v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
	' "$tmp/dev" "$tmp/find" >"$tmp/m"
	_join "$tmp/m" "$tmp/h"
	rm -rf "$tmp"
}

# EROFS keeps xattrs after the inode, or in a shared area they point to
# (fsck.erofs 1.5 does not extract them): read them from the image, at the
# inode dump.erofs locates.
_u8() { od -An -v -tu1 -j "$2" -N 1 "$1" | tr -d ' '; }
_erofs_entry() { # IMAGE OFFSET: "name=hex" of one entry; its size on stdout's last line
	len=$(_u8 "$1" "$2") idx=$(_u8 "$1" $(($2 + 1)))
	vsize=$(od -An -v -tu2 -j $(($2 + 2)) -N 2 "$1" | tr -d ' ')
	case $idx in 1) prefix=user. ;; 4) prefix=trusted. ;; 6) prefix=security. ;; *) prefix="?$idx." ;; esac
	name=$(dd if="$1" bs=1 skip=$(($2 + 4)) count="$len" 2>/dev/null)
	value=$(od -An -v -tx1 -j $(($2 + 4 + len)) -N "$vsize" "$1" | tr -d ' \n')
	echo "$prefix$name=$value"
	echo $(((4 + len + vsize + 3) / 4 * 4))
}

xattrs_erofs() {
	info=$(dump.erofs --path="$2" "$1" 2>/dev/null)
	sb=$(dump.erofs -s "$1" 2>/dev/null)
	nid=$(printf '%s\n' "$info" | sed -n 's/^NID: \([0-9]*\).*/\1/p')
	isize=$(printf '%s\n' "$info" | sed -n 's/^Inode size: \([0-9]*\).*/\1/p')
	meta=$(printf '%s\n' "$sb" | sed -n 's/^Filesystem inode metadata start block: *//p')
	shared=$(printf '%s\n' "$sb" | sed -n 's/^Filesystem shared xattr metadata start block: *//p')
	[ -n "$nid" ] && [ -n "$isize" ] || return 0
	at=$((${meta:-0} * 4096 + nid * 32))
	icount=$(od -An -v -tu2 -j $((at + 2)) -N 2 "$1" | tr -d ' ')
	[ "$icount" -gt 0 ] || return 0
	body=$((at + isize)) end=$((at + isize + 12 + 4 * (icount - 1)))
	nshared=$(_u8 "$1" $((body + 4)))
	i=0
	while [ "$i" -lt "$nshared" ]; do
		id=$(od -An -v -tu4 -j $((body + 12 + 4 * i)) -N 4 "$1" | tr -d ' ')
		_erofs_entry "$1" $((${shared:-0} * 4096 + id * 4)) | head -n 1 | sed "s|^|$2 |"
		i=$((i + 1))
	done
	off=$((body + 12 + 4 * nshared))
	while [ "$off" -lt "$end" ]; do
		out=$(_erofs_entry "$1" "$off")
		printf '%s\n' "$out" | head -n 1 | sed "s|^|$2 |"
		off=$((off + $(printf '%s\n' "$out" | tail -n 1)))
	done
}
