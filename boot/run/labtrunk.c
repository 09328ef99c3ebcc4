/* A lab part's trunk (umlkit-run BUNDLE ENTRY --lab-trunk INSTANCE,
 * detached by boot.sh start --part K/N): the collision domains this part
 * shares with others, carried over UDP in VXLAN framing (RFC 7348: an
 * 8-byte header, the network identifier, the Ethernet frame). It joins
 * each such domain's switch as one more port, sends what the switch gives
 * it to the parts with that domain (to the one a destination address was
 * learned from, else to all), and gives the switch what those parts send,
 * from their addresses only. On TCP, the same port, it serves the other
 * parts' authenticated requests (labpeer.c): a machine's control socket,
 * the part's status, stop. No privilege: a UDP and a TCP socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "run.h"

#define VXLAN_HEADER 8
#define MAX_DOMAINS 64
#define LEARNED 1024		/* direct-mapped: address and domain to part */
#define RESOLVE_SECONDS 300	/* a peer unresolved that long is given up */
#define TRUNK_BUFFER (4 << 20)
#define REQUEST_MAX 128
#define MAX_REQUESTS 64		/* served at once; more wait in the backlog */

struct trunk_domain {
	char name[33];
	unsigned vni;
	int sw;			/* our port on the domain's switch */
	unsigned parts;		/* the other parts with it (bit K-1) */
};

struct learned {
	unsigned char mac[6];
	unsigned short domain;
	unsigned char part, used;
};

struct trunk {
	struct run *r;
	const char *inst;
	struct lab *lab;
	struct lab_parts parts;
	char *secret;
	int family, udp, tcp, lock_fd;
	int serving;		/* request children running */
	struct sockaddr_storage peer[LAB_MAX_PARTS];
	socklen_t peer_len[LAB_MAX_PARTS];
	int resolved[LAB_MAX_PARTS];
	struct trunk_domain dom[MAX_DOMAINS];
	int n_dom;
	struct learned learned[LEARNED];
	unsigned char buf[VXLAN_HEADER + 65536 + 64];
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static unsigned learned_slot(const unsigned char *mac, unsigned domain)
{
	unsigned h = domain * 2654435761u;
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h % LEARNED;
}

static void learn(struct trunk *t, const unsigned char *mac, int d, int part)
{
	struct learned *l = &t->learned[learned_slot(mac, (unsigned)d)];
	memcpy(l->mac, mac, 6);
	l->domain = (unsigned short)d;
	l->part = (unsigned char)part;
	l->used = 1;
}

static int learned_part(const struct trunk *t, const unsigned char *mac, int d)
{
	const struct learned *l = &t->learned[learned_slot(mac, (unsigned)d)];
	return l->used && l->domain == d && !memcmp(l->mac, mac, 6) ? l->part : 0;
}

/* Same address (and, with WITH_PORT, the same port)? */
static int same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b, int with_port)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && (!with_port || x->sin_port == y->sin_port);
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) && (!with_port || x->sin6_port == y->sin6_port);
}

/* The part a datagram came from: its address and port (a part sends from
 * the port it listens on), else its address alone (a NAT between the hosts
 * may change the port); 0 if none */
static int part_from(const struct trunk *t, const struct sockaddr_storage *from)
{
	for (int with_port = 1; with_port >= 0; with_port--)
		for (int k = 0; k < t->parts.n; k++)
			if (t->resolved[k] == 1 && same_peer(from, &t->peer[k], with_port))
				return k + 1;
	return 0;
}

/* Peers not resolved yet, tried again (a pod's name appears when it does) */
static void resolve_peers(struct trunk *t, long long started)
{
	for (int k = 0; k < t->parts.n; k++) {
		if (k + 1 == t->parts.part || t->resolved[k])
			continue;
		if (lab_resolve(t->parts.hosts[k], t->parts.ports[k], t->family, &t->peer[k], &t->peer_len[k]) == 0)
			t->resolved[k] = 1;
		else if (time(NULL) - started > RESOLVE_SECONDS) {
			say(t->r->prog, "trunk: part %d's address '%s' did not resolve in %d s", k + 1,
			    t->parts.hosts[k], RESOLVE_SECONDS);
			t->resolved[k] = -1;
		}
	}
}

/* A frame from domain D's switch, to the parts with D */
static void from_switch(struct trunk *t, int d, size_t len)
{
	struct trunk_domain *dom = &t->dom[d];
	unsigned char *frame = t->buf + VXLAN_HEADER;
	int to = len >= 14 && !(frame[0] & 1) ? learned_part(t, frame, d) : 0;
	memset(t->buf, 0, VXLAN_HEADER);
	t->buf[0] = 0x08;	/* I: the identifier is valid */
	t->buf[4] = (unsigned char)(dom->vni >> 16);
	t->buf[5] = (unsigned char)(dom->vni >> 8);
	t->buf[6] = (unsigned char)dom->vni;
	for (int k = 0; k < t->parts.n; k++)
		if ((dom->parts >> k & 1) && t->resolved[k] == 1 && (!to || to == k + 1))
			sendto(t->udp, t->buf, VXLAN_HEADER + len, MSG_DONTWAIT, (struct sockaddr *)&t->peer[k],
			       t->peer_len[k]);
}

static void switch_read(struct trunk *t, int d)
{
	for (int i = 0; i < 32; i++) {
		ssize_t n = recv(t->dom[d].sw, t->buf + VXLAN_HEADER, sizeof(t->buf) - VXLAN_HEADER, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			say(t->r->prog, "trunk: the switch of '%s' went away", t->dom[d].name);
			stopping = 1;
			return;
		}
		if (n < 0)
			return;
		from_switch(t, d, (size_t)n);
	}
}

/* Datagrams from the other parts, into the switches */
static void udp_read(struct trunk *t)
{
	for (int i = 0; i < 32; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(t->udp, t->buf, sizeof(t->buf), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		int part, d;
		unsigned vni;
		if (n < 0)
			return;
		part = part_from(t, &from);
		if (!part || n < VXLAN_HEADER + 14 || !(t->buf[0] & 0x08))
			continue;
		vni = (unsigned)t->buf[4] << 16 | (unsigned)t->buf[5] << 8 | t->buf[6];
		for (d = 0; d < t->n_dom && t->dom[d].vni != vni; d++)
			;
		if (d == t->n_dom || !(t->dom[d].parts >> (part - 1) & 1))
			continue;
		learn(t, t->buf + VXLAN_HEADER + 6, d, part);
		send(t->dom[d].sw, t->buf + VXLAN_HEADER, (size_t)n - VXLAN_HEADER, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

/* Bytes both ways between A and B until both ends closed */
static void relay_both(int a, int b)
{
	int open_a = 1, open_b = 1;
	char buf[16384];
	while (open_a || open_b) {
		struct pollfd p[2] = { { open_a ? a : -1, POLLIN, 0 }, { open_b ? b : -1, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			int from = i ? b : a, to = i ? a : b;
			ssize_t n;
			if (!p[i].revents)
				continue;
			n = read(from, buf, sizeof(buf));
			if (n > 0 && write_all(to, buf, (size_t)n) == 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (n > 0))
				return;	/* an error either side ends it */
			shutdown(to, SHUT_WR);
			if (i)
				open_b = 0;
			else
				open_a = 0;
		}
	}
}

/* "sock NAME": the control socket of this part's machine NAME */
static void serve_socket(struct trunk *t, int fd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i, m;
	for (i = 0; i < t->lab->n_machines && strcmp(t->lab->machines[i].name, name); i++)
		;
	if (i == t->lab->n_machines || lab_part_of(t->lab, i, t->parts.n) != t->parts.part)
		return;
	char *path = xasprintf("%s/%s.sock", t->inst, name);
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	m = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m < 0 || connect(m, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return;	/* the client sees the connection close: not running */
	relay_both(fd, m);
}

/* One authenticated request on FD, in a child of the trunk */
static void serve_request(struct trunk *t, int fd)
{
	char req[REQUEST_MAX];
	size_t len;
	signal(SIGTERM, SIG_DFL);
	if (lab_peer_accept(fd, t->r->conf.lab, t->secret, req, sizeof(req), &len) < 0)
		return;
	if (len > 5 && !memcmp(req, "sock ", 5)) {
		serve_socket(t, fd, req + 5);
	} else if (!strcmp(req, "status")) {
		FILE *f = fdopen(dup(fd), "w");
		for (int i = 0; f && i < t->lab->n_machines; i++)
			if (lab_part_of(t->lab, i, t->parts.n) == t->parts.part)
				fprintf(f, "%s %s\n", t->lab->machines[i].name,
					lab_machine_shown(t->inst, t->lab->machines[i].name));
		if (f)
			fclose(f);
	} else if (!strcmp(req, "stop")) {
		lab_stop_here(t->r, t->inst);
		write_all(fd, "stopped\n", 8);
	}
}

static void accept_request(struct trunk *t)
{
	int fd;
	pid_t pid;
	if (t->serving >= MAX_REQUESTS)
		return;	/* the listening socket stays readable: taken once one ends */
	fd = accept4(t->tcp, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(t->udp);
		close(t->tcp);
		close(t->lock_fd);	/* stop waits for the trunk's lock to go */
		for (int d = 0; d < t->n_dom; d++)
			close(t->dom[d].sw);
		serve_request(t, fd);
		_exit(0);
	}
	t->serving += pid > 0;
	close(fd);
}

/* This part's UDP and TCP sockets on its port, every address */
static int open_sockets(struct trunk *t)
{
	struct sockaddr_storage sa = { .ss_family = (sa_family_t)t->family };
	unsigned port = t->parts.ports[t->parts.part - 1];
	int size = TRUNK_BUFFER, one = 1, off = IP_PMTUDISC_DONT, off6 = IPV6_PMTUDISC_DONT;
	socklen_t len = t->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (t->family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((unsigned short)port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((unsigned short)port);
	t->udp = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	t->tcp = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->udp < 0 || t->tcp < 0)
		return -1;
	setsockopt(t->udp, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(t->udp, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* a 1500-byte guest frame plus the 50 bytes around it may exceed the
	 * path's MTU: the host fragments it rather than dropping it */
	if (t->family == AF_INET)
		setsockopt(t->udp, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off));
	else
		setsockopt(t->udp, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &off6, sizeof(off6));
	setsockopt(t->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->udp, (struct sockaddr *)&sa, len) < 0 || bind(t->tcp, (struct sockaddr *)&sa, len) < 0 ||
	    listen(t->tcp, 64) < 0) {
		say(t->r->prog, "trunk: cannot use port %u (UDP and TCP): %s", port, strerror(errno));
		return -1;
	}
	return 0;
}

/* The domains this part shares with another, each joined */
static int join_domains(struct trunk *t)
{
	static char names[MAX_DOMAINS][33];
	int n = lab_domains(t->lab, names, MAX_DOMAINS);
	unsigned self = 1u << (t->parts.part - 1);
	for (int i = 0; i < n; i++) {
		unsigned parts = lab_domain_parts(t->lab, names[i], t->parts.n);
		struct trunk_domain *d = &t->dom[t->n_dom];
		if (!(parts & self) || parts == self)
			continue;
		snprintf(d->name, sizeof(d->name), "%.32s", names[i]);
		d->vni = (unsigned)i + 1;
		d->parts = parts & ~self;
		d->sw = net_switch_join(t->r, xasprintf("%s.%s", lab_switch_prefix(t->inst), names[i]));
		if (d->sw < 0)
			return -1;
		fcntl(d->sw, F_SETFL, O_NONBLOCK);
		t->n_dom++;
	}
	return 0;
}

/* The family of the first other part that resolves (IPv4 if none yet) */
static int pick_family(const struct lab_parts *p)
{
	for (int k = 0; k < p->n; k++) {
		struct sockaddr_storage sa;
		socklen_t len;
		if (k + 1 != p->part && lab_resolve(p->hosts[k], p->ports[k], AF_UNSPEC, &sa, &len) == 0)
			return sa.ss_family;
	}
	return AF_INET;
}

static void trunk_loop(struct trunk *t)
{
	long long started = time(NULL), resolved_at = 0;
	while (!stopping) {
		struct pollfd p[MAX_DOMAINS + 2];
		int n = 0;
		p[n++] = (struct pollfd){ t->udp, POLLIN, 0 };
		p[n++] = (struct pollfd){ t->serving < MAX_REQUESTS ? t->tcp : -1, POLLIN, 0 };
		for (int d = 0; d < t->n_dom; d++)
			p[n++] = (struct pollfd){ t->dom[d].sw, POLLIN, 0 };
		while (waitpid(-1, NULL, WNOHANG) > 0)
			t->serving--;	/* a request served */
		if (time(NULL) != resolved_at) {
			resolve_peers(t, started);
			resolved_at = time(NULL);
		}
		if (poll(p, (nfds_t)n, 1000) < 0)
			continue;
		if (p[0].revents)
			udp_read(t);
		if (p[1].revents)
			accept_request(t);
		for (int d = 0; d < t->n_dom; d++)
			if (p[d + 2].revents)
				switch_read(t, d);
	}
}

/* umlkit-run BUNDLE ENTRY --lab-trunk INSTANCE: INSTANCE/+trunk.state
 * says "up" once the sockets are bound and the switches joined. */
int lab_trunk(struct run *r, const char *inst)
{
	static struct trunk t;
	char *lock = xasprintf("%s/+trunk.lock", inst), *state = xasprintf("%s/+trunk.state", inst);
	char *pid = xasprintf("%d\n", (int)getpid()), *pid_path = xasprintf("%s/+trunk.pid", inst);
	t.r = r;
	t.inst = inst;
	t.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (t.lock_fd < 0 || flock(t.lock_fd, LOCK_EX | LOCK_NB) < 0)
		return EX_USAGE;
	write_file(pid_path, pid, strlen(pid));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (!(t.lab = lab_load(r, inst)) || lab_parts_load(inst, &t.parts) < 0 || t.parts.n < 1 ||
	    !(t.secret = lab_secret(inst))) {
		say(r->prog, "trunk: cannot read the lab's part files in %s", inst);
		return EX_CORRUPT;
	}
	t.family = pick_family(&t.parts);
	if (open_sockets(&t) < 0 || join_domains(&t) < 0) {
		write_file(state, "failed\n", 7);
		return EX_HOST;
	}
	write_file(state, "up\n", 3);
	trunk_loop(&t);
	return 0;
}
