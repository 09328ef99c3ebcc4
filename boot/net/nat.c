/* umlkit-nat: user networking (NAT) for one guest interface, on libslirp,
 * the library QEMU and slirp4netns use.
 *
 * Usage: umlkit-nat GUEST_FD STATUS_FD MTU [tcp|udp:HOSTADDR:HOSTPORT:GUESTPORT]...
 *
 * GUEST_FD is a SOCK_SEQPACKET unix socket whose peer is the guest's vector
 * interface (UML's transport=fd): one message, one Ethernet frame. The
 * network is QEMU's user network: guest 10.0.2.15/24, gateway 10.0.2.2 (the
 * host's loopback), DNS 10.0.2.3 (forwarded to the host's resolver). Once
 * every forward is bound it writes "ok\n" to STATUS_FD, or one line
 * "error: ..." and exits 2. It exits when the guest's end closes, once
 * what it holds for host sockets is written (drain); its
 * parent, the runtime supervisor, also has it killed when it dies
 * (PR_SET_PDEATHSIG). Its messages go to stderr, the guest's boot log. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#define MAX_POLL 1024
#define MAX_TIMERS 8
#define FRAMES_PER_ROUND 64
#define SEND_WAIT_MS 200	/* a guest that reads nothing for this long loses the frame */
#define DRAIN_MS 3000		/* for a host peer to take what the guest sent last */

struct timer {
	int used;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;	/* -1: not armed */
};

struct nat {
	Slirp *slirp;
	int guest;
	struct pollfd fds[MAX_POLL];
	int n_fds;
	struct timer timers[MAX_TIMERS];
	unsigned char frame[65536 + 64];
};

static int64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return clock_ns();
}

/* A frame for the guest. The guest drains its socket from an interrupt;
 * waiting briefly for room beats dropping (TCP would back off). */
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct nat *nat = opaque;
	for (int tries = 0; tries < 2; tries++) {
		struct pollfd p = { nat->guest, POLLOUT, 0 };
		ssize_t n = send(nat->guest, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		poll(&p, 1, SEND_WAIT_MS);
	}
	return (ssize_t)len;	/* dropped, as a full switch port would */
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "umlkit-nat: guest error: %s\n", msg);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct nat *nat = opaque;
	for (int i = 0; i < MAX_TIMERS; i++)
		if (!nat->timers[i].used) {
			nat->timers[i] = (struct timer){ 1, id, cb_opaque, -1 };
			return &nat->timers[i];
		}
	fprintf(stderr, "umlkit-nat: out of timers\n");
	abort();
}

static void cb_timer_free(void *timer, void *opaque)
{
	(void)opaque;
	((struct timer *)timer)->used = 0;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct timer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const struct {
	int slirp, poll;
} poll_bits[] = {
	{ SLIRP_POLL_IN, POLLIN }, { SLIRP_POLL_OUT, POLLOUT }, { SLIRP_POLL_PRI, POLLPRI },
	{ SLIRP_POLL_ERR, POLLERR }, { SLIRP_POLL_HUP, POLLHUP },
};

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct nat *nat = opaque;
	short ev = 0;
	if (nat->n_fds == MAX_POLL) {
		fprintf(stderr, "umlkit-nat: more than %d open connections\n", MAX_POLL - 1);
		abort();
	}
	for (size_t i = 0; i < sizeof(poll_bits) / sizeof(poll_bits[0]); i++)
		if (events & poll_bits[i].slirp)
			ev |= (short)poll_bits[i].poll;
	nat->fds[nat->n_fds] = (struct pollfd){ fd, ev, 0 };
	return nat->n_fds++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct nat *nat = opaque;
	int ev = 0;
	for (size_t i = 0; i < sizeof(poll_bits) / sizeof(poll_bits[0]); i++)
		if (nat->fds[idx].revents & poll_bits[i].poll)
			ev |= poll_bits[i].slirp;
	return ev;
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

static void status(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(fd, "%s\n", line);
}

/* "tcp:127.0.0.1:8080:80" (umlkit-run has checked and normalised it) */
static int add_forward(Slirp *slirp, const char *spec, int status_fd)
{
	char proto[4], addr[16];
	unsigned host_port, guest_port;
	struct in_addr host, guest;
	if (sscanf(spec, "%3[a-z]:%15[0-9.]:%u:%u", proto, addr, &host_port, &guest_port) != 4 ||
	    inet_pton(AF_INET, addr, &host) != 1) {
		status(status_fd, "error: bad forward '%s'", spec);
		return -1;
	}
	inet_pton(AF_INET, "10.0.2.15", &guest);
	errno = 0;
	if (slirp_add_hostfwd(slirp, !strcmp(proto, "udp"), host, (int)host_port, guest, (int)guest_port) < 0) {
		if (errno == EADDRINUSE || errno == 0)
			status(status_fd, "error: --forward: %s port %s:%u on the host is in use", proto, addr,
			       host_port);
		else
			status(status_fd, "error: --forward %s: cannot listen on %s %s:%u: %s", spec, proto, addr,
			       host_port, strerror(errno));
		return -1;
	}
	return 0;
}

static void fire_timers(struct nat *nat)
{
	int64_t now = clock_ns() / 1000000;
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct timer *t = &nat->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= now) {
			t->expire_ms = -1;
			slirp_handle_timer(nat->slirp, t->id, t->cb_opaque);
		}
	}
}

static uint32_t timer_timeout(const struct nat *nat, uint32_t timeout)
{
	int64_t now = clock_ns() / 1000000;
	for (int i = 0; i < MAX_TIMERS; i++) {
		const struct timer *t = &nat->timers[i];
		int64_t left = t->expire_ms - now;
		if (!t->used || t->expire_ms < 0)
			continue;
		if (left < 0)
			left = 0;
		if ((uint64_t)left < timeout)
			timeout = (uint32_t)left;
	}
	return timeout;
}

/* Frames from the guest; 1 when the guest's end is closed. */
static int read_guest(struct nat *nat)
{
	for (int i = 0; i < FRAMES_PER_ROUND; i++) {
		ssize_t n = recv(nat->guest, nat->frame, sizeof(nat->frame), MSG_DONTWAIT);
		if (n > 0)
			slirp_input(nat->slirp, nat->frame, (int)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return 1;
		else
			break;
	}
	return 0;
}

/* The guest is gone (powered off): what slirp still holds for host
 * sockets, the tail of what the guest sent just before, is written out
 * while the peers take it (DRAIN_MS at most), then the process exits and
 * the sockets close. slirp asks to poll a socket for output only while it
 * holds data for it. */
static void drain(struct nat *nat)
{
	int64_t end = clock_ns() / 1000000 + DRAIN_MS;
	for (;;) {
		uint32_t timeout = UINT32_MAX;
		int64_t left = end - clock_ns() / 1000000;
		int rc, pending = 0;
		if (left <= 0)
			return;
		nat->n_fds = 0;
		slirp_pollfds_fill(nat->slirp, &timeout, cb_add_poll, nat);
		for (int i = 0; i < nat->n_fds; i++)
			pending |= nat->fds[i].events & POLLOUT;
		if (!pending)
			return;
		timeout = timer_timeout(nat, timeout);
		rc = poll(nat->fds, (nfds_t)nat->n_fds, timeout < left ? (int)timeout : (int)left);
		if (rc < 0 && errno != EINTR)
			return;
		slirp_pollfds_poll(nat->slirp, rc < 0, cb_get_revents, nat);
		fire_timers(nat);
	}
}

static int run(struct nat *nat)
{
	for (;;) {
		uint32_t timeout = UINT32_MAX;
		int rc;
		nat->n_fds = 0;
		cb_add_poll(nat->guest, SLIRP_POLL_IN, nat);
		slirp_pollfds_fill(nat->slirp, &timeout, cb_add_poll, nat);
		timeout = timer_timeout(nat, timeout);
		rc = poll(nat->fds, (nfds_t)nat->n_fds, timeout == UINT32_MAX ? -1 : (int)timeout);
		if (rc < 0 && errno != EINTR) {
			perror("umlkit-nat: poll");
			return 1;
		}
		if (nat->fds[0].revents & (POLLIN | POLLHUP | POLLERR) && read_guest(nat)) {
			drain(nat);
			return 0;
		}
		slirp_pollfds_poll(nat->slirp, rc < 0, cb_get_revents, nat);
		fire_timers(nat);
	}
}

int main(int argc, char **argv)
{
	static struct nat nat;
	SlirpConfig cfg = { 0 };
	char *end;
	int status_fd;
	long mtu;

	if (argc < 4) {
		fprintf(stderr, "usage: umlkit-nat GUEST_FD STATUS_FD MTU [PROTO:HOSTADDR:HOSTPORT:GUESTPORT]...\n");
		return 2;
	}
	nat.guest = atoi(argv[1]);
	status_fd = atoi(argv[2]);
	mtu = strtol(argv[3], &end, 10);
	if (*end || mtu < 576 || mtu > 65520) {
		status(status_fd, "error: umlkit-nat: bad MTU '%s'", argv[3]);
		return 2;
	}
	cfg.version = 4;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.if_mtu = cfg.if_mru = (size_t)mtu;
	cfg.vhostname = "umlkit";
	nat.slirp = slirp_new(&cfg, &callbacks, &nat);
	if (!nat.slirp) {
		status(status_fd, "error: umlkit-nat: libslirp refused its configuration");
		return 2;
	}
	for (int i = 4; i < argc; i++)
		if (add_forward(nat.slirp, argv[i], status_fd) < 0)
			return 2;
	status(status_fd, "ok");
	close(status_fd);
	fprintf(stderr, "umlkit-nat: libslirp %s, MTU %ld, %d forward(s)\n", slirp_version_string(), mtu,
		argc - 4);
	return run(&nat);
}
