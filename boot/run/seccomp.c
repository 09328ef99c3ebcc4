/* A seccomp filter on the UML process tree, beside Landlock (sandbox.c):
 * Landlock decides which host files the kernel reaches, not what it may
 * make of them. Through a ":rw" share (hostfs) a guest could leave a
 * setuid or setgid file, or a device node, on the host, owned by the
 * running user (or by root, where root runs boot.sh): another user could
 * then run it as that owner. So every host call that sets a mode with
 * S_ISUID or S_ISGID, or makes a character or block device, or sets an
 * extended attribute (file capabilities), fails with EPERM, whatever the
 * guest kernel asks.
 * Guest processes are untouched: UML runs them under PTRACE_SYSEMU, whose
 * system calls stop in the tracer and never reach seccomp. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"

#define MAX_INSNS 160
#define SETID (S_ISUID | S_ISGID)
#define CREATES (O_CREAT | __O_TMPFILE)
#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
/* the low 32 bits of argument N (x86-64 is little-endian) */
#define ARG(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define DENY (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

struct prog {
	struct sock_filter insn[MAX_INSNS];
	unsigned short n;
};

static void emit(struct prog *p, unsigned short code, unsigned char jt, unsigned char jf, unsigned int k)
{
	if (p->n < MAX_INSNS)
		p->insn[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* nr NR with argument MODE_ARG & MASK set: EPERM. FLAGS_ARG >= 0: only
 * when that argument has O_CREAT or O_TMPFILE (open's mode is unused
 * otherwise). */
static void deny_mode(struct prog *p, int nr, int flags_arg, int mode_arg, unsigned int mask)
{
	int flagged = flags_arg >= 0;
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (unsigned char)(flagged ? 6 : 4), (unsigned int)nr);
	if (flagged) {
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (unsigned int)ARG(flags_arg));
		emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 3, CREATES);
	}
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (unsigned int)ARG(mode_arg));
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, mask);
	emit(p, BPF_RET | BPF_K, 0, 0, DENY);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

/* mknod(at): a set-id mode or a device node: EPERM */
static void deny_mknod(struct prog *p, int nr, int mode_arg)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 7, (unsigned int)nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (unsigned int)ARG(mode_arg));
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 4, 0, SETID);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, S_IFMT);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, S_IFCHR);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, S_IFBLK);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(p, BPF_RET | BPF_K, 0, 0, DENY);
}

static void deny_call(struct prog *p, int nr, unsigned int errno_value)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (unsigned int)nr);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | (errno_value & SECCOMP_RET_DATA));
}

static void build(struct prog *p)
{
	/* another ABI (i386, x32) could name the same calls by other numbers */
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARCH);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	emit(p, BPF_RET | BPF_K, 0, 0, DENY);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000);
	emit(p, BPF_RET | BPF_K, 0, 0, DENY);
	deny_mode(p, SYS_chmod, -1, 1, SETID);
	deny_mode(p, SYS_fchmod, -1, 1, SETID);
	deny_mode(p, SYS_fchmodat, -1, 2, SETID);
	deny_mode(p, 452 /* fchmodat2 */, -1, 2, SETID);
	deny_mode(p, SYS_creat, -1, 1, SETID);
	deny_mode(p, SYS_open, 1, 2, SETID);
	deny_mode(p, SYS_openat, 2, 3, SETID);
	deny_mknod(p, SYS_mknod, 1);
	deny_mknod(p, SYS_mknodat, 2);
	/* its mode is in a structure the filter cannot read; callers fall back */
	deny_call(p, 437 /* openat2 */, ENOSYS);
	deny_call(p, SYS_setxattr, EPERM);
	deny_call(p, SYS_lsetxattr, EPERM);
	deny_call(p, SYS_fsetxattr, EPERM);
	deny_call(p, 463 /* setxattrat */, EPERM);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

/* 0, or -1 with errno. Called in the child that execs the kernel. */
int seccomp_apply(void)
{
	struct prog p = { .n = 0 };
	struct sock_fprog fprog;
	build(&p);
	if (p.n >= MAX_INSNS) {
		errno = E2BIG;
		return -1;
	}
	fprog.len = p.n;
	fprog.filter = p.insn;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}
