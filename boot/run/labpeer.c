/* The channel between a lab's parts (docs/lab.md): TCP on the port the
 * trunk's UDP uses. The server opens with a fresh nonce; the client
 * answers with its request and HMAC-SHA-256(secret, tag, lab, nonce,
 * request). A wrong answer gets the connection closed, so nobody who can
 * reach the port but lacks the lab's secret runs anything, and a recorded
 * answer never works twice. The stream after it is not encrypted. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lab.h"
#include "run.h"

#define PEER_MAGIC "umlkitL1"
#define NONCE_BYTES 16
#define MAC_BYTES 32
#define PEER_CONNECT_MS 5000
#define PEER_HANDSHAKE_SECONDS 10

/* INSTANCE/+parts: "K N", then a line "HOST PORT" a part */
int lab_parts_save(const char *inst, const struct lab_parts *p)
{
	char text[LAB_MAX_PARTS * 300 + 32];
	size_t len = (size_t)snprintf(text, sizeof(text), "%d %d\n", p->part, p->n);
	char *path = xasprintf("%s/+parts", inst);
	int rc;
	for (int i = 0; i < p->n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %u\n", p->hosts[i], p->ports[i]);
	rc = write_file(path, text, len);
	free(path);
	return rc;
}

/* 0 with P filled (P->n == 0: the whole lab runs here), -1 if unreadable */
int lab_parts_load(const char *inst, struct lab_parts *p)
{
	char *path = xasprintf("%s/+parts", inst), *text = read_file_nofollow(path, 8192, NULL), *line;
	memset(p, 0, sizeof(*p));
	free(path);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	if (sscanf(text, "%d %d", &p->part, &p->n) != 2 || p->n < 1 || p->n > LAB_MAX_PARTS)
		return -1;
	line = strchr(text, '\n');
	for (int i = 0; i < p->n; i++) {
		if (!line || sscanf(line + 1, "%255s %u", p->hosts[i], &p->ports[i]) != 2)
			return -1;
		line = strchr(line + 1, '\n');
	}
	free(text);
	return 0;
}

/* the lab's secret, as start stored it (INSTANCE/+secret, 0600) */
char *lab_secret(const char *inst)
{
	char *path = xasprintf("%s/+secret", inst), *s = read_file_nofollow(path, 4096, NULL);
	free(path);
	return s;
}

/* HOST's first address of FAMILY (AF_UNSPEC: any) with PORT; 0 or -1 */
int lab_resolve(const char *host, unsigned port, int family, struct sockaddr_storage *sa, socklen_t *len)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM }, *res;
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -1;
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void peer_mac(const char *secret, const char *lab, const unsigned char *nonce, const char *req,
		     size_t req_len, unsigned char mac[MAC_BYTES])
{
	const void *parts[4] = { PEER_MAGIC, lab, nonce, req };
	size_t lens[4] = { sizeof(PEER_MAGIC), strlen(lab) + 1, NONCE_BYTES, req_len };
	hmac_sha256(secret, strlen(secret), parts, lens, 4, mac);
}

static int read_exactly(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Server side, on a new connection FD: the request (NUL-terminated in
 * REQ, REQ_MAX bytes at most) once its sender proved the secret; -1 else. */
int lab_peer_accept(int fd, const char *lab, const char *secret, char *req, size_t req_max, size_t *req_len)
{
	unsigned char hello[sizeof(PEER_MAGIC) - 1 + NONCE_BYTES], len_be[2], mac[MAC_BYTES], want[MAC_BYTES];
	unsigned char *nonce = hello + sizeof(PEER_MAGIC) - 1, ok = 'y';
	size_t len;
	set_timeout(fd, PEER_HANDSHAKE_SECONDS);
	memcpy(hello, PEER_MAGIC, sizeof(PEER_MAGIC) - 1);
	if (getrandom(nonce, NONCE_BYTES, 0) != NONCE_BYTES || write_all(fd, hello, sizeof(hello)) < 0 ||
	    read_exactly(fd, len_be, 2) < 0)
		return -1;
	len = (size_t)len_be[0] << 8 | len_be[1];
	if (len >= req_max || read_exactly(fd, req, len) < 0 || read_exactly(fd, mac, MAC_BYTES) < 0)
		return -1;
	req[len] = '\0';
	peer_mac(secret, lab, nonce, req, len, want);
	if (!equal_in_constant_time(mac, want, MAC_BYTES))
		return -1;
	set_timeout(fd, 0);
	*req_len = len;
	return write_all(fd, &ok, 1);
}

/* A TCP connection to SA within PEER_CONNECT_MS; -1 with errno */
static int connect_within(const struct sockaddr_storage *sa, socklen_t len)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
	socklen_t err_len = sizeof(err);
	struct pollfd p;
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, len) < 0 && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){ fd, POLLOUT, 0 };
	if (poll(&p, 1, PEER_CONNECT_MS) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err) {
		errno = err ? err : errno;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Client side: REQ (REQ_LEN bytes) sent to part PART of INSTANCE's lab,
 * authenticated; the connection, or -1 after saying why. */
int lab_part_request(struct run *r, const char *inst, int part, const char *req, size_t req_len)
{
	struct lab_parts p;
	struct sockaddr_storage sa;
	socklen_t sa_len;
	unsigned char hello[sizeof(PEER_MAGIC) - 1 + NONCE_BYTES], len_be[2] = { (unsigned char)(req_len >> 8),
		(unsigned char)req_len }, mac[MAC_BYTES], ok = 0;
	char *secret = lab_secret(inst);
	int fd;
	if (lab_parts_load(inst, &p) < 0 || !secret || part < 1 || part > p.n) {
		say(r->prog, "part %d: this part's lab files are unreadable (boot.sh stop; boot.sh start)", part);
		return -1;
	}
	if (lab_resolve(p.hosts[part - 1], p.ports[part - 1], AF_UNSPEC, &sa, &sa_len) < 0) {
		say(r->prog, "part %d: cannot resolve its address '%s'", part, p.hosts[part - 1]);
		return -1;
	}
	if ((fd = connect_within(&sa, sa_len)) < 0) {
		say(r->prog, "part %d at %s port %u: %s", part, p.hosts[part - 1], p.ports[part - 1], strerror(errno));
		return -1;
	}
	set_timeout(fd, PEER_HANDSHAKE_SECONDS);
	if (read_exactly(fd, hello, sizeof(hello)) < 0 || memcmp(hello, PEER_MAGIC, sizeof(PEER_MAGIC) - 1)) {
		say(r->prog, "part %d at %s port %u: not a umlkit lab part", part, p.hosts[part - 1], p.ports[part - 1]);
		close(fd);
		return -1;
	}
	peer_mac(secret, r->conf.lab, hello + sizeof(PEER_MAGIC) - 1, req, req_len, mac);
	if (write_all(fd, len_be, 2) < 0 || write_all(fd, req, req_len) < 0 || write_all(fd, mac, MAC_BYTES) < 0 ||
	    read_exactly(fd, &ok, 1) < 0 || ok != 'y') {
		say(r->prog, "part %d at %s port %u refused this part: is UMLKIT_LAB_SECRET the same on both?", part,
		    p.hosts[part - 1], p.ports[part - 1]);
		close(fd);
		return -1;
	}
	set_timeout(fd, 0);
	free(secret);
	return fd;
}
