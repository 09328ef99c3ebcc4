/* A lab machine's start, in umlkit-init (docs/lab.md), as Kathara does it:
 * the lab directory is at /hostlab and shared/ at /shared (both mounted by
 * the runtime's shares); NAME/ is copied onto the root, the hostname set,
 * the agent started (boot.sh exec), then shared.startup and NAME.startup
 * run, their output on the machine's console, and their status goes to
 * RUN_DIR/startup for `boot.sh start` to wait on. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../agent-proto.h"

#include "init-agent.h"
#include "init-lab.h"

static void lab_warn(const char *what, const char *path)
{
	dprintf(2, "umlkit-init: %s %s: %s\n", what, path, strerror(errno));
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	if (in < 0)
		return -1;
	unlink(to);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (close(out) < 0 || n < 0)
		return -1;
	return chmod(to, mode & 07777);
}

/* cp -a FROM/. TO, owned by root (the host user's files become root's) */
static void copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char src[PATH_MAX], dst[PATH_MAX], target[PATH_MAX];
		struct stat st;
		ssize_t n;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(src, sizeof(src), "%s/%s", from, e->d_name) >= (int)sizeof(src) ||
		    snprintf(dst, sizeof(dst), "%s/%s", strcmp(to, "/") ? to : "", e->d_name) >= (int)sizeof(dst) ||
		    lstat(src, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST)
				lab_warn("cannot create", dst);
			copy_tree(src, dst);
		} else if (S_ISLNK(st.st_mode) && (n = readlink(src, target, sizeof(target) - 1)) >= 0) {
			target[n] = '\0';
			unlink(dst);
			if (symlink(target, dst) < 0)
				lab_warn("cannot create", dst);
		} else if (S_ISREG(st.st_mode) && copy_file(src, dst, st.st_mode) < 0) {
			lab_warn("cannot copy", dst);
		}
		lchown(dst, 0, 0);
	}
	closedir(d);
}

/* KEY=VALUE lines (lab.conf's NAME[env]) for the startup scripts and exec */
static void set_env(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\n")] = '\0';
		if (eq) {
			*eq = '\0';
			setenv(line, eq + 1, 1);
		}
	}
	if (f)
		fclose(f);
}

/* sh SCRIPT, if there is one; its status (0 when absent) */
static int run_script(const char *script)
{
	int status;
	pid_t pid;
	if (access(script, R_OK) < 0)
		return 0;
	pid = fork();
	if (pid == 0) {
		if (chdir("/") < 0)
			_exit(126);
		execl("/bin/sh", "sh", script, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 126;
	return pid < 0 ? 126 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Kathara's defaults on every machine (its docker runtime sets these),
 * before any startup script: routers forward, asymmetric paths are not
 * dropped, and ping floods are answered at once. */
static void kathara_sysctls(void)
{
	static const char *const settings[][2] = {
		{ "/proc/sys/net/ipv4/ip_forward", "1" },
		{ "/proc/sys/net/ipv4/conf/all/rp_filter", "0" },
		{ "/proc/sys/net/ipv4/conf/default/rp_filter", "0" },
		{ "/proc/sys/net/ipv4/icmp_ratelimit", "0" },
	};
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		int fd = open(settings[i][0], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, settings[i][1], 1) != 1)
			lab_warn("cannot set", settings[i][0]);
		if (fd >= 0)
			close(fd);
	}
}

/* KEY=VALUE into /proc/sys/KEY ('.' a level, as sysctl(8); a key with a
 * '/' is a path already, for interface names with dots) */
static int set_sysctl(const char *line)
{
	char path[PATH_MAX], *eq;
	size_t key;
	int fd, rc;
	eq = strchr(line, '=');
	if (!eq || (key = (size_t)(eq - line)) >= sizeof(path) - 10)
		return -1;
	snprintf(path, sizeof(path), "/proc/sys/%.*s", (int)key, line);
	if (!memchr(line, '/', key))
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = write(fd, eq + 1, strlen(eq + 1)) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

/* The machine's sysctl file (the lab's NAME[ipv6] and NAME[sysctl]), after
 * Kathara's defaults; IPv6 turned off where the kernel has none is no news */
static void lab_sysctls(const char *run_dir)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/sysctl", run_dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line || set_sysctl(line) == 0)
			continue;
		if (errno == ENOENT && strstr(line, ".disable_ipv6=1"))
			continue;
		lab_warn("cannot set sysctl", line);
	}
	if (f)
		fclose(f);
}

void lab_start(const char *run_dir, const char *name)
{
	char path[PATH_MAX], code[16];
	int status, own, fd;

	kathara_sysctls();
	lab_sysctls(run_dir);
	snprintf(path, sizeof(path), "/hostlab/%s", name);
	copy_tree(path, "/");
	fd = open("/etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%s\n", name) < 0)
		lab_warn("cannot write", "/etc/hostname");
	if (fd >= 0)
		close(fd);
	if (sethostname(name, strlen(name)) < 0)
		lab_warn("cannot set the hostname", name);
	snprintf(path, sizeof(path), "%s/env", run_dir);
	set_env(path);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	if (agent_start(AGENT_TTY) < 0)
		lab_warn("cannot start the agent on", AGENT_TTY);
	/* as Kathara: NAME.startup runs even when shared.startup failed; the
	 * machine's status is the first failure */
	status = run_script("/hostlab/shared.startup");
	snprintf(path, sizeof(path), "/hostlab/%s.startup", name);
	own = run_script(path);
	if (!status)
		status = own;
	snprintf(path, sizeof(path), "%s/startup", run_dir);
	snprintf(code, sizeof(code), "%d\n", status);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, code, strlen(code)) < 0)
		lab_warn("cannot write", path);
	if (fd >= 0)
		close(fd);
}
