/* The lab agent, in the guest: runs the commands of `boot.sh exec NAME --
 * CMD` with their own stdin, stdout and stderr, and reports their status.
 * Frames (boot/agent-proto.h) come and go on a raw console line the
 * machine's supervisor holds the other end of. A session a command; its
 * output goes out as it comes, its exit status after the last of it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../agent-proto.h"
#include "init-agent.h"

#define STDIN_LIMIT (32 << 20)	/* bytes held for a command that does not read */

struct session {
	int used, id;
	pid_t pid;
	int in, out, err;	/* our ends of its pipes; -1 when closed */
	unsigned char *pending;	/* stdin not yet written */
	size_t pending_len, pending_off;
	int in_eof, exited, status;
};

struct agent {
	int tty, sfd;
	struct session s[AGENT_MAX_SESSIONS];
	unsigned char rbuf[AGENT_HEADER + AGENT_MAX_PAYLOAD];
	size_t rlen;
};

static void send_frame(struct agent *a, int type, int id, const void *data, size_t len)
{
	unsigned char h[AGENT_HEADER];
	agent_header(h, type, id, len);
	if (agent_write_all(a->tty, h, sizeof(h)) < 0 || (len && agent_write_all(a->tty, data, len) < 0))
		_exit(1);	/* the host end is gone: nothing to serve */
}

static struct session *find(struct agent *a, int id)
{
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (a->s[i].used && a->s[i].id == id)
			return &a->s[i];
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void child(char **argv, int in, int out, int err)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (chdir("/root") < 0 && chdir("/") < 0)
		_exit(126);
	setenv("HOME", "/root", 1);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	execvp(argv[0], argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static void start(struct agent *a, int id, unsigned char *payload, size_t len)
{
	char *argv[256];
	int argc = 0, in[2], out[2], err[2];
	struct session *s = NULL;
	unsigned char code = 126;
	for (int i = 0; i < AGENT_MAX_SESSIONS && !s; i++)
		if (!a->s[i].used)
			s = &a->s[i];
	if (!s || !len || payload[len - 1] != '\0') {
		send_frame(a, AGENT_EXIT, id, &code, 1);
		return;
	}
	for (size_t off = 0; off < len && argc < 255; off += strlen((char *)payload + off) + 1)
		argv[argc++] = (char *)payload + off;
	argv[argc] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		send_frame(a, AGENT_EXIT, id, &code, 1);
		return;
	}
	*s = (struct session){ .used = 1, .id = id, .in = in[1], .out = out[0], .err = err[0] };
	s->pid = fork();
	if (s->pid == 0)
		child(argv, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(s->in, F_SETFL, O_NONBLOCK);
	if (s->pid < 0) {
		s->exited = 1;
		s->status = 126;
		close_fd(&s->in);
	}
}

static void flush_stdin(struct session *s)
{
	while (s->in >= 0 && s->pending_off < s->pending_len) {
		ssize_t n = write(s->in, s->pending + s->pending_off, s->pending_len - s->pending_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {	/* it closed its stdin: the rest is dropped */
			close_fd(&s->in);
			break;
		}
		s->pending_off += (size_t)n;
	}
	s->pending_len = s->pending_off = 0;
	if (s->in_eof)
		close_fd(&s->in);
}

/* A session the host closed: its command (if still running) is killed and
 * reaped later by pid like any child; nothing of it is sent any more. */
static void forget(struct session *s)
{
	if (s->pid > 0 && !s->exited)
		kill(-s->pid, SIGKILL);
	close_fd(&s->in);
	close_fd(&s->out);
	close_fd(&s->err);
	free(s->pending);
	*s = (struct session){ 0 };
}

static void on_frame(struct agent *a, int type, int id, unsigned char *payload, size_t len)
{
	struct session *s = find(a, id);
	if (type == AGENT_EXEC) {
		if (!s)
			start(a, id, payload, len);
		return;
	}
	if (type == AGENT_CLOSE) {
		if (s)
			forget(s);
		send_frame(a, AGENT_CLOSED, id, NULL, 0);
		return;
	}
	if (!s)
		return;
	if (type == AGENT_STDIN && s->in >= 0) {
		if (s->pending_len + len > STDIN_LIMIT) {
			close_fd(&s->in);	/* a command that reads nothing sees EOF */
			return;
		}
		unsigned char *more = realloc(s->pending, s->pending_len + len);
		if (!more)
			return;
		s->pending = more;
		memcpy(s->pending + s->pending_len, payload, len);
		s->pending_len += len;
		flush_stdin(s);
	} else if (type == AGENT_STDIN_EOF) {
		s->in_eof = 1;
		if (s->pending_off >= s->pending_len)
			close_fd(&s->in);
	} else if (type == AGENT_KILL && len == 1 && s->pid > 0 && !s->exited) {
		kill(-s->pid, payload[0]);
	}
}

static void read_tty(struct agent *a)
{
	ssize_t n = read(a->tty, a->rbuf + a->rlen, sizeof(a->rbuf) - a->rlen);
	unsigned char ack[4];
	if (n == 0)
		_exit(0);
	if (n < 0)
		return;
	a->rlen += (size_t)n;
	ack[0] = (unsigned char)(n >> 24), ack[1] = (unsigned char)(n >> 16);
	ack[2] = (unsigned char)(n >> 8), ack[3] = (unsigned char)n;
	send_frame(a, AGENT_ACK, 0, ack, sizeof(ack));
	for (;;) {
		size_t len;
		if (a->rlen < AGENT_HEADER)
			return;
		len = agent_length(a->rbuf);
		if (len > AGENT_MAX_PAYLOAD)
			_exit(1);	/* out of step: the host restarts nothing, so stop */
		if (a->rlen < AGENT_HEADER + len)
			return;
		on_frame(a, a->rbuf[0], a->rbuf[1], a->rbuf + AGENT_HEADER, len);
		a->rlen -= AGENT_HEADER + len;
		memmove(a->rbuf, a->rbuf + AGENT_HEADER + len, a->rlen);
	}
}

static void relay_output(struct agent *a, struct session *s, int *fd, int type)
{
	unsigned char buf[AGENT_MAX_PAYLOAD];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n > 0)
		send_frame(a, type, s->id, buf, (size_t)n);
	else if (n == 0 || errno != EINTR)
		close_fd(fd);
}

static void reap(struct agent *a)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int status;
	while (read(a->sfd, &si, sizeof(si)) == sizeof(si))
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
			if (a->s[i].used && a->s[i].pid == pid) {
				a->s[i].exited = 1;
				a->s[i].status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			}
}

/* A session ends once its command exited and its output is all out. */
static void finish(struct agent *a)
{
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++) {
		struct session *s = &a->s[i];
		unsigned char code;
		if (!s->used || !s->exited || s->out >= 0 || s->err >= 0)
			continue;
		code = (unsigned char)s->status;
		send_frame(a, AGENT_EXIT, s->id, &code, 1);
		forget(s);
	}
}

static void agent_loop(struct agent *a)
{
	for (;;) {
		struct pollfd pfd[2 + 3 * AGENT_MAX_SESSIONS];
		struct session *who[2 + 3 * AGENT_MAX_SESSIONS];
		int n = 0;
		pfd[n] = (struct pollfd){ a->tty, POLLIN, 0 }, who[n++] = NULL;
		pfd[n] = (struct pollfd){ a->sfd, POLLIN, 0 }, who[n++] = NULL;
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++) {
			struct session *s = &a->s[i];
			if (!s->used)
				continue;
			if (s->out >= 0)
				pfd[n] = (struct pollfd){ s->out, POLLIN, 0 }, who[n++] = s;
			if (s->err >= 0)
				pfd[n] = (struct pollfd){ s->err, POLLIN, 0 }, who[n++] = s;
			if (s->in >= 0 && s->pending_off < s->pending_len)
				pfd[n] = (struct pollfd){ s->in, POLLOUT, 0 }, who[n++] = s;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[0].revents)
			read_tty(a);
		if (pfd[1].revents)
			reap(a);
		for (int i = 2; i < n; i++) {
			struct session *s = who[i];
			if (!pfd[i].revents || !s->used)
				continue;
			if (pfd[i].fd == s->out)
				relay_output(a, s, &s->out, AGENT_STDOUT);
			else if (pfd[i].fd == s->err)
				relay_output(a, s, &s->err, AGENT_STDERR);
			else if (pfd[i].fd == s->in)
				flush_stdin(s);
		}
		finish(a);
	}
}

/* Forks the agent on console line TTY; returns its pid (or -1). */
pid_t agent_start(const char *tty)
{
	pid_t pid = fork();
	if (pid == 0) {
		static struct agent a;
		struct termios t;
		sigset_t chld;
		/* the line is this session's controlling terminal: no command
		 * that opens it can take it, and none hangs it up by exiting
		 * (a session leader's exit hangs up its controlling tty, and
		 * UML then closes the host's end of the line for good) */
		setsid();
		a.tty = open(tty, O_RDWR | O_CLOEXEC);
		if (a.tty < 0 || ioctl(a.tty, TIOCSCTTY, 0) < 0 || tcgetattr(a.tty, &t) < 0)
			_exit(1);
		cfmakeraw(&t);
		if (tcsetattr(a.tty, TCSANOW, &t) < 0)
			_exit(1);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		a.sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
		if (a.sfd < 0)
			_exit(1);
		agent_loop(&a);
	}
	return pid;
}
