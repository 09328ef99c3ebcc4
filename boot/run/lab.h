/* Labs: many machines from one Kathara-style lab directory (docs/lab.md). */
#ifndef UMLKIT_LAB_H
#define UMLKIT_LAB_H

#include <stddef.h>

#define LAB_MAX_MACHINES 64
#define LAB_MAX_IFS 8
#define LAB_MAX_PORTS 8
#define LAB_MAX_ENV 16
#define LAB_MAX_SYSCTLS 16
#define LAB_TEXT 256
#define LAB_MAX_PARTS 16
#define LAB_DEFAULT_PORT 4789	/* VXLAN's (RFC 7348), for the trunk and the parts' channel */

struct lab_machine {
	char name[33];
	char domains[LAB_MAX_IFS][33];	/* ethN's collision domain */
	int n_ifs;
	char image[128];
	unsigned long mem_mib;		/* 0: the bundle's */
	int bridged;
	char ports[LAB_MAX_PORTS][40];	/* as --forward takes them */
	int n_ports;
	char env[LAB_MAX_ENV][LAB_TEXT];
	int n_env;
	unsigned char macs[LAB_MAX_IFS][6];	/* NAME[N]=DOMAIN/MAC */
	int has_mac[LAB_MAX_IFS];
	char sysctls[LAB_MAX_SYSCTLS][LAB_TEXT];	/* net.KEY=VALUE, in order */
	int n_sysctls;
	int ipv6;			/* NAME[ipv6]: Kathara's default is off */
	int deps[LAB_MAX_MACHINES];	/* indexes of machines it waits for */
	int n_deps;
	int part;			/* NAME[part]=K, 0: assigned round-robin */
	int line;			/* where lab.conf first names it */
};

struct lab {
	char name[LAB_TEXT], description[LAB_TEXT], version[LAB_TEXT], author[LAB_TEXT], email[LAB_TEXT],
		web[LAB_TEXT];
	struct lab_machine machines[LAB_MAX_MACHINES];
	int n_machines;
	int order[LAB_MAX_MACHINES], order_level[LAB_MAX_MACHINES];
};

/* what the parser says: the first error, and notes (ignored options) */
struct lab_diag {
	char error[512];
	char notes[4096];
};

int lab_valid_name(const char *s);
int lab_valid_image_name(const char *s);
int lab_parse_conf(char *text, const char *file, struct lab *lab, struct lab_diag *d);
int lab_parse_dep(char *text, const char *file, struct lab *lab, struct lab_diag *d);
int lab_order(struct lab *lab);
void lab_default_image(struct lab *lab, const char *image);

/* labparts.c: a lab run across hosts, one part each (docs/lab.md) */
struct lab_parts {
	int part, n;		/* this one, 1..n; n == 0: the whole lab runs here */
	char hosts[LAB_MAX_PARTS][256];
	unsigned ports[LAB_MAX_PARTS];
};
/* "K/N" into PARTS; 0, or -1 with the reason in ERR */
int lab_parse_part(const char *s, struct lab_parts *parts, char *err, size_t err_len);
/* "HOST[:PORT],..." (IPv6 in brackets), one a part in order; 0 or -1 */
int lab_parse_peers(const char *s, struct lab_parts *parts, char *err, size_t err_len);
/* Machine I's part (1..N): its NAME[part], else round-robin over the
 * machines that name none, in lab.conf's order; -1 if pinned past N. */
int lab_part_of(const struct lab *lab, int i, int n);
/* The lab's collision domains in order of first mention: VXLAN network
 * identifier I+1 is domain I on every part. Their count. */
int lab_domains(const struct lab *lab, char (*names)[33], int max);
/* Which parts (bit K-1) have a machine on DOMAIN */
unsigned lab_domain_parts(const struct lab *lab, const char *domain, int n);

/* agentlink.c: the frames a lab agent sends, from its line's bytes */
#include "../agent-proto.h"
struct agent_link {
	unsigned char buf[AGENT_HEADER + AGENT_MAX_PAYLOAD];
	size_t len;
	int broken;	/* out of step for good: a frame too long */
};
typedef void agent_frame_fn(void *ctx, int type, int session, const unsigned char *payload, size_t len);
/* Calls FN for every whole frame in DATA; 0, or -1 once the line broke. */
int agent_link_feed(struct agent_link *l, const unsigned char *data, size_t n, agent_frame_fn *fn, void *ctx);

#endif
