/* umlkit-run: the runtime supervisor carried in every boot.sh bundle.
 * boot.sh verifies and unpacks the bundle, then execs this program, which
 * owns the guest's whole lifecycle: options, run directory, copy-on-write
 * files, console wiring, relays, terminal modes, timeouts, signals, exit
 * status and cleanup. See docs/boot.md. */
#ifndef UMLKIT_RUN_H
#define UMLKIT_RUN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <termios.h>

#include "../../support/lib/hostlib.h"

/* Exit statuses of the runtime itself (a command's own passes through). */
enum {
	EX_CORRUPT = 120,	/* the bundle or its cache is corrupt */
	EX_HOST = 121,		/* this host cannot run the guest */
	EX_CRASH = 122,		/* the guest kernel panicked, crashed or hung */
	EX_LIMIT = 123,		/* --cpu-limit or --disk-limit reached */
	EX_TIMEOUT = 124,	/* --timeout reached */
	EX_USAGE = 125,		/* bad options */
};

/* Bounds of what the runtime reads from a file: its own (bundle.conf,
 * lab.conf, a lab machine's log) and what the guest writes (status). */
#define CONF_MAX (1 << 20)
#define GUEST_FILE_MAX 4096
#define LOG_SHOW_MAX (64 << 10)
#define DISK_SLACK (256ULL << 20)	/* see rundir_default_disk_limit */
#define CACHE_MAX_SAME_NAME 64	/* entries of one bundle name looked at */
#define CACHE_KEEP_SAME_NAME 3	/* of which kept, the current one included */
#define CACHE_MAX_AGE_DAYS 30
#define CACHE_MAX_BYTES (8LL << 30)	/* all entries together */
#define CACHE_MAX_ENTRIES 256	/* looked at for that cap */
#define KUNIT_TIMEOUT 300	/* kunit.py's default, seconds */
#define MAX_DISKS 16
#define MAX_SHARES 16
#define MAX_APPEND 64
#define MAX_FORWARDS 16
#define MAX_SWITCHES 8
#define MAX_NETIFS (1 + MAX_SWITCHES)
/* The guests' MTU. Big frames make guest TCP fast, but a segment larger
 * than the guest's first receive window (64 KiB with 64M of memory) stalls
 * libslirp's sender until its 5 s persist timer: 65520 took 11 s for
 * 200 MB, 16384 0.8 s (32768: 1.0 s, 9000: 1.0 s). */
#define NET_MTU 16384
/* A lab machine's interfaces: Ethernet's, as Kathara's (frames a published
 * lab's tc, tunnels and MTU-sized pings expect) */
#define LAB_MTU 1500

/* bundle.conf: written by mkbundle.sh, one key=value a line */
struct bundle_conf {
	char *name, *kernel, *mode, *command, *mem, *cmdline, *disks, *initrd;
	char *net, *net_forward, *net_switch, *net_loader;
	char *lab;		/* a lab bundle: the lab's name */
	char *lab_images;	/* "NAME=FILE ...": the images lab machines name */
	char *lab_default_image;	/* what a machine naming none runs, or "" */
};

struct share {
	char *host, *guest;
	int rw;
};

enum net_mode { NET_CONFIG, NET_NONE, NET_USER };

struct net_switch {
	char *name, *ip;	/* ip: ADDR/PREFIX, or NULL */
};

enum netif_kind { NETIF_NAT, NETIF_SWITCH };

/* One guest interface, ethN in the guest (vecN to UML). */
struct netif {
	int kind;
	const char *name;	/* the switch's */
	const char *ip;
	unsigned char mac[6];
	int mtu;
};

struct net {
	struct netif ifs[MAX_NETIFS];
	int n_ifs;
	char *forwards[MAX_FORWARDS];	/* normalised: tcp:ADDR:HOSTPORT:GUESTPORT */
	int n_forwards;
	pid_t nat_pid;			/* the running helper, or -1 */
	int log_fd;
};

enum sandbox_mode { SANDBOX_AUTO, SANDBOX_STRICT, SANDBOX_OFF };
enum { CPU_AUTO = -1, CPU_ALL = -2 };

/* cpufollow.c: --cpu auto's guest, moved off a CPU other work keeps busy */
#define FOLLOW_MAX_CPUS 256
struct cpu_follow {
	pid_t uml;			/* UML's session */
	int cpu;			/* the guest's CPU now; -1: not followed */
	unsigned char allowed[FOLLOW_MAX_CPUS];	/* 1: this process may use it */
	unsigned long long at, waited;	/* the last look: when, run delay (ns) */
	int waited_known;		/* that look read the run delay */
	unsigned long long idle[FOLLOW_MAX_CPUS];	/* clock ticks, /proc/stat */
};
void cpu_follow_init(struct cpu_follow *f, pid_t uml, int cpu_option);
void cpu_follow_tick(struct cpu_follow *f);
/* guard.c: fn(pid, the fields after the command name, ctx) for every
 * process in /proc/PID/stat */
void walk_processes(void (*fn)(pid_t pid, const char *fields, void *ctx), void *ctx);

/* why the guard ended the guest, besides the guest's own end */
enum guard_reason { ENDED, CPU_LIMIT, DISK_LIMIT, NOT_STARTED };

/* why the kernel did not start (reason NOT_STARTED), with an errno */
enum start_step { START_SETUP = 1, START_LANDLOCK, START_SECCOMP, START_EXEC };

struct guard_report {
	int wait_status;	/* UML's, as waitpid gives it */
	int reason;		/* enum guard_reason */
	int step, err;		/* NOT_STARTED: enum start_step, errno */
};

/* Each module owns its options: a sub-struct here, and a table of rows
 * (struct option_group) in its own file, registered in options.c. */

/* guard.c: limits, confinement and the host CPU */
struct guard_options {
	long cpu_limit;			/* seconds of host CPU time; 0: none */
	unsigned long long disk_limit;	/* bytes in the run directory; 0: none */
	int disk_limit_set;		/* given: else rundir_default_disk_limit */
	int sandbox;			/* enum sandbox_mode */
	int cpu;			/* host CPU for the guest; CPU_AUTO, CPU_ALL */
};

/* net.c */
struct net_options {
	int mode;			/* enum net_mode */
	char *forwards[MAX_FORWARDS];
	int n_forwards;
	struct net_switch switches[MAX_SWITCHES];
	int n_switches;
};

/* report.c: reports of the command's TAP/KTAP output */
struct report_options {
	char *junit, *json;
	char *parse_file;		/* --parse: KTAP from a file, no boot */
};

/* kunit.c */
struct kunit_options {
	char *filter;			/* kunit.filter_glob */
	int raw;			/* print the KTAP, not the results */
};

/* options.c: the run itself */
struct options {
	const char *action;		/* "run", "help", "extract", "cache", "cache-clear", "parse" */
	char *extract_dir;
	unsigned long long mem;		/* bytes; 0: the bundle's default */
	char *append[MAX_APPEND];
	int n_append;
	char *disks[MAX_DISKS];
	int disk_readonly[MAX_DISKS];
	int n_disks;
	char *persist;
	struct share shares[MAX_SHARES];
	int n_shares;
	long timeout;			/* seconds; 0: none */
	int timeout_set;		/* given: a KUnit run's default is kunit.py's */
	int time_travel, verbose;
	char **command;			/* NULL: the bundle's default */
	struct guard_options guard;
	struct net_options net;
	struct report_options report;
	struct kunit_options kunit;
};

/* One row an option: the parser and --help read the same rows; a new
 * option is a row and its setter, in the module that owns its field. */
typedef int option_setter(struct options *opt, char *val, const char *prog);
enum option_where { OPT_ANY, OPT_GUEST, OPT_KUNIT };	/* which bundles take it */
struct optdef {
	const char *name, *arg;
	option_setter *set;
	int where;			/* enum option_where */
	const char *help;		/* "%s" there is the row's default */
	const char *(*def)(const struct bundle_conf *conf);
};
struct option_group {
	const char *title;		/* --help's heading, or NULL: the first */
	const struct optdef *rows;
	size_t n_rows;
	void (*init)(struct options *opt);	/* the module's defaults, or NULL */
};
#define OPTION_GROUP(title, rows, init) { title, rows, sizeof(rows) / sizeof((rows)[0]), init }

/* Paths and state of one run. */
struct run {
	const char *bundle, *entry;	/* the bundle file, its cache entry */
	const char *prog;		/* name for messages: boot.sh */
	struct bundle_conf conf;
	struct options opt;
	int command_mode;
	int kunit;			/* a KUnit kernel: no guest system */
	char tmpbase[4096];		/* TMPDIR chosen for UML's memory file */
	char dir[4096];			/* the run directory */
	int lock_fd;			/* held for the run's life: it is alive */
	int entry_lock_fd;		/* shared lock on the cache entry */
	struct net net;
};

/* util.c (and the host library, support/lib/hostlib.h) */
int write_file(const char *path, const void *data, size_t len);
int copy_sparse(const char *from, const char *to);
int path_is_plain(const char *path);
int private_dir(const char *prog, const char *name, char *dir, size_t size);
long long now_ms(void);

/* conf.c */
void conf_parse(char *data, struct bundle_conf *conf);
int conf_read(const char *path, struct bundle_conf *conf);

/* options.c */
int options_parse(int argc, char **argv, struct options *opt, const struct bundle_conf *conf,
		  const char *prog);
void options_usage(const struct bundle_conf *conf, const char *prog);
int split_words(char *s, char **words, int max);
int options_is_kunit(const struct bundle_conf *conf);
int options_set_action(struct options *opt, const char *action);

/* report.c, kunit.c (report.h: the reports themselves) */
extern const struct option_group report_option_group;
extern const struct option_group kunit_option_group;

/* cache.c */
void cache_sweep_runs(const char *tmpbase);
void cache_evict(const char *entry, long max_age_days, int keep_same_name, long long max_bytes);
long long cache_max_bytes(const char *prog);
int cache_show(const char *entry);
int cache_clear(const char *entry, const char *prog);
int cache_lock_entry(const char *entry);

/* rundir.c */
void rundir_pick_tmpbase(struct run *r);
void rundir_create(struct run *r);
int rundir_prepare(struct run *r);
int rundir_check_memory(const struct run *r);
int rundir_initrd_sizes(const struct run *r, unsigned long long *packed, unsigned long long *unpacked);
unsigned long long rundir_initrd_mem_hint(unsigned long long packed, unsigned long long unpacked);
int rundir_reset_cows(struct run *r);
void rundir_default_disk_limit(struct run *r);
char **rundir_uml_argv(struct run *r, char **cons, int n_cons);

/* relay.c: one stream copied through a buffer, shown to a tap */
struct pollfd;
struct relay {
	int in, out;		/* out -1: read, show to the tap, drop */
	int eof, required;	/* required: the run ends after its EOF */
	void (*tap)(void *ctx, const char *data, size_t n);
	void *tap_ctx;
	size_t len, off;
	char buf[65536];
};
void relay_init(struct relay *rl, int in, int out, int required);
int relay_poll(const struct relay *rl, struct pollfd *pfd);
void relay_read(struct relay *rl);
int relay_write(struct relay *rl, int block);

/* ring.c: the last RING_KEEP bytes of a stream */
#define RING_KEEP 16384
struct ring {
	size_t len;
	char buf[RING_KEEP];
};
void ring_add(struct ring *ring, const char *data, size_t n);

/* term.c */
int term_save(int fd, struct termios *saved);
void term_raw(int fd, const struct termios *saved);
void term_restore(int fd, const struct termios *saved);
int pty_open(int *master, int *slave);
void pty_copy_size(int from, int to);

/* guard.c: the child that owns the UML process tree */
extern const struct option_group guard_option_group;
pid_t guard_start(struct run *r, char **argv, const int *child_fds, int n_child_fds,
		  int status_fd, const struct termios *saved, int tty_fd);

/* sandbox.c */
int sandbox_abi(void);
int sandbox_apply(const struct run *r);

/* seccomp.c */
int seccomp_apply(void);

/* net.c */
extern const struct option_group net_option_group;
int net_add_forward(struct options *opt, char *val, const char *prog);
int net_add_switch(struct options *opt, char *val, const char *prog);
int net_set_ip(struct options *opt, char *val, const char *prog);
int net_plan(struct run *r);
int net_up(struct run *r, int log_fd, int *child_fds, int *n_child, char **words, int *n_words);
void net_down(struct run *r);
int net_switch_join(struct run *r, const char *name);
void net_add_if(struct net *net, int kind, const char *name, const char *ip);
void child_defaults(void);

/* lab.c, labmachine.c (lab.h: the lab.conf parser) */
struct lab;
struct lab_machine;
int lab_main(struct run *r, int argc, char **argv);
void lab_usage(struct run *r);
struct lab *lab_load(struct run *r, const char *instance);
const struct lab_machine *lab_find(const struct lab *lab, const char *name);
const char *lab_switch_prefix(const char *instance);
int lab_machine(struct run *r, const char *instance, const char *name);
int lab_check(const char *dir, const char *default_image, char **images);
int lab_images(const char *dir, const char *default_image);
int lab_exec(struct run *r, const char *inst, const char *name, char **argv, int in, int out, int err);
void lab_signatures(struct run *r, const char *inst, const struct lab *lab, const char *dir, int *k, int *failed);
const char *lab_machine_shown(const char *inst, const char *name);
int lab_stop_here(struct run *r, const char *inst);

/* labpeer.c, labtrunk.c: a lab across hosts (lab.h: struct lab_parts) */
struct lab_parts;
int lab_parts_save(const char *inst, const struct lab_parts *p);
int lab_parts_load(const char *inst, struct lab_parts *p);
char *lab_secret(const char *inst);
int lab_resolve(const char *host, unsigned port, int family, struct sockaddr_storage *sa, socklen_t *len);
int lab_peer_accept(int fd, const char *lab, const char *secret, char *req, size_t req_max, size_t *req_len);
int lab_part_request(struct run *r, const char *inst, int part, const char *req, size_t req_len);
int lab_trunk(struct run *r, const char *inst);
/* laboci.c, labkube.c: the lab as an OCI image, and as Kubernetes pods */
char *lab_image_ref(const struct run *r);
int lab_oci(struct run *r, const char *busybox_path);
int lab_kube(struct run *r, int n, const char *image, unsigned port);

/* supervise.c */
int supervise(struct run *r);

#endif
