/* umlkit-switch: one virtual Ethernet segment, a learning switch between
 * guests, each connected by a SOCK_SEQPACKET unix socket (one message, one
 * frame) that UML's vector driver uses as its transport (transport=fd).
 *
 * Usage: umlkit-switch LISTEN_FD LOCK_FILE SOCKET_FILE
 *
 * The first guest to join a switch binds and listens on SOCKET_FILE (in the
 * user's own runtime directory, mode 0700), then starts this program with
 * that socket, under an flock on LOCK_FILE; later guests connect to it. The
 * switch ends when its last guest leaves (or when none came within
 * IDLE_SECONDS): it takes the lock, so no guest is joining, and removes
 * SOCKET_FILE and LOCK_FILE (a joiner checks that the file it locked is
 * still the one at LOCK_FILE). A SIGKILLed guest closes its socket like
 * any other, so no switch outlives its guests.
 *
 * A frame goes to the port its destination address was last seen on, or to
 * every other port (broadcast, multicast, unknown). Each port has a queue
 * of its own; a guest that does not read loses frames once its queue is
 * full, and slows no other. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 254
#define MAX_FRAME (65536 + 64)
#define QUEUE_BYTES (2 << 20)	/* per port */
#define FRAMES_PER_ROUND 32
#define IDLE_SECONDS 5

struct frame {
	struct frame *next;
	size_t len;
	unsigned char data[];
};

struct port {
	int fd;
	unsigned char mac[6];	/* last source address seen; a guest has one */
	int has_mac;
	struct frame *head, *tail;
	size_t queued;
	unsigned long dropped;
};

struct sw {
	int listen_fd;
	struct port ports[MAX_PORTS];
	int n_ports, ever_joined;
	unsigned char buf[MAX_FRAME];
};

static void port_flush(struct port *p)
{
	while (p->head) {
		struct frame *f = p->head;
		ssize_t n = send(p->fd, f->data, f->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* sent, or the port is going (its read side will tell) */
		p->head = f->next;
		p->queued -= f->len;
		free(f);
	}
	p->tail = NULL;
}

static void port_send(struct port *p, const unsigned char *data, size_t len)
{
	struct frame *f;
	if (!p->head) {
		ssize_t n = send(p->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return;
	}
	if (p->queued + len > QUEUE_BYTES || !(f = malloc(sizeof(*f) + len))) {
		p->dropped++;
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	if (p->tail)
		p->tail->next = f;
	else
		p->head = f;
	p->tail = f;
	p->queued += len;
}

static void port_close(struct sw *sw, int i)
{
	struct port *p = &sw->ports[i];
	while (p->head) {
		struct frame *f = p->head;
		p->head = f->next;
		free(f);
	}
	close(p->fd);
	sw->ports[i] = sw->ports[--sw->n_ports];
}

static void forward(struct sw *sw, int from, const unsigned char *frame, size_t len)
{
	const unsigned char *dst = frame, *src = frame + 6;
	struct port *in = &sw->ports[from];
	if (len < 14)
		return;
	memcpy(in->mac, src, 6);
	in->has_mac = 1;
	if (!(dst[0] & 1)) {
		for (int i = 0; i < sw->n_ports; i++)
			if (i != from && sw->ports[i].has_mac && !memcmp(sw->ports[i].mac, dst, 6)) {
				port_send(&sw->ports[i], frame, len);
				return;
			}
	}
	for (int i = 0; i < sw->n_ports; i++)
		if (i != from)
			port_send(&sw->ports[i], frame, len);
}

/* Frames from port I; -1 when it has gone. */
static int port_read(struct sw *sw, int i)
{
	for (int k = 0; k < FRAMES_PER_ROUND; k++) {
		ssize_t n = recv(sw->ports[i].fd, sw->buf, sizeof(sw->buf), MSG_DONTWAIT);
		if (n > 0)
			forward(sw, i, sw->buf, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
		else
			break;
	}
	return 0;
}

static void accept_port(struct sw *sw)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(sw->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* the directory is the user's own; a peer of another uid is refused anyway */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid() ||
	    sw->n_ports == MAX_PORTS) {
		close(fd);
		return;
	}
	sw->ports[sw->n_ports++] = (struct port){ .fd = fd };
	sw->ever_joined = 1;
}

/* With nobody on the switch: end, unless a guest is joining right now. */
static int may_end(struct sw *sw, const char *lock_file, const char *socket_file)
{
	struct pollfd p = { sw->listen_fd, POLLIN, 0 };
	int lock = open(lock_file, O_RDWR | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return 1;	/* the directory went: nobody can join */
	if (poll(&p, 1, 0) > 0) {
		close(lock);
		return 0;
	}
	unlink(socket_file);
	unlink(lock_file);	/* under the lock: a joiner that opened it retries */
	return 1;		/* the lock goes with the process */
}

int main(int argc, char **argv)
{
	static struct sw sw;
	if (argc != 4) {
		fprintf(stderr, "usage: umlkit-switch LISTEN_FD LOCK_FILE SOCKET_FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sw.listen_fd = atoi(argv[1]);
	if (fcntl(sw.listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		perror("umlkit-switch: listening socket");
		return 2;
	}
	for (;;) {
		struct pollfd pfd[MAX_PORTS + 1];
		int n = 0, rc;
		pfd[n++] = (struct pollfd){ sw.listen_fd, POLLIN, 0 };
		for (int i = 0; i < sw.n_ports; i++)
			pfd[n++] = (struct pollfd){ sw.ports[i].fd,
						    (short)(POLLIN | (sw.ports[i].head ? POLLOUT : 0)), 0 };
		rc = poll(pfd, (nfds_t)n, sw.ever_joined ? -1 : IDLE_SECONDS * 1000);
		if (rc < 0 && errno != EINTR) {
			perror("umlkit-switch: poll");
			return 1;
		}
		/* ports from the end, so closing one moves only those already seen */
		for (int i = n - 1; i >= 1; i--) {
			short ev = pfd[i].revents;
			if (ev & POLLOUT)
				port_flush(&sw.ports[i - 1]);
			if (ev & (POLLIN | POLLHUP | POLLERR) && port_read(&sw, i - 1) < 0)
				port_close(&sw, i - 1);
		}
		if (pfd[0].revents & POLLIN)
			accept_port(&sw);
		if ((rc == 0 || sw.ever_joined) && sw.n_ports == 0 && may_end(&sw, argv[2], argv[3]))
			return 0;
	}
}
