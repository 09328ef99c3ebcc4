/* umlkit-init: PID 1 of a umlkit guest.
 *
 * boot.sh names a run directory on the host (kernel parameter
 * umlkit.run=DIR), mounted here through hostfs. From it this init reads
 * what to do:
 *   mode     "command" or "login"
 *   args     the command, NUL-separated (command mode)
 *   stdin    the host's standard input, spooled (when it is not a terminal)
 *   ttys     which host streams are terminals: "in out err" as 0/1
 *   shares   host directories to mount: "HOSTDIR\tGUESTDIR\tro|rw" lines
 *   net      network interfaces to set up (init-net.c)
 *   mode     also "lab NAME": a lab machine (init-lab.c), then login mode
 * In command mode it mounts proc, sys, dev and the disks in /etc/fstab,
 * runs the command with stdin, stdout and stderr on the console lines
 * boot.sh wired to the host (tty1: terminal, tty2: stdout, tty3: stderr),
 * writes its exit status to "status" and to /proc/exitcode, and powers off.
 * In login mode it mounts the shares and hands over to /sbin/init.
 * Before all that, a read-only root image with umlkit.overlay on the
 * kernel command line is made writable under a tmpfs overlay
 * (init-overlay.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "init-drain.h"
#include "init-firstboot.h"
#include "init-lab.h"
#include "init-net.h"
#include "init-overlay.h"

#define RUN_DIR "/run/umlkit"
/* for peers to acknowledge what the command sent last (init-drain.c) */
#define DRAIN_MS 3000

static void warn(const char *what, const char *arg)
{
	dprintf(2, "umlkit-init: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
		strerror(errno));
}

/* Read a whole file into a NUL-terminated buffer; NULL if absent. */
static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	size_t size = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;
		if (size + 4096 + 1 > cap) {
			char *bigger = realloc(data, cap = (size + 4096 + 1) * 2);
			if (!bigger) {
				free(data);
				close(fd);
				return NULL;
			}
			data = bigger;
		}
		n = read(fd, data + size, cap - size - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	if (!data)
		data = calloc(1, 1);
	if (data)
		data[size] = '\0';
	if (len)
		*len = size;
	return data;
}

/* mkdir -p: a share's guest path may name directories the image lacks */
static void make_dirs(const char *path)
{
	char *copy = strdup(path), *slash;
	if (!copy)
		return;
	for (slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(copy, 0755);
		*slash = '/';
	}
	mkdir(copy, 0755);
	free(copy);
}

static void mount_fs(const char *source, const char *target, const char *type,
		     unsigned long flags, const char *data)
{
	make_dirs(target);
	if (mount(source, target, type, flags, data) < 0 && errno != EBUSY)
		warn("mount", target);
}

static void mount_basics(void)
{
	mount_fs("proc", "/proc", "proc", 0, NULL);
	mount_fs("sysfs", "/sys", "sysfs", 0, NULL);
	mount_fs("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	/* the root may be read-only (squashfs): /run and /tmp are tmpfs */
	mount_fs("tmpfs", "/run", "tmpfs", 0, "mode=0755");
	mount_fs("tmpfs", "/tmp", "tmpfs", 0, "mode=1777");
	/* /var/lock is /run/lock on Debian: services' init.d scripts (apache2's)
	 * lock there, and no boot script of an image that starts no runlevel
	 * makes it */
	if (mkdir("/run/lock", 01777) == 0 && chmod("/run/lock", 01777) < 0)
		warn("chmod", "/run/lock");
}

/* Disks from /etc/fstab that are block devices (not proc, tmpfs, ...). */
static void mount_fstab(void)
{
	FILE *f = setmntent("/etc/fstab", "r");
	struct mntent *m;
	if (!f)
		return;
	while ((m = getmntent(f))) {
		struct stat st;
		if (hasmntopt(m, "noauto") || stat(m->mnt_fsname, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		mkdir(m->mnt_dir, 0755);
		if (mount(m->mnt_fsname, m->mnt_dir, m->mnt_type, 0, NULL) < 0)
			warn("mount", m->mnt_dir);
	}
	endmntent(f);
}

/* "HOST\tGUEST\tro|rw" lines; HOST is relative to hostfs's root. */
static void mount_shares(void)
{
	char *list = slurp(RUN_DIR "/shares", NULL), *line, *save = NULL;
	if (!list)
		return;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *guest = strchr(line, '\t'), *mode;
		if (!guest)
			continue;
		*guest++ = '\0';
		mode = strchr(guest, '\t');
		if (mode)
			*mode++ = '\0';
		mount_fs("none", guest, "hostfs", mode && !strcmp(mode, "rw") ? 0 : MS_RDONLY, line);
	}
	free(list);
}

/* The value of kernel parameter NAME ("NAME=VALUE"; "" for a bare "NAME"),
 * or NULL when the command line lacks it. */
static char *kernel_param(const char *name)
{
	char *cmdline = slurp("/proc/cmdline", NULL), *p, *value = NULL;
	size_t len = strlen(name);
	if (!cmdline)
		return NULL;
	for (p = strtok(cmdline, " \n"); p; p = strtok(NULL, " \n"))
		if (!strncmp(p, name, len) && (p[len] == '=' || p[len] == '\0')) {
			free(value);
			value = strdup(p[len] ? p + len + 1 : "");
		}
	free(cmdline);
	return value;
}

/* A read-only root with umlkit.overlay: writable through a tmpfs overlay,
 * set up before anything else mounts (/proc only, to read the request). */
static void writable_root(void)
{
	char *overlay;
	mount_fs("proc", "/proc", "proc", 0, NULL);
	overlay = kernel_param("umlkit.overlay");
	if (overlay) {
		umount("/proc");
		overlay_root();
	}
	free(overlay);
}

/* The configured hostname (login mode's rcS sets it the same way). */
static void set_hostname(void)
{
	char *name = slurp("/etc/hostname", NULL);
	if (!name)
		return;
	name[strcspn(name, "\n")] = '\0';
	if (*name && sethostname(name, strlen(name)) < 0)
		warn("sethostname", name);
	free(name);
}

static char **read_args(void)
{
	size_t len, n = 0;
	char *data = slurp(RUN_DIR "/args", &len), **argv;
	if (!data || !len)
		return NULL;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\0';
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	for (size_t i = 0, k = 0; i < len && k < n; k++) {
		argv[k] = data + i;
		i += strlen(data + i) + 1;
	}
	return argv;
}

/* Terminal lines keep the guest's line discipline; the others are raw, so
 * output reaches the host byte for byte. */
static int open_line(const char *path, int flags, int keep_tty_mode)
{
	struct termios t;
	int fd = open(path, flags | O_NOCTTY);
	if (fd < 0) {
		warn("open", path);
		return -1;
	}
	if (!keep_tty_mode && tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static void run_child(char **argv, const char *ttys)
{
	int in_tty = ttys[0] == '1', out_tty = ttys[2] == '1', err_tty = ttys[4] == '1';
	int in, out, err;

	setsid();
	if (in_tty) {
		in = open_line("/dev/tty1", O_RDWR, 1);
		if (in >= 0)
			ioctl(in, TIOCSCTTY, 0);
	} else {
		in = open(RUN_DIR "/stdin", O_RDONLY);
		if (in < 0)
			in = open("/dev/null", O_RDONLY);
	}
	out = in_tty && out_tty ? dup(in) : open_line("/dev/tty2", O_WRONLY, 0);
	err = open_line("/dev/tty3", O_WRONLY, err_tty);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	if (in > 2)
		close(in);
	if (out > 2)
		close(out);
	if (err > 2)
		close(err);
	signal(SIGPIPE, SIG_DFL);
	if (chdir("/root") < 0 && chdir("/") < 0)
		_exit(126);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", in_tty ? "linux" : "dumb", 1);
	execvp(argv[0], argv);
	dprintf(2, "umlkit-init: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* As PID 1, reap every orphan until the command itself exits. */
static int wait_for(pid_t child)
{
	for (;;) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return 127;
		if (pid == child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
}

/* len covers the terminating NUL where the reader needs one: UML's
 * /proc/exitcode parses its buffer without terminating it. */
static void write_bytes(const char *path, const char *data, size_t len, int do_fsync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) < 0 || (do_fsync && fsync(fd) < 0))
		warn("write", path);
	if (fd >= 0)
		close(fd);
}

static void unmount_all(void)
{
	/* the newest mounts first, from /proc/mounts read backwards */
	char *mounts = slurp("/proc/mounts", NULL), *lines[256];
	int n = 0;
	if (!mounts)
		return;
	for (char *line = strtok(mounts, "\n"); line && n < 256; line = strtok(NULL, "\n"))
		lines[n++] = line;
	while (n-- > 0) {
		char *dir = strchr(lines[n], ' ');
		if (!dir)
			continue;
		dir++;
		dir[strcspn(dir, " ")] = '\0';
		if (strcmp(dir, "/") && strncmp(dir, "/proc", 5) && strcmp(dir, RUN_DIR))
			umount2(dir, MNT_DETACH);
	}
	free(mounts);
}

int main(void)
{
	char *mode, *ttys, **argv, code[16], *run;
	int status;

	writable_root();
	mount_basics();
	run = kernel_param("umlkit.run");
	if (run)
		mount_fs("none", RUN_DIR, "hostfs", 0, run);
	/* tells boot.sh's watchdog that the kernel got as far as init */
	write_bytes(RUN_DIR "/booted", "", 0, 0);
	mode = slurp(RUN_DIR "/mode", NULL);
	first_boot();
	mount_shares();
	net_configure(RUN_DIR "/net");
	if (mode && !strncmp(mode, "lab ", 4)) {
		/* "lab NAME": a lab machine, started, then as in login mode */
		mode[strcspn(mode, "\n")] = '\0';
		lab_start(RUN_DIR, mode + 4);
	}
	if (!mode || strncmp(mode, "command", 7)) {
		char *init[] = { "/sbin/init", NULL };
		execv(init[0], init);
		warn("exec", init[0]);
		return 1;
	}
	mount_fstab();
	set_hostname();
	argv = read_args();
	ttys = slurp(RUN_DIR "/ttys", NULL);
	if (!argv || !ttys || strlen(ttys) < 5) {
		dprintf(2, "umlkit-init: no command in " RUN_DIR "\n");
		status = 125;
	} else {
		pid_t child = fork();
		if (child == 0)
			run_child(argv, ttys);
		status = child < 0 ? 126 : wait_for(child);
	}
	kill(-1, SIGKILL);
	while (wait(NULL) > 0)
		;
	tcp_drain(DRAIN_MS);
	snprintf(code, sizeof(code), "%d\n", status);
	write_bytes(RUN_DIR "/status", code, strlen(code), 1);
	sync();
	unmount_all();
	sync();
	snprintf(code, sizeof(code), "%d", status);
	write_bytes("/proc/exitcode", code, strlen(code) + 1, 0);
	reboot(RB_POWER_OFF);
	return status;
}
