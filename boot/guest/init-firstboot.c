/* What an image must not carry baked in, because every copy of it would
 * share it, is made at boot when missing: the machine id (an empty
 * /etc/machine-id is systemd's "make one" mark; Debian images built from
 * 'debian' recipe lines ship it so) and OpenSSH's host keys. A read-only
 * root keeps what it has: nothing here is an error. */
#define _GNU_SOURCE
#include "init-firstboot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MACHINE_ID "/etc/machine-id"
#define SSH_KEYGEN "/usr/bin/ssh-keygen"
#define SSH_CONFIG "/etc/ssh/sshd_config"
#define SSH_KEY "/etc/ssh/ssh_host_ed25519_key"

static void machine_id(void)
{
	unsigned char id[16];
	char text[34];
	struct stat st;
	int fd;
	if (stat(MACHINE_ID, &st) < 0 || st.st_size != 0)
		return;
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return;
	/* a version 4 UUID's bits, as systemd-id128 makes them */
	id[6] = (id[6] & 0x0f) | 0x40;
	id[8] = (id[8] & 0x3f) | 0x80;
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(text + 2 * i, 3, "%02x", id[i]);
	text[32] = '\n';
	fd = open(MACHINE_ID, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, text, 33) != 33)
		(void)ftruncate(fd, 0);
	close(fd);
}

static void ssh_host_keys(void)
{
	pid_t pid;
	if (access(SSH_KEYGEN, X_OK) < 0 || access(SSH_CONFIG, F_OK) < 0 || access(SSH_KEY, F_OK) == 0)
		return;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(SSH_KEYGEN, "ssh-keygen", "-A", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

void first_boot(void)
{
	machine_id();
	ssh_host_keys();
}
