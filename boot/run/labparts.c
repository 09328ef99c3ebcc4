/* A lab across hosts (docs/lab.md, "Labs larger than one host"): which
 * part runs which machine, the parts' addresses, and the collision
 * domains the parts trunk between them. Pure: parsed from strings and the
 * lab, so every part computes the same from the same lab.tar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

static int fail(char *err, size_t err_len, const char *why)
{
	snprintf(err, err_len, "%s", why);
	return -1;
}

int lab_parse_part(const char *s, struct lab_parts *parts, char *err, size_t err_len)
{
	int k, n, used = 0;
	if (sscanf(s, "%d/%d%n", &k, &n, &used) != 2 || (size_t)used != strlen(s) || s[0] < '1' || s[0] > '9' ||
	    n < 1 || n > LAB_MAX_PARTS || k < 1 || k > n)
		return fail(err, err_len, "use K/N: this host runs part K of N (1 <= K <= N <= 16)");
	parts->part = k;
	parts->n = n;
	return 0;
}

/* "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" into part I's entry */
static int parse_peer(const char *s, size_t len, struct lab_parts *parts, int i)
{
	const char *host = s, *port = NULL;
	size_t host_len = len;
	if (*s == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || (close + 1 < s + len && close[1] != ':'))
			return -1;
		host = s + 1;
		host_len = (size_t)(close - host);
		port = close + 1 < s + len ? close + 2 : NULL;
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(s + len - colon - 1)))
			return -1;	/* a bare IPv6 address: brackets tell its port apart */
		if (colon) {
			host_len = (size_t)(colon - s);
			port = colon + 1;
		}
	}
	if (!host_len || host_len >= sizeof(parts->hosts[0]) ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%") < host_len)
		return -1;
	memcpy(parts->hosts[i], host, host_len);
	parts->hosts[i][host_len] = '\0';
	parts->ports[i] = LAB_DEFAULT_PORT;
	if (port) {
		size_t plen = (size_t)(s + len - port);
		char digits[8];
		unsigned long v;
		if (!plen || plen > 5 || strspn(port, "0123456789") < plen)
			return -1;
		memcpy(digits, port, plen);
		digits[plen] = '\0';
		v = strtoul(digits, NULL, 10);
		if (v < 1 || v > 65535)
			return -1;
		parts->ports[i] = (unsigned)v;
	}
	return 0;
}

int lab_parse_peers(const char *s, struct lab_parts *parts, char *err, size_t err_len)
{
	int n = 0;
	for (const char *p = s;; n++) {
		size_t len = strcspn(p, ",");
		if (n == LAB_MAX_PARTS)
			return fail(err, err_len, "more than 16 parts");
		if (parse_peer(p, len, parts, n) < 0) {
			snprintf(err, err_len, "'%.*s': use HOST or HOST:PORT (an IPv6 address in brackets, "
				 "[ADDR]:PORT), one a part, in part order", (int)(len > 80 ? 80 : len), p);
			return -1;
		}
		p += len;
		if (!*p++)
			break;
	}
	if (parts->n && n + 1 != parts->n) {
		snprintf(err, err_len, "%d addresses for %d parts: give one a part, this one's too, in part order",
			 n + 1, parts->n);
		return -1;
	}
	return 0;
}

int lab_part_of(const struct lab *lab, int i, int n)
{
	int unpinned = 0;
	if (lab->machines[i].part)
		return lab->machines[i].part <= n ? lab->machines[i].part : -1;
	for (int k = 0; k < i; k++)
		unpinned += !lab->machines[k].part;
	return unpinned % n + 1;
}

int lab_domains(const struct lab *lab, char (*names)[33], int max)
{
	int n = 0;
	for (int i = 0; i < lab->n_machines; i++)
		for (int f = 0; f < lab->machines[i].n_ifs; f++) {
			const char *d = lab->machines[i].domains[f];
			int seen = 0;
			for (int k = 0; k < n && !seen; k++)
				seen = !strcmp(names[k], d);
			if (!seen && n < max)
				snprintf(names[n++], sizeof(names[0]), "%s", d);
		}
	return n;
}

unsigned lab_domain_parts(const struct lab *lab, const char *domain, int n)
{
	unsigned mask = 0;
	for (int i = 0; i < lab->n_machines; i++)
		for (int f = 0; f < lab->machines[i].n_ifs; f++)
			if (!strcmp(lab->machines[i].domains[f], domain)) {
				int part = lab_part_of(lab, i, n);
				if (part > 0)
					mask |= 1u << (part - 1);
			}
	return mask;
}
