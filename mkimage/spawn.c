#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

pid_t spawn(char *const argv[], int in_fd, int out_fd)
{
	return spawn_io(argv, in_fd, out_fd, -1);
}

pid_t spawn_io(char *const argv[], int in_fd, int out_fd, int err_fd)
{
	pid_t pid = fork();
	if (pid < 0) {
		error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (out_fd == -2)
			out_fd = open("/dev/null", O_WRONLY);
		if (in_fd >= 0 && dup2(in_fd, 0) < 0)
			_exit(127);
		if (out_fd >= 0 && dup2(out_fd, 1) < 0)
			_exit(127);
		if (err_fd >= 0 && dup2(err_fd, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		error("cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int spawn_wait(pid_t pid, const char *argv0)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return error("waitpid %s: %s", argv0, strerror(errno));
	}
	if (WIFSIGNALED(status))
		return error("%s killed by signal %d", argv0, WTERMSIG(status));
	if (WEXITSTATUS(status) == 127)
		return -1;
	return WEXITSTATUS(status);
}

int run(char *const argv[], int out_fd)
{
	pid_t pid = spawn(argv, -1, out_fd);
	return pid < 0 ? -1 : spawn_wait(pid, argv[0]);
}

int run_capture(char *const argv[], struct buf *out)
{
	int fds[2];
	char chunk[8192];
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return error("pipe: %s", strerror(errno));
	pid = spawn(argv, -1, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	if (!out->data)
		buf_add(out, "", 0);
	return spawn_wait(pid, argv[0]);
}
