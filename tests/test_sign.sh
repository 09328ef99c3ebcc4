#!/bin/sh
# Signed bundles (docs/sign.md): the build signs with SIGN_KEY, --check
# names the signer, --verify ALLOWED_SIGNERS runs only what an allowed key
# signed (120 otherwise, nothing run), tampering is caught however it is
# done, make sign re-signs without rebuilding, and signing changes line 4
# only (the digest stays: reproducibility survives signing).
. "$TOPDIR/tests/lib.sh"

oneTimeSetUp() {
	mkdir -p "$SCRATCH/keys"
	for who in alice mallory; do
		ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$SCRATCH/keys/$who"
	done
	echo "alice@umlkit $(cat "$SCRATCH/keys/alice.pub")" >"$SCRATCH/keys/allowed"
	# a signed build of the tested configuration, its kernel prebuilt
	o=$SCRATCH/signed
	umlkit_make O="$o" defconfig
	sed -i -e 's/^UMLKIT_KERNEL_FROM_TARBALL=y/# UMLKIT_KERNEL_FROM_TARBALL is not set/' \
		-e '/^UMLKIT_KERNEL_TARBALL=/d' -e '/^UMLKIT_KERNEL_PATCHES=/d' "$o/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\nUMLKIT_SIGN_KEY="%s"\n' \
		"$KERNEL" "$SCRATCH/keys/alice" >>"$o/.config"
	umlkit_make O="$o" olddefconfig && umlkit_make O="$o" || echo "the signed build failed: $(tail "$SCRATCH/make.log")"
	SIGNED=$o/images/boot.sh
}

fingerprint() { ssh-keygen -l -f "$1.pub" | cut -d' ' -f2; }

test_the_build_signs_and_check_names_the_signer() {
	out=$("$SIGNED" --check 2>&1)
	assertEquals "--check passes: $out" 0 $?
	assertTrue "names alice's key: $out" "echo '$out' | grep -q 'signed by ED25519 key $(fingerprint "$SCRATCH/keys/alice")'"
	assertTrue "--info says signed" "'$SIGNED' --info | grep -q '^signed: *yes'"
	assertTrue "an unsigned bundle says so" "'$BUNDLE' --check | grep -q 'not signed'"
}

test_verify_runs_only_what_an_allowed_key_signed() {
	out=$("$SIGNED" --verify "$SCRATCH/keys/allowed" -- echo ran </dev/null 2>&1)
	assertEquals "alice's bundle runs: $out" "ran" "$out"
	out=$("$SIGNED" --verify="$SCRATCH/keys/allowed" -- sh -c 'exit 7' </dev/null 2>&1)
	assertEquals "the command's status: $out" 7 $?
	# unsigned, or signed by a key the file does not allow: 120, one line
	"$BUNDLE" --verify "$SCRATCH/keys/allowed" -- touch "$SCRATCH/ran" </dev/null 2>"$SCRATCH/err"
	assertEquals "an unsigned bundle is refused" 120 $?
	assertTrue "says why: $(cat "$SCRATCH/err")" "grep -q 'is not signed' '$SCRATCH/err'"
	cp "$SIGNED" "$SCRATCH/m.sh"
	sh "$TOPDIR/boot/sign.sh" "$SCRATCH/m.sh" "$SCRATCH/keys/mallory" >/dev/null
	"$SCRATCH/m.sh" --verify "$SCRATCH/keys/allowed" -- touch "$SCRATCH/ran" </dev/null 2>"$SCRATCH/err"
	assertEquals "another key is refused" 120 $?
	assertEquals "one line naming the key: $(cat "$SCRATCH/err")" 1 "$(grep -c "$(fingerprint "$SCRATCH/keys/mallory").*does not allow" "$SCRATCH/err")"
	assertFalse "nothing ran" "[ -e '$SCRATCH/ran' ]"
	"$SIGNED" --verify "$SCRATCH/no-such-file" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "a missing allowed_signers file is a usage error" 125 $?
}

# the payload's last byte changed
tamper_payload() {
	size=$(wc -c <"$1")
	printf 'X' | dd of="$1" bs=1 seek=$((size - 1)) conv=notrunc status=none
}

test_tampering_is_caught_however_it_is_done() {
	# a changed payload under alice's signature: the digest no longer holds
	cp "$SIGNED" "$SCRATCH/t1.sh"
	tamper_payload "$SCRATCH/t1.sh"
	"$SCRATCH/t1.sh" --verify "$SCRATCH/keys/allowed" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "a changed payload: 120" 120 $?
	# the same with a digest made to match: alice's signature is of the old one
	cp "$SCRATCH/t1.sh" "$SCRATCH/t2.sh"
	digest=$( { head -n 2 "$SCRATCH/t2.sh"; tail -n +5 "$SCRATCH/t2.sh"; } | sha256sum | cut -d' ' -f1)
	sed -i "3s/^# umlkit-digest: .*/# umlkit-digest: $digest/" "$SCRATCH/t2.sh"
	"$SCRATCH/t2.sh" --verify "$SCRATCH/keys/allowed" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "a new digest under the old signature: 120" 120 $?
	assertTrue "the signature does not verify: $(cat "$SCRATCH/err")" "grep -q 'does not verify' '$SCRATCH/err'"
	assertNotEquals "--check fails on it too" 0 "$("$SCRATCH/t2.sh" --check >/dev/null 2>&1; echo $?)"
	# and re-signed by mallory: a valid signature by a key not allowed
	sh "$TOPDIR/boot/sign.sh" "$SCRATCH/t2.sh" "$SCRATCH/keys/mallory" >/dev/null
	"$SCRATCH/t2.sh" --verify "$SCRATCH/keys/allowed" -- true </dev/null 2>/dev/null
	assertEquals "re-signed by another key: 120" 120 $?
	# sign.sh never signs a corrupt bundle
	sh "$TOPDIR/boot/sign.sh" "$SCRATCH/t1.sh" "$SCRATCH/keys/alice" >/dev/null 2>"$SCRATCH/err"
	assertNotEquals "sign.sh refuses a corrupt bundle" 0 $?
	assertTrue "says so" "grep -q 'corrupt' '$SCRATCH/err'"
}

test_signing_changes_line_4_only() {
	assertEquals "the signed and the unsigned build have one digest" \
		"$(sed -n 3p "$BUNDLE")" "$(sed -n 3p "$SIGNED")"
	cp "$SIGNED" "$SCRATCH/s.sh"
	sh "$TOPDIR/boot/sign.sh" "$SCRATCH/s.sh" "$SCRATCH/keys/mallory" >/dev/null
	assertEquals "the same length" "$(wc -c <"$SIGNED")" "$(wc -c <"$SCRATCH/s.sh")"
	assertEquals "the same bytes but line 4" "" "$(cmp "$SIGNED" "$SCRATCH/s.sh" 2>&1 | grep -v 'line 4$')"
	sed 4d "$SIGNED" >"$SCRATCH/a"
	sed 4d "$SCRATCH/s.sh" >"$SCRATCH/b"
	assertTrue "equal without line 4" "cmp -s '$SCRATCH/a' '$SCRATCH/b'"
}

test_make_sign_re_signs_without_a_rebuild() {
	o=$SCRATCH/signed
	make -C "$TOPDIR" -s O="$o" sign SIGN_KEY="$SCRATCH/keys/mallory" >"$SCRATCH/out" 2>&1
	assertEquals "make sign: $(cat "$SCRATCH/out")" 0 $?
	assertTrue "mallory's now" "'$SIGNED' --check | grep -q '$(fingerprint "$SCRATCH/keys/mallory")'"
	umlkit_make O="$o"
	assertEquals "then make does nothing: $(cat "$SCRATCH/make.log")" "" "$(grep '>>>' "$SCRATCH/make.log")"
	make -C "$TOPDIR" -s O="$o" sign >/dev/null 2>&1
	assertTrue "the configured key again" "'$SIGNED' --check | grep -q '$(fingerprint "$SCRATCH/keys/alice")'"
	umlkit_make O="$CHECK_O" sign
	assertNotEquals "no key configured: an error" 0 $?
	assertTrue "saying how: $(cat "$SCRATCH/make.log")" "grep -q 'no key' '$SCRATCH/make.log'"
}

. shunit2
