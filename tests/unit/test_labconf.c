/* lab.conf and lab.dep (boot/run/labconf.c): tables of labs, each with
 * what the parser must make of it, or the error (file:line) it must give. */
#include "../../boot/run/lab.h"
#include "unit.h"

struct conf_case {
	const char *name, *conf, *dep;
	const char *error;	/* the error wanted (a part of it), or NULL */
	const char *check;	/* as describe() puts it, or NULL */
	const char *note;	/* a part of the notes wanted, or NULL */
};

static const struct conf_case cases[] = {
	{ "two machines", "pc1[0]=A\npc2[0]=A\n", NULL, NULL, "pc1:A::0:0:0:0:0:-", NULL },
	{ "quotes and comments", "# a lab\nLAB_NAME=\"my lab\"\nr1[0]=\"A\"\nr1[1]='B' # uplink\n", NULL, NULL,
	  "r1:A,B::0:0:0:0:0:-", NULL },
	{ "image and mem", "pc1[0]=A\npc1[image]=\"kathara/base\"\npc1[mem]=256m\n", NULL, NULL,
	  "pc1:A:kathara/base:256:0:0:0:0:-", NULL },
	{ "mem in g", "pc1[0]=A\npc1[mem]=1g\n", NULL, NULL, "pc1:A::1024:0:0:0:0:-", NULL },
	{ "a port needs bridged", "pc1[0]=A\npc1[port]=8080:80\n", NULL, "needs pc1[bridged]=true", NULL, NULL },
	{ "a bridged port", "pc1[0]=A\npc1[bridged]=true\npc1[port]=8080:80/udp\n", NULL, NULL, "pc1:A::0:1:0:0:0:-",
	  NULL },
	{ "Kathara's ignored options", "pc1[0]=A\npc1[num_terms]=2\n", NULL, NULL, "pc1:A::0:0:0:0:0:-",
	  "pc1[num_terms] is ignored" },
	{ "a fixed MAC", "pc1[0]=A/02:00:00:00:00:01\n", NULL, NULL, "pc1:A::0:0:0:0:0:02:00:00:00:00:01", NULL },
	{ "a multicast MAC", "pc1[0]=A/01:00:00:00:00:01\n", NULL, "pc1[0]: '01:00:00:00:00:01' is not a unicast MAC",
	  NULL, NULL },
	{ "a short MAC", "pc1[0]=A/00:00:00:00:01\n", NULL, "is not a unicast MAC address", NULL, NULL },
	{ "ipv6 and sysctls", "pc1[0]=A\npc1[ipv6]=\"True\"\npc1[sysctl]=\"net.ipv6.conf.eth0.accept_ra=2\"\n"
	  "pc1[sysctl]=net.ipv4.tcp_syncookies=0\n", NULL, NULL, "pc1:A::0:0:0:1:2:-", NULL },
	{ "a sysctl outside net", "pc1[0]=A\npc1[sysctl]=kernel.panic=1\n", NULL,
	  "lab.conf:2: pc1[sysctl]='kernel.panic=1': use net.KEY=VALUE", NULL, NULL },
	{ "a sysctl climbing out", "pc1[0]=A\npc1[sysctl]=net/../../x=1\n", NULL, "use net.KEY=VALUE", NULL, NULL },
	{ "a sysctl with no value", "pc1[0]=A\npc1[sysctl]=net.ipv4.ip_forward\n", NULL, "use net.KEY=VALUE", NULL,
	  NULL },
	{ "an image tag goes", "pc1[0]=A\npc1[image]=\"kathara/bind:9.11\"\n", NULL, NULL,
	  "pc1:A:kathara/bind:0:0:0:0:0:-", "the tag ':9.11' is Docker's" },
	{ "a digest goes", "pc1[0]=A\npc1[image]=base@sha256:ab\n", NULL, NULL, "pc1:A:base:0:0:0:0:0:-", NULL },
	{ "bridged True", "pc1[0]=A\npc1[bridged]=True\n", NULL, NULL, "pc1:A::0:0:0:0:0:-", NULL },
	{ "ipv6 maybe", "pc1[0]=A\npc1[ipv6]=maybe\n", NULL, "pc1[ipv6]='maybe': use true or false", NULL, NULL },
	{ "no machines", "LAB_NAME=x\n", NULL, "no machines: declare some", NULL, NULL },
	{ "no equals sign", "pc1[0]=A\njunk\n", NULL, "lab.conf:2: expected NAME[N]=DOMAIN", NULL, NULL },
	{ "an unclosed quote", "pc1[0]=\"A\n", NULL, "lab.conf:1: a quote is not closed", NULL, NULL },
	{ "a bad machine name", "p c[0]=A\n", NULL, "lab.conf:1: 'p c': a machine name", NULL, NULL },
	{ "a gap in the interfaces", "pc1[0]=A\npc1[2]=B\n", NULL, "has eth2 but no eth1", NULL, NULL },
	{ "an interface set twice", "pc1[0]=A\npc1[0]=B\n", NULL, "lab.conf:2: pc1[0] is set twice", NULL, NULL },
	{ "interface 8", "pc1[8]=A\n", NULL, "interfaces are numbered 0 to 7", NULL, NULL },
	{ "a bad domain", "pc1[0]=A;B\n", NULL, "a collision domain is a name", NULL, NULL },
	{ "an unknown option", "pc1[0]=A\npc1[color]=red\n", NULL, "pc1[color]: unknown option", NULL, NULL },
	{ "mem too small", "pc1[0]=A\npc1[mem]=16m\n", NULL, "at least 32m", NULL, NULL },
	{ "mem not a size", "pc1[0]=A\npc1[mem]=lots\n", NULL, "use a size such as 64m", NULL, NULL },
	{ "bridged yes", "pc1[0]=A\npc1[bridged]=maybe\n", NULL, "use true or false", NULL, NULL },
	{ "a bad port", "pc1[0]=A\npc1[bridged]=true\npc1[port]=99999:80\n", NULL, "use HOSTPORT:GUESTPORT", NULL,
	  NULL },
	{ "a bad env", "pc1[0]=A\npc1[env]=1X=y\n", NULL, "use KEY=VALUE", NULL, NULL },
	{ "lab.dep order", "a[0]=X\nb[0]=X\nc[0]=X\n", "a: b c\nb: c\n", NULL, "c:X::0:0:0:0:0:-", NULL },
	{ "lab.dep cycle", "a[0]=X\nb[0]=X\n", "a: b\nb: a\n", "the dependencies form a cycle", NULL, NULL },
	{ "lab.dep unknown", "a[0]=X\n", "a: z\n", "lab.dep:1: 'z' is not a machine", NULL, NULL },
	{ "lab.dep no colon", "a[0]=X\n", "a b\n", "lab.dep:1: expected NAME: NAME", NULL, NULL },
};

/* "machine:domains:image:mem:ports:order:ipv6:sysctls:mac", ORDER the
 * machine's position, MAC eth0's fixed one or '-' */
static void describe(const struct lab *lab, const char *name, char *out, size_t size)
{
	for (int i = 0; i < lab->n_machines; i++) {
		const struct lab_machine *m = &lab->machines[i];
		char doms[128] = "";
		int pos = -1;
		if (strcmp(m->name, name))
			continue;
		for (int k = 0; k < m->n_ifs; k++)
			snprintf(doms + strlen(doms), sizeof(doms) - strlen(doms), "%s%s", k ? "," : "", m->domains[k]);
		for (int k = 0; k < lab->n_machines; k++)
			if (lab->order[k] == i)
				pos = k;
		char mac[18] = "-";
		if (m->has_mac[0])
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m->macs[0][0], m->macs[0][1],
				 m->macs[0][2], m->macs[0][3], m->macs[0][4], m->macs[0][5]);
		snprintf(out, size, "%s:%s:%s:%lu:%d:%d:%d:%d:%s", m->name, doms, m->image, m->mem_mib, m->n_ports, pos,
			 m->ipv6, m->n_sysctls, mac);
		return;
	}
	snprintf(out, size, "(no machine %s)", name);
}

static void run_case(struct unit *u, const struct conf_case *c)
{
	static struct lab lab;
	static struct lab_diag d;
	char *conf = strdup(c->conf), *dep = c->dep ? strdup(c->dep) : NULL, got[256] = "";
	int rc;
	memset(&lab, 0, sizeof(lab));
	memset(&d, 0, sizeof(d));
	rc = lab_parse_conf(conf, "lab.conf", &lab, &d);
	if (rc == 0)
		rc = dep ? lab_parse_dep(dep, "lab.dep", &lab, &d) : lab_order(&lab);
	if (c->error) {
		unit_case(u, rc < 0 && strstr(d.error, c->error), c->name, "error '%s', wanted '%s'", d.error, c->error);
	} else {
		char name[33];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(c->check, ":"), c->check);
		describe(&lab, name, got, sizeof(got));
		unit_case(u, rc == 0 && !strcmp(got, c->check), c->name, "got '%s' (%s), wanted '%s'", got, d.error,
			  c->check);
	}
	if (c->note)
		unit_case(u, strstr(d.notes, c->note) != NULL, c->name, "notes '%s', wanted '%s'", d.notes, c->note);
	free(conf);
	free(dep);
}

/* Kathara's default image: machines naming none get it; a bad name or ""
 * leaves them on the configured root */
static void default_image_cases(struct unit *u)
{
	static struct lab lab;
	static struct lab_diag d;
	static const char *const defaults[] = { "kathara/base", "", "../x" };
	static const char *const wanted[] = { "kathara/base", "", "" };
	for (size_t i = 0; i < UNIT_COUNT(defaults); i++) {
		char conf[] = "a[0]=A\nb[0]=A\nb[image]=frr\n", name[64];
		memset(&lab, 0, sizeof(lab));
		lab_parse_conf(conf, "lab.conf", &lab, &d);
		lab_default_image(&lab, defaults[i]);
		snprintf(name, sizeof(name), "default image '%s'", defaults[i]);
		unit_case(u, !strcmp(lab.machines[0].image, wanted[i]) && !strcmp(lab.machines[1].image, "frr"), name,
			  "a runs '%s', b '%s'", lab.machines[0].image, lab.machines[1].image);
	}
}

int main(void)
{
	struct unit u = { 0 };
	for (size_t i = 0; i < UNIT_COUNT(cases); i++)
		run_case(&u, &cases[i]);
	unit_case(&u, lab_valid_name("r1-a.b_c") && !lab_valid_name("") && !lab_valid_name("-x") &&
		  !lab_valid_name("012345678901234567890123456789012"), "machine names", "lab_valid_name disagrees");
	unit_case(&u, lab_valid_image_name("kathara/base") && lab_valid_image_name("frr") &&
		  !lab_valid_image_name("kathara/../x") && !lab_valid_image_name("/abs") &&
		  !lab_valid_image_name("a//b") && !lab_valid_image_name("a/") && !lab_valid_image_name(""),
		  "image names", "lab_valid_image_name disagrees");
	default_image_cases(&u);
	return unit_done(&u);
}
