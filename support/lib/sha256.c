/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104): what authenticates a
 * lab's parts to each other (boot/run/labparts.c). Small and slow enough
 * for a handful of short messages; no state outside the caller's. */
#include <stdint.h>
#include <string.h>

#include "hostlib.h"

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const unsigned char block[64])
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
		       (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) +
			      k256[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

/* The digest of the concatenation of N parts (PARTS[i], LENS[i]). */
void sha256_parts(const void *const *parts, const size_t *lens, int n, unsigned char out[32])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	unsigned char block[64];
	size_t fill = 0;
	uint64_t total = 0;
	for (int p = 0; p < n; p++) {
		const unsigned char *s = parts[p];
		total += lens[p];
		for (size_t i = 0; i < lens[p]; i++) {
			block[fill++] = s[i];
			if (fill == 64) {
				compress(h, block);
				fill = 0;
			}
		}
	}
	block[fill++] = 0x80;
	if (fill > 56) {
		memset(block + fill, 0, 64 - fill);
		compress(h, block);
		fill = 0;
	}
	memset(block + fill, 0, 56 - fill);
	for (int i = 0; i < 8; i++)
		block[56 + i] = (unsigned char)((total * 8) >> (56 - 8 * i));
	compress(h, block);
	for (int i = 0; i < 8; i++)
		for (int b = 0; b < 4; b++)
			out[4 * i + b] = (unsigned char)(h[i] >> (24 - 8 * b));
}

/* HMAC-SHA-256 of MSG (N parts) under KEY. */
void hmac_sha256(const void *key, size_t key_len, const void *const *msg, const size_t *lens, int n,
		 unsigned char out[32])
{
	unsigned char k[64] = { 0 }, pad[64], inner[32];
	const void *parts[9];
	size_t plens[9];
	if (key_len > 64) {
		const void *kp[1] = { key };
		sha256_parts(kp, &key_len, 1, k);
	} else {
		memcpy(k, key, key_len);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	parts[0] = pad;
	plens[0] = 64;
	for (int i = 0; i < n && i < 8; i++) {
		parts[i + 1] = msg[i];
		plens[i + 1] = lens[i];
	}
	sha256_parts(parts, plens, (n < 8 ? n : 8) + 1, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	parts[1] = inner;
	plens[1] = 32;
	sha256_parts(parts, plens, 2, out);
}

/* Equal without a time that tells where they differ. */
int equal_in_constant_time(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
