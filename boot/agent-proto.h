/* The lab agent's protocol (docs/lab.md): frames on a raw console line
 * between a lab machine's supervisor on the host and umlkit-init's agent
 * in the guest, and the same frames on a machine's control socket between
 * the supervisor and boot.sh exec. A frame: type, session, payload length
 * (big-endian), payload. Shared by the guest init and the host runtime.
 * A session number is the host's to give; after its EXIT (or when the
 * client leaves) the host sends CLOSE and reuses the number only after the
 * agent's CLOSED, so no output of an old command, nor a forged EXIT, ever
 * reaches the next command's client. */
#ifndef UMLKIT_AGENT_PROTO_H
#define UMLKIT_AGENT_PROTO_H

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* The agent's console line: UML's last (con15, /dev/tty15 in the guest),
 * past the tty1-tty6 that sysvinit's inittab and systemd's autovt give
 * gettys, so no image's init can take it from the agent. */
#define AGENT_CONSOLE_LINE 15
#define AGENT_TTY "/dev/tty15"
#define AGENT_HEADER 4
#define AGENT_MAX_PAYLOAD 4096
#define AGENT_MAX_SESSIONS 32
/* Flow control toward the guest: the host keeps at most AGENT_WINDOW bytes
 * unacknowledged on the line, so the guest's tty buffer (4 KiB) never
 * fills. A full buffer throttles UML's console line, and UML does not
 * always resume reading it (seen: after 20 KB of stdin, the line took no
 * more input). Frames toward the guest carry at most AGENT_MAX_IN. */
#define AGENT_WINDOW 3072
#define AGENT_MAX_IN 1024
#define AGENT_MAX_ARGV (AGENT_WINDOW - AGENT_HEADER)

enum agent_frame {
	AGENT_EXEC = 'E',	/* host: argv, NUL-separated */
	AGENT_STDIN = 'I',	/* host: data for the command's stdin */
	AGENT_STDIN_EOF = 'i',	/* host: its stdin ended */
	AGENT_KILL = 'K',	/* host: payload: a signal number (1 byte) for the command */
	AGENT_CLOSE = 'Z',	/* host: the session is over: end its command, forget it */
	AGENT_PING = 'P',	/* host: are you there? (answered by the ACK of any read) */
	AGENT_STDOUT = 'O',	/* guest: the command's stdout */
	AGENT_STDERR = 'R',	/* guest: its stderr */
	AGENT_EXIT = 'X',	/* guest: its status, 1 byte (128+N: signal N) */
	AGENT_ACK = 'A',	/* guest: bytes taken off the line, 4 bytes big-endian */
	AGENT_CLOSED = 'z',	/* guest: the session is forgotten: its number may be reused */
	AGENT_FAIL = 'F',	/* supervisor to exec client: the agent is lost; payload: why */
};

static inline void agent_header(unsigned char *h, int type, int session, size_t len)
{
	h[0] = (unsigned char)type;
	h[1] = (unsigned char)session;
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)(len & 0xff);
}

static inline size_t agent_length(const unsigned char *h)
{
	return ((size_t)h[2] << 8) | h[3];
}

/* All of DATA to FD (a socket, pipe, tty or pty), waiting out a full
 * non-blocking one; -1 when FD is gone. */
static inline int agent_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
