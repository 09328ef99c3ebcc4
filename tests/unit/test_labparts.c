/* A lab across hosts (boot/run/labparts.c) and the channel's HMAC
 * (support/lib/sha256.c): --part and --peers parsing, which part runs
 * which machine, the domains trunked, and RFC 4231's test vectors. */
#include <stdio.h>

#include "../../boot/run/lab.h"
#include "../../support/lib/hostlib.h"
#include "unit.h"

struct peers_case {
	const char *name, *part, *peers;
	const char *error;	/* a part of the error wanted, or NULL */
	const char *want;	/* "host port;host port;..." */
};

static const struct peers_case peers_cases[] = {
	{ "names and ports", "1/2", "10.9.0.1,10.9.0.2:5000", NULL, "10.9.0.1 4789;10.9.0.2 5000;" },
	{ "IPv6 in brackets", "2/2", "[fd00::1]:7,[fd00::2]", NULL, "fd00::1 7;fd00::2 4789;" },
	{ "pod names", "3/3", "lab-0.lab,lab-1.lab,lab-2.lab", NULL, "lab-0.lab 4789;lab-1.lab 4789;lab-2.lab 4789;" },
	{ "too few", "1/3", "a,b", "2 addresses for 3 parts", NULL },
	{ "bare IPv6", "1/2", "fd00::1,fd00::2", "an IPv6 address in brackets", NULL },
	{ "port 0", "1/2", "a:0,b", "use HOST or HOST:PORT", NULL },
	{ "port too big", "1/2", "a:65536,b", "use HOST or HOST:PORT", NULL },
	{ "a shell word", "1/2", "a;touch x,b", "use HOST or HOST:PORT", NULL },
	{ "empty entry", "1/2", "a,", "use HOST or HOST:PORT", NULL },
	{ "part past N", "3/2", "a,b", "use K/N", NULL },
	{ "part 0", "0/2", "a,b", "use K/N", NULL },
	{ "part with junk", "1/2x", "a,b", "use K/N", NULL },
	{ "17 parts", "1/17", "a", "use K/N", NULL },
};

static void peers_case(struct unit *u, const struct peers_case *c)
{
	struct lab_parts p = { 0 };
	char err[256] = "", got[2048] = "";
	int rc = lab_parse_part(c->part, &p, err, sizeof(err));
	if (rc == 0)
		rc = lab_parse_peers(c->peers, &p, err, sizeof(err));
	for (int i = 0; rc == 0 && i < p.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s %u;", p.hosts[i], p.ports[i]);
	if (c->error)
		unit_case(u, rc < 0 && strstr(err, c->error), c->name, "wanted an error with '%s', got rc %d '%s'",
			  c->error, rc, err);
	else
		unit_case(u, rc == 0 && !strcmp(got, c->want), c->name, "wanted '%s', got rc %d '%s' '%s'", c->want, rc,
			  got, err);
}

/* Parts of a lab: pinned machines keep theirs, the others go round-robin */
static void assignment_cases(struct unit *u)
{
	struct lab lab = { 0 };
	struct lab_diag d = { 0 };
	char conf[] = "r1[0]=A\nr1[1]=B\npc1[0]=A\npc1[part]=2\npc2[0]=B\npc3[0]=B\npc3[part]=9\n", got[64] = "";
	char names[8][33];
	int n;
	lab_parse_conf(conf, "lab.conf", &lab, &d);
	for (int i = 0; i < lab.n_machines; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%d", lab_part_of(&lab, i, 2));
	/* r1: 1st unpinned -> 1; pc1: pinned 2; pc2: 2nd unpinned -> 2; pc3: 9 > 2 */
	unit_case(u, !strcmp(got, "122-1"), "parts of machines", "got %s", got);
	n = lab_domains(&lab, names, 8);
	unit_case(u, n == 2 && !strcmp(names[0], "A") && !strcmp(names[1], "B"), "domains in order", "got %d", n);
	unit_case(u, lab_domain_parts(&lab, "A", 2) == 3 && lab_domain_parts(&lab, "B", 2) == 3 &&
		  lab_domain_parts(&lab, "C", 2) == 0, "parts of each domain", "A %u B %u",
		  lab_domain_parts(&lab, "A", 2), lab_domain_parts(&lab, "B", 2));
	char bad[] = "pc1[0]=A\npc1[part]=0\n";
	struct lab lab2 = { 0 };
	unit_case(u, lab_parse_conf(bad, "lab.conf", &lab2, &d) < 0 && strstr(d.error, "lab.conf:2") &&
		  strstr(d.error, "pc1[part]='0'"), "part 0 is refused with file:line", "got '%s'", d.error);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* RFC 4231 cases 1, 2 and 6 (a key longer than a block); FIPS 180-2's "abc" */
static void hmac_cases(struct unit *u)
{
	unsigned char key1[20], key6[131], mac[32];
	char got[65];
	const void *msg[2];
	size_t lens[2];
	memset(key1, 0x0b, sizeof(key1));
	memset(key6, 0xaa, sizeof(key6));
	msg[0] = "Hi ";
	msg[1] = "There";
	lens[0] = 3;
	lens[1] = 5;
	hmac_sha256(key1, sizeof(key1), msg, lens, 2, mac);
	hex(mac, 32, got);
	unit_case(u, !strcmp(got, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"), "HMAC RFC 4231 #1",
		  "got %s", got);
	msg[0] = "what do ya want for nothing?";
	lens[0] = 28;
	hmac_sha256("Jefe", 4, msg, lens, 1, mac);
	hex(mac, 32, got);
	unit_case(u, !strcmp(got, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), "HMAC RFC 4231 #2",
		  "got %s", got);
	msg[0] = "Test Using Larger Than Block-Size Key - Hash Key First";
	lens[0] = 54;
	hmac_sha256(key6, sizeof(key6), msg, lens, 1, mac);
	hex(mac, 32, got);
	unit_case(u, !strcmp(got, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"), "HMAC RFC 4231 #6",
		  "got %s", got);
	msg[0] = "abc";
	lens[0] = 3;
	sha256_parts(msg, lens, 1, mac);
	hex(mac, 32, got);
	unit_case(u, !strcmp(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "SHA-256 abc",
		  "got %s", got);
	unit_case(u, equal_in_constant_time("abcd", "abcd", 4) && !equal_in_constant_time("abcd", "abce", 4),
		  "constant-time compare", "disagrees");
}

int main(void)
{
	struct unit u = { 0 };
	for (size_t i = 0; i < UNIT_COUNT(peers_cases); i++)
		peers_case(&u, &peers_cases[i]);
	assignment_cases(&u);
	hmac_cases(&u);
	return unit_done(&u);
}
