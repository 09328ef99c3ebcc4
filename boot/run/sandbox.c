/* Landlock on the UML process tree (Linux 5.13+, no privileges): applied in
 * the guard's child just before it execs the kernel, so even a guest that
 * takes over its kernel can open nothing on the host but the cached kernel
 * and images (read), the run directory (everything: copy-on-write files,
 * memory file, the init's files), the shares as given (read-only unless
 * ":rw"), the --disk files and the --persist directory. hostfs follows
 * symlinks on the host side, so a symlink planted in a share or the run
 * directory that points elsewhere is stopped here too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_EXEC LANDLOCK_ACCESS_FS_EXECUTE
#define FS_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_ALL ((1ULL << 15) - 1)
/* the rights that apply to a file (the others are about directories) */
#define FS_FILE (FS_EXEC | FS_WRITE | LANDLOCK_ACCESS_FS_READ_FILE)

int sandbox_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static uint64_t handled_for(int abi)
{
	uint64_t all = FS_ALL;
	if (abi < 2)
		all &= ~LANDLOCK_ACCESS_FS_REFER;
	if (abi < 3)
		all &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
	return all;
}

/* A path that does not exist needs no rule. */
static int allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr rule;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), rc;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		access &= FS_FILE;
	rule.allowed_access = access & handled;
	rule.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	close(fd);
	return rc;
}

/* 0, or -1 with errno. Called in the child that execs the kernel. */
int sandbox_apply(const struct run *r)
{
	struct landlock_ruleset_attr attr = { 0 };
	static const char *const system_dirs[] = {
		/* the dynamic loader and C library of a dynamically linked kernel */
		"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache",
	};
	int abi = sandbox_abi(), ruleset, rc = 0;
	uint64_t handled;
	if (abi < 1) {
		errno = ENOSYS;
		return -1;
	}
	handled = handled_for(abi);
	attr.handled_access_fs = handled;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -1;
	rc |= allow(ruleset, r->entry, FS_READ | FS_EXEC, handled);
	rc |= allow(ruleset, r->dir, FS_ALL, handled);
	rc |= allow(ruleset, "/dev/null", FS_READ | FS_WRITE, handled);
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
		rc |= allow(ruleset, system_dirs[i], FS_READ | FS_EXEC, handled);
	for (int i = 0; i < r->opt.n_shares; i++)
		rc |= allow(ruleset, r->opt.shares[i].host, r->opt.shares[i].rw ? FS_ALL : FS_READ, handled);
	for (int i = 0; i < r->opt.n_disks; i++)
		rc |= allow(ruleset, r->opt.disks[i], r->opt.disk_readonly[i] ? FS_READ : FS_READ | FS_WRITE, handled);
	if (r->opt.persist)
		rc |= allow(ruleset, r->opt.persist, FS_READ | FS_WRITE, handled);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -1;
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -1;
	close(ruleset);
	return rc;
}
