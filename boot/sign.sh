#!/bin/sh
# Usage: sign.sh BUNDLE KEY     (sign, or sign again, in place)
#        sign.sh --unsigned-slot
# Signs a boot.sh bundle with an OpenSSH key (ssh-keygen -Y sign, namespace
# umlkit-bundle): the signature of "umlkit bundle sha256 DIGEST", where
# DIGEST is line 3, the sha256 of every line but 3 and 4. It goes in line
# 4, a slot of fixed width, so signing changes no other byte: the digest
# and the payload offset stay, and two builds of one source compare equal
# by their digests whoever signed them. KEY is a private key file, or a
# public one whose private half an ssh-agent holds. See docs/sign.md.
set -eu

SLOT=4096	# characters for the signature's base64 (RSA 8192 fits)
PREFIX='# umlkit-signature: '

if [ "${1:-}" = --unsigned-slot ]; then
	printf "%-${SLOT}s" none
	exit 0
fi
[ $# -eq 2 ] || { echo "usage: sign.sh BUNDLE KEY" >&2; exit 2; }
bundle=$1 key=$2
die() { echo "sign.sh: $*" >&2; exit 1; }

[ -f "$bundle" ] || die "$bundle: no such bundle"
[ -r "$key" ] || die "$key: cannot read the key"
command -v ssh-keygen >/dev/null 2>&1 || die "ssh-keygen not found: install openssh-client"
line3=$(sed -n 3p "$bundle")
line4=$(sed -n 4p "$bundle")
digest=${line3#'# umlkit-digest: '}
case $digest in
'' | *[!0-9a-f]*) die "$bundle: not a umlkit bundle (no digest on line 3)" ;;
esac
[ ${#digest} -eq 64 ] && [ "${line4#"$PREFIX"}" != "$line4" ] && [ ${#line4} -eq $((${#PREFIX} + SLOT)) ] ||
	die "$bundle: not a umlkit bundle with a signature slot (line 4): rebuild it"
# never vouch for a bundle that is not what its digest says
[ "$( { head -n 2 "$bundle"; tail -n +5 "$bundle"; } | sha256sum | cut -d' ' -f1)" = "$digest" ] ||
	die "$bundle: corrupt (sha256 mismatch): not signed"

tmp=$(mktemp "$bundle.sign.XXXXXX")
trap 'rm -f "$tmp" "$tmp.sig"' EXIT
message() { printf 'umlkit bundle sha256 %s\n' "$digest"; }
message | ssh-keygen -q -Y sign -n umlkit-bundle -f "$key" >"$tmp.sig" ||
	die "ssh-keygen could not sign with $key (a key with a passphrase needs a terminal or an ssh-agent)"
body=$(sed '1d;$d' "$tmp.sig" | tr -d '\n')
[ ${#body} -le "$SLOT" ] || die "the signature is ${#body} characters, more than the slot's $SLOT: use an ed25519, ECDSA or RSA key up to 8192 bits"
# the same bytes but line 4, same length
{
	head -n 3 "$bundle"
	printf "%s%-${SLOT}s\n" "$PREFIX" "$body"
	tail -n +5 "$bundle"
} >"$tmp"
[ "$(wc -c <"$tmp")" -eq "$(wc -c <"$bundle")" ] || die "$bundle: the signed copy has another length: not replaced"
chmod "$(stat -c %a "$bundle")" "$tmp"
mv "$tmp" "$bundle"
by=$(message | ssh-keygen -Y check-novalidate -n umlkit-bundle -s "$tmp.sig" 2>/dev/null |
	sed -n 's/^Good "[^"]*" signature with \(.*\)$/\1/p')
echo "sign.sh: $bundle signed by $by"
