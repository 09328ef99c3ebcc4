/* Kathara's lab format: lab.conf and lab.dep (docs/lab.md).
 *
 * lab.conf, a line each:
 *   LAB_NAME="..."  LAB_DESCRIPTION=  LAB_VERSION=  LAB_AUTHOR=  LAB_EMAIL=  LAB_WEB=
 *   NAME[N]=DOMAIN          machine NAME's ethN on collision domain DOMAIN
 *   NAME[image]=IMAGE       NAME[mem]=SIZE     NAME[bridged]=true
 *   NAME[port]=HOST:GUEST[/tcp|/udp]           NAME[env]=KEY=VALUE
 * Values may be quoted ("..." or '...'); '#' starts a comment. Kathara's
 * other machine options (cpus, shell, num_terms, ipv6, sysctl, exec,
 * hosthome, ulimit) are accepted and ignored, with a note.
 * lab.dep: "NAME: NAME NAME ..." lines (NAME starts after those).
 *
 * Errors name the file and line; the parser keeps no state of its own. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

static int lab_error(struct lab_diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int lab_error(struct lab_diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(d->error, sizeof(d->error), "%s:%d: ", file, line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(d->error))
		vsnprintf(d->error + n, sizeof(d->error) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void lab_note(struct lab_diag *d, const char *file, int line, const char *what)
{
	size_t len = strlen(d->notes);
	if (len + 1 < sizeof(d->notes))
		snprintf(d->notes + len, sizeof(d->notes) - len, "%s:%d: %s\n", file, line, what);
}

/* A machine or collision domain name: letters, digits, '_', '-', '.'. */
int lab_valid_name(const char *s)
{
	size_t len = strlen(s);
	return len && len <= 32 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == len;
}

/* An image name a recipe can have: names joined by '/' (Kathara's
 * kathara/base is rootfs-recipes/kathara/base.recipe). */
int lab_valid_image_name(const char *s)
{
	char part[33];
	size_t len = strlen(s);
	if (!len || len > 64)
		return 0;
	for (const char *p = s;; p++) {
		size_t n = strcspn(p, "/");
		if (n >= sizeof(part))
			return 0;
		memcpy(part, p, n);
		part[n] = '\0';
		if (!lab_valid_name(part) || !strcmp(part, "..") || !strcmp(part, "."))
			return 0;
		p += n;
		if (!*p)
			return 1;
	}
}

static char *trim(char *s)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* VALUE, "VALUE" or 'VALUE' (then a comment may follow); NULL if a quote
 * is not closed. */
static char *unquote(char *v)
{
	char q = *v, *close;
	if (q != '"' && q != '\'') {
		char *hash = strchr(v, '#');
		if (hash)
			*hash = '\0';
		return trim(v);
	}
	close = strchr(v + 1, q);
	if (!close)
		return NULL;
	*close = '\0';
	return v + 1;
}

static struct lab_machine *machine(struct lab *lab, const char *name, const char *file, int line,
				   struct lab_diag *d)
{
	for (int i = 0; i < lab->n_machines; i++)
		if (!strcmp(lab->machines[i].name, name))
			return &lab->machines[i];
	if (lab->n_machines == LAB_MAX_MACHINES) {
		lab_error(d, file, line, "more than %d machines", LAB_MAX_MACHINES);
		return NULL;
	}
	lab->machines[lab->n_machines] = (struct lab_machine){ .line = line };
	snprintf(lab->machines[lab->n_machines].name, sizeof(lab->machines[0].name), "%s", name);
	return &lab->machines[lab->n_machines++];
}

typedef int option_fn(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d);

/* NAME[image]=NAME[:TAG|@DIGEST]: a Docker tag or digest names a version
 * of Kathara's image; here the recipe of that name decides, so it goes */
static int opt_image(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	char *last = strrchr(value, '/'), *tag, note[LAB_TEXT + 64];
	tag = strpbrk(last ? last + 1 : value, ":@");
	if (tag) {
		snprintf(note, sizeof(note), "%s[image]: the tag '%.64s' is Docker's; the recipe of %.*s decides here",
			 m->name, tag, (int)(tag - value > 100 ? 100 : tag - value), value);
		lab_note(d, file, line, note);
		*tag = '\0';
	}
	if (strlen(value) >= sizeof(m->image))
		return lab_error(d, file, line, "%s[image]: name too long", m->name);
	snprintf(m->image, sizeof(m->image), "%s", value);
	return 0;
}

static int opt_mem(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);
	/* Kathara takes "256m", "1g" (Docker's units); a bare number is MiB */
	if (!*value || !isdigit((unsigned char)*value) || v == 0 || v > 1048576 ||
	    (*end && (end[1] || !strchr("mMgG", *end))))
		return lab_error(d, file, line, "%s[mem]='%s': use a size such as 64m or 1g", m->name, value);
	m->mem_mib = (*end == 'g' || *end == 'G') ? v * 1024 : v;
	if (m->mem_mib < 32)
		return lab_error(d, file, line, "%s[mem]='%s': a machine needs at least 32m", m->name, value);
	return 0;
}

/* Kathara's booleans (Python's and YAML's spellings): 1, 0, or -1 */
static int boolean(const char *value)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "1" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(value, yes[i]))
			return 1;
		if (!strcmp(value, no[i]))
			return 0;
	}
	return -1;
}

static int opt_bridged(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	m->bridged = boolean(value);
	if (m->bridged < 0)
		return lab_error(d, file, line, "%s[bridged]='%s': use true or false", m->name, value);
	return 0;
}

/* NAME[part]=K: umlkit's key (Kathara ignores it) pinning NAME to part K
 * of a lab run across hosts (boot.sh start --part K/N) */
static int opt_part(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end || v < 1 || v > LAB_MAX_PARTS)
		return lab_error(d, file, line, "%s[part]='%s': use a part number from 1 to %d", m->name, value,
				 LAB_MAX_PARTS);
	m->part = (int)v;
	return 0;
}

static int opt_ipv6(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	m->ipv6 = boolean(value);
	if (m->ipv6 < 0)
		return lab_error(d, file, line, "%s[ipv6]='%s': use true or false", m->name, value);
	return 0;
}

/* NAME[sysctl]=net.KEY=VALUE, repeatable: as Kathara, the network's
 * settings only (the machine's own namespace; the rest is the kernel's) */
static int opt_sysctl(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	char *eq = strchr(value, '=');
	size_t key = strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/");
	if (strncmp(value, "net.", 4) || !eq || (size_t)(eq - value) != key || !eq[1] || strstr(value, "..") ||
	    strcspn(eq + 1, "\n\t ") != strlen(eq + 1))
		return lab_error(d, file, line, "%s[sysctl]='%s': use net.KEY=VALUE, such as "
				 "net.ipv4.ip_forward=1 (Kathara takes the net.* keys only)", m->name, value);
	if (m->n_sysctls == LAB_MAX_SYSCTLS || strlen(value) >= sizeof(m->sysctls[0]))
		return lab_error(d, file, line, "%s: more than %d sysctl lines, or one too long", m->name,
				 LAB_MAX_SYSCTLS);
	snprintf(m->sysctls[m->n_sysctls++], sizeof(m->sysctls[0]), "%s", value);
	return 0;
}

/* HOST:GUEST[/tcp|/udp] -> "tcp:127.0.0.1:HOST:GUEST" (as --forward takes it) */
static int opt_port(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	unsigned host, guest;
	char proto[4] = "tcp", extra;
	int n = sscanf(value, "%u:%u/%3[a-z]%c", &host, &guest, proto, &extra);
	if ((n != 2 && n != 3) || (n == 2 && strchr(value, '/')) || host < 1 || host > 65535 || guest < 1 ||
	    guest > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return lab_error(d, file, line, "%s[port]='%s': use HOSTPORT:GUESTPORT[/tcp|/udp]", m->name, value);
	if (m->n_ports == LAB_MAX_PORTS)
		return lab_error(d, file, line, "%s: more than %d ports", m->name, LAB_MAX_PORTS);
	snprintf(m->ports[m->n_ports++], sizeof(m->ports[0]), "%s:127.0.0.1:%u:%u", proto, host, guest);
	return 0;
}

static int opt_env(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	char *eq = strchr(value, '=');
	if (!eq || eq == value || isdigit((unsigned char)*value) ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - value))
		return lab_error(d, file, line, "%s[env]='%s': use KEY=VALUE", m->name, value);
	if (m->n_env == LAB_MAX_ENV || strlen(value) >= sizeof(m->env[0]) || strchr(value, '\n'))
		return lab_error(d, file, line, "%s[env]: too many or too long", m->name);
	snprintf(m->env[m->n_env++], sizeof(m->env[0]), "%s", value);
	return 0;
}

static int opt_ignored(struct lab_machine *m, char *value, const char *file, int line, struct lab_diag *d)
{
	(void)m, (void)value, (void)file, (void)line, (void)d;
	return 1;	/* noted by the caller */
}

static const struct {
	const char *key;
	option_fn *set;
} machine_options[] = {
	{ "image", opt_image }, { "mem", opt_mem }, { "bridged", opt_bridged }, { "port", opt_port },
	{ "env", opt_env }, { "cpus", opt_ignored }, { "shell", opt_ignored }, { "num_terms", opt_ignored },
	{ "ipv6", opt_ipv6 }, { "sysctl", opt_sysctl }, { "exec", opt_ignored }, { "hosthome", opt_ignored },
	{ "ulimit", opt_ignored }, { "part", opt_part },
};

static const struct {
	const char *key;
	size_t offset;
} lab_keys[] = {
	{ "LAB_NAME", offsetof(struct lab, name) }, { "LAB_DESCRIPTION", offsetof(struct lab, description) },
	{ "LAB_VERSION", offsetof(struct lab, version) }, { "LAB_AUTHOR", offsetof(struct lab, author) },
	{ "LAB_EMAIL", offsetof(struct lab, email) }, { "LAB_WEB", offsetof(struct lab, web) },
};

/* XX:XX:XX:XX:XX:XX, unicast */
static int parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];
	char extra;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6 ||
	    strlen(text) != 17 || (v[0] & 1))
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

/* NAME[N]=DOMAIN[/MAC]: ethN of NAME on DOMAIN, with that MAC address */
static int set_interface(struct lab_machine *m, const char *index, char *value, const char *file, int line,
			 struct lab_diag *d)
{
	char *end, *slash = strchr(value, '/');
	long n = strtol(index, &end, 10);
	if (*end || n < 0 || n >= LAB_MAX_IFS)
		return lab_error(d, file, line, "%s[%s]: interfaces are numbered 0 to %d", m->name, index,
				 LAB_MAX_IFS - 1);
	if (slash) {
		*slash = '\0';
		if (parse_mac(slash + 1, m->macs[n]) < 0)
			return lab_error(d, file, line, "%s[%ld]: '%s' is not a unicast MAC address: use DOMAIN/"
					 "02:00:00:00:00:01", m->name, n, slash + 1);
		m->has_mac[n] = 1;
	}
	if (!lab_valid_name(value))
		return lab_error(d, file, line, "%s[%ld]='%s': a collision domain is a name of letters, digits, "
				 "'_', '-' and '.'", m->name, n, value);
	if (m->domains[n][0])
		return lab_error(d, file, line, "%s[%ld] is set twice", m->name, n);
	snprintf(m->domains[n], sizeof(m->domains[0]), "%s", value);
	if (n + 1 > m->n_ifs)
		m->n_ifs = (int)n + 1;
	return 0;
}

/* Machines that name no image run IMAGE (Kathara's default image
 * setting; UMLKIT_LAB_DEFAULT_IMAGE); an empty IMAGE: the configured root */
void lab_default_image(struct lab *lab, const char *image)
{
	for (int i = 0; image && lab_valid_image_name(image) && i < lab->n_machines; i++)
		if (!*lab->machines[i].image)
			snprintf(lab->machines[i].image, sizeof(lab->machines[i].image), "%s", image);
}

static int parse_line(struct lab *lab, char *text, const char *file, int line, struct lab_diag *d)
{
	char *eq = strchr(text, '='), *key, *value, *open, *close;
	if (!eq)
		return lab_error(d, file, line, "expected NAME[N]=DOMAIN, NAME[OPTION]=VALUE or LAB_KEY=VALUE");
	*eq = '\0';
	key = trim(text);
	value = unquote(trim(eq + 1));
	if (!value)
		return lab_error(d, file, line, "a quote is not closed");
	for (size_t i = 0; i < sizeof(lab_keys) / sizeof(lab_keys[0]); i++)
		if (!strcmp(key, lab_keys[i].key)) {
			snprintf((char *)lab + lab_keys[i].offset, LAB_TEXT, "%s", value);
			return 0;
		}
	open = strchr(key, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close || close[1]) {
		if (!strncmp(key, "LAB_", 4))
			return 0;	/* other lab metadata Kathara may add */
		return lab_error(d, file, line, "'%s': expected NAME[N] or NAME[OPTION]", key);
	}
	*open = *close = '\0';
	if (!lab_valid_name(key))
		return lab_error(d, file, line, "'%s': a machine name is letters, digits, '_', '-' and '.'", key);
	struct lab_machine *m = machine(lab, key, file, line, d);
	if (!m)
		return -1;
	if (isdigit((unsigned char)open[1]))
		return set_interface(m, open + 1, value, file, line, d);
	for (size_t i = 0; i < sizeof(machine_options) / sizeof(machine_options[0]); i++)
		if (!strcmp(open + 1, machine_options[i].key)) {
			int rc = machine_options[i].set(m, value, file, line, d);
			if (rc > 0) {
				char note[96];
				snprintf(note, sizeof(note), "%s[%s] is ignored by umlkit", m->name, open + 1);
				lab_note(d, file, line, note);
				rc = 0;
			}
			return rc;
		}
	return lab_error(d, file, line, "%s[%s]: unknown option (image, mem, bridged, port, env, part, or an "
			 "interface number)", m->name, open + 1);
}

/* The next line of *CURSOR with text (blank and comment lines skipped),
 * trimmed and terminated in place; *LINE counts. NULL at the end. */
static char *next_line(char **cursor, int *line)
{
	while (*cursor) {
		char *s = *cursor, *nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		*cursor = nl;
		++*line;
		s = trim(s);
		if (*s && *s != '#')
			return s;
	}
	return NULL;
}

/* Parses TEXT (lab.conf's content, changed in place) into LAB. */
int lab_parse_conf(char *text, const char *file, struct lab *lab, struct lab_diag *d)
{
	int line = 0;
	for (char *s; (s = next_line(&text, &line));)
		if (parse_line(lab, s, file, line, d) < 0)
			return -1;
	for (int i = 0; i < lab->n_machines; i++) {
		struct lab_machine *m = &lab->machines[i];
		for (int k = 0; k < m->n_ifs; k++)
			if (!m->domains[k][0])
				return lab_error(d, file, m->line, "%s has eth%d but no eth%d: number interfaces from 0 "
						 "without gaps", m->name, m->n_ifs - 1, k);
		if (m->n_ports && !m->bridged)
			return lab_error(d, file, m->line, "%s[port] needs %s[bridged]=true: the port is forwarded "
					 "through its NAT to the host", m->name, m->name);
	}
	if (!lab->n_machines)
		return lab_error(d, file, line, "no machines: declare some, as pc1[0]=A");
	return 0;
}

static int machine_index(const struct lab *lab, const char *name)
{
	for (int i = 0; i < lab->n_machines; i++)
		if (!strcmp(lab->machines[i].name, name))
			return i;
	return -1;
}

/* lab.dep: "NAME: NAME NAME ..."; a cycle is an error. */
int lab_parse_dep(char *text, const char *file, struct lab *lab, struct lab_diag *d)
{
	int line = 0;
	for (char *s; (s = next_line(&text, &line));) {
		char *colon = strchr(s, ':'), *word, *save = NULL;
		int who;
		if (!colon)
			return lab_error(d, file, line, "expected NAME: NAME ...");
		*colon = '\0';
		who = machine_index(lab, trim(s));
		if (who < 0)
			return lab_error(d, file, line, "'%s' is not a machine of lab.conf", trim(s));
		for (word = strtok_r(colon + 1, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
			int dep = machine_index(lab, word);
			struct lab_machine *m = &lab->machines[who];
			if (dep < 0)
				return lab_error(d, file, line, "'%s' is not a machine of lab.conf", word);
			if (m->n_deps < LAB_MAX_MACHINES)
				m->deps[m->n_deps++] = dep;
		}
	}
	return lab_order(lab) < 0 ? lab_error(d, file, line, "the dependencies form a cycle") : 0;
}

/* lab->order: machines in start order (each after what it depends on);
 * lab->order_level: the round it starts in (same round: in parallel). */
int lab_order(struct lab *lab)
{
	int done[LAB_MAX_MACHINES] = { 0 }, n = 0;
	for (int round = 0; n < lab->n_machines; round++) {
		int picked[LAB_MAX_MACHINES], n_picked = 0;
		for (int i = 0; i < lab->n_machines; i++) {
			int ready = !done[i];
			for (int k = 0; ready && k < lab->machines[i].n_deps; k++)
				ready = done[lab->machines[i].deps[k]] == 1;
			if (ready)
				picked[n_picked++] = i;
		}
		if (!n_picked)
			return -1;
		for (int k = 0; k < n_picked; k++) {
			done[picked[k]] = 1;
			lab->order[n] = picked[k];
			lab->order_level[n++] = round;
		}
	}
	return 0;
}
