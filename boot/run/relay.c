/* A relay: one stream copied from its input to its output through a
 * buffer, with everything that passes also shown to a tap (the boot log's
 * ring, the TAP/KTAP parser, a lab machine's console clients). The single
 * guest's supervisor (supervise.c) runs one per stream; a lab machine's
 * (labmachine.c) runs one for its console. Each caller's poll loop decides
 * when to read and write; the relay only moves bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include "run.h"

void relay_init(struct relay *rl, int in, int out, int required)
{
	rl->in = in;
	rl->out = out;
	rl->required = required;
	rl->eof = 0;
	rl->tap = NULL;
	rl->tap_ctx = NULL;
	rl->len = rl->off = 0;
}

/* What the relay waits for, as a poll entry: room to write what it holds,
 * else its input; 0 when it waits for nothing (ended, nowhere to write). */
int relay_poll(const struct relay *rl, struct pollfd *pfd)
{
	if (rl->len && rl->out >= 0)
		*pfd = (struct pollfd){ rl->out, POLLOUT, 0 };
	else if (!rl->eof)
		*pfd = (struct pollfd){ rl->in, POLLIN, 0 };
	else
		return 0;
	return 1;
}

/* Reads once into the empty buffer and shows it to the tap. End of file,
 * or EIO from a pty whose other side closed, ends the relay. */
void relay_read(struct relay *rl)
{
	ssize_t n = read(rl->in, rl->buf, sizeof(rl->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		rl->eof = 1;
		return;
	}
	if (rl->tap)
		rl->tap(rl->tap_ctx, rl->buf, (size_t)n);
	if (rl->out < 0)
		return;
	rl->len = (size_t)n;
	rl->off = 0;
}

/* Moves what is buffered to the output: all of it when BLOCK, else what
 * one POLLOUT promises room for. 0, or the errno of a failed write, after
 * which the output is dropped (-1) and what was buffered with it. */
int relay_write(struct relay *rl, int block)
{
	while (rl->off < rl->len) {
		size_t chunk = rl->len - rl->off;
		ssize_t n;
		if (!block && chunk > PIPE_BUF)
			chunk = PIPE_BUF;
		n = write(rl->out, rl->buf + rl->off, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			int err = errno;
			rl->out = -1;
			rl->len = rl->off = 0;
			return err;
		}
		rl->off += (size_t)n;
		if (!block)
			break;
	}
	if (rl->off == rl->len)
		rl->len = rl->off = 0;
	return 0;
}
