/* The guest's network: user NAT (umlkit-nat, on libslirp) and named
 * switches (umlkit-switch), both reached by UML's vector driver through an
 * inherited SOCK_SEQPACKET socket (transport=fd). No root, no tap, no
 * bridge. See docs/net.md.
 *
 * Per run: net_plan() merges the bundle's settings with --net, --forward,
 * --switch and --ip. Per boot: net_up() starts the NAT helper (a child of
 * this process that dies with it), joins the switches, writes the guest's
 * "net" file for its init and gives UML's vecN= parameters; net_down()
 * stops the helper. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define NAT_ADDR "10.0.2.15/24"
#define NAT_GATEWAY "10.0.2.2"
#define NAT_DNS "10.0.2.3"
#define SOCKET_BUFFER (1 << 20)	/* the host clamps it to net.core.wmem_max */

static int net_set_mode(struct options *opt, char *val, const char *prog)
{
	if (!strcmp(val, "user"))
		opt->net.mode = NET_USER;
	else if (!strcmp(val, "none"))
		opt->net.mode = NET_NONE;
	else
		return usage_error(prog, "%s '%s': %s", "--net", val, "use user (NAT to the host) or none");
	return 0;
}

static int parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v < 1 || v > 65535 || *s == '+' || *s == '-')
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* [tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT into "tcp:ADDR:HOSTPORT:GUESTPORT".
 * HOSTADDR is an IPv4 address: names are never resolved. */
static char *normalize_forward(const char *spec)
{
	char *copy = xstrdup(spec), *part[4], *save = NULL, *out = NULL, *tok;
	const char *proto = "tcp", *addr = "127.0.0.1";
	int n = 0, i = 0;
	unsigned host_port, guest_port;
	struct in_addr in;
	for (tok = strtok_r(copy, ":", &save); tok && n < 4; tok = strtok_r(NULL, ":", &save))
		part[n++] = tok;
	if (tok || n < 2 || strstr(spec, "::") || spec[strlen(spec) - 1] == ':')
		goto out;
	if (!strcmp(part[0], "tcp") || !strcmp(part[0], "udp"))
		proto = part[i++];
	if (n - i == 3)
		addr = part[i++];
	if (n - i != 2 || inet_pton(AF_INET, addr, &in) != 1 || parse_port(part[i], &host_port) < 0 ||
	    parse_port(part[i + 1], &guest_port) < 0)
		goto out;
	out = xasprintf("%s:%s:%u:%u", proto, addr, host_port, guest_port);
out:
	free(copy);
	return out;
}

int net_add_forward(struct options *opt, char *val, const char *prog)
{
	char *spec = normalize_forward(val);
	if (!spec)
		return usage_error(prog, "%s '%s': %s", "--forward", val,
				   "use [tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT, such as 8080:80 or udp:5353:53");
	if (opt->net.n_forwards == MAX_FORWARDS)
		return usage_error(prog, "%s '%s': %s", "--forward", val, "at most 16 forwards");
	opt->net.forwards[opt->net.n_forwards++] = spec;
	return 0;
}

static int valid_switch_name(const char *name)
{
	size_t len = strlen(name);
	if (!len || len > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

int net_add_switch(struct options *opt, char *val, const char *prog)
{
	if (!valid_switch_name(val))
		return usage_error(prog, "%s '%s': %s", "--switch", val, "a name of letters, digits, '.', '_' and '-' (64 at most)");
	if (opt->net.n_switches == MAX_SWITCHES)
		return usage_error(prog, "%s '%s': %s", "--switch", val, "at most 8 switches");
	opt->net.switches[opt->net.n_switches++] = (struct net_switch){ val, NULL };
	return 0;
}

/* ADDR/PREFIX, an IPv4 address and a prefix length of 1 to 32 */
static int valid_cidr(const char *s)
{
	char addr[16], *end;
	const char *slash = strchr(s, '/');
	struct in_addr in;
	long prefix;
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	prefix = strtol(slash + 1, &end, 10);
	return inet_pton(AF_INET, addr, &in) == 1 && slash[1] && !*end && prefix >= 1 && prefix <= 32;
}

int net_set_ip(struct options *opt, char *val, const char *prog)
{
	if (!opt->net.n_switches)
		return usage_error(prog, "%s '%s': %s", "--ip", val, "give it after the --switch it is for");
	if (!valid_cidr(val))
		return usage_error(prog, "%s '%s': %s", "--ip", val, "use ADDR/PREFIX, such as 192.168.10.1/24");
	opt->net.switches[opt->net.n_switches - 1].ip = val;
	return 0;
}

static const char *def_net(const struct bundle_conf *conf)
{
	return *conf->net ? conf->net : "none";
}

static const struct optdef net_rows[] = {
	{ "--net", "user|none", net_set_mode, OPT_GUEST, "user: NAT to the host (guest 10.0.2.15/24, the host's\n"
	  "                         127.0.0.1 is 10.0.2.2); none: no network (default: %s)", def_net },
	{ "--forward", "[tcp:|udp:][ADDR:]HOSTPORT:GUESTPORT", net_add_forward, OPT_GUEST,
	  "forward host ADDR:HOSTPORT (default ADDR 127.0.0.1) to\n"
	  "                         the guest's GUESTPORT (with --net user; repeatable)", NULL },
	{ "--switch", "NAME", net_add_switch, OPT_GUEST, "put the guest on virtual switch NAME, shared by every\n"
	  "                         guest of yours on it (repeatable: eth1, eth2, ...)", NULL },
	{ "--ip", "ADDR/PREFIX", net_set_ip, OPT_GUEST, "the guest's address on the --switch before it", NULL },
};

const struct option_group net_option_group = OPTION_GROUP("Network", net_rows, NULL);

static void random_mac(unsigned char mac[6])
{
	/* locally administered, unicast: 02:xx:xx:xx:xx:xx */
	if (getrandom(mac, 6, 0) != 6) {
		unsigned v = (unsigned)getpid() ^ (unsigned)time(NULL);
		for (int i = 0; i < 6; i++)
			mac[i] = (unsigned char)(v >> (i * 5));
	}
	mac[0] = 0x02;
}

void net_add_if(struct net *net, int kind, const char *name, const char *ip)
{
	struct netif *nif = &net->ifs[net->n_ifs++];
	nif->kind = kind;
	nif->name = name;
	nif->ip = ip;
	nif->mtu = NET_MTU;
	random_mac(nif->mac);
}

/* "NAME[=ADDR/PREFIX] ..." from bundle.conf's net_switch */
static int plan_config_switches(struct run *r)
{
	char *words[MAX_SWITCHES + 1];
	int n = split_words(xstrdup(r->conf.net_switch), words, MAX_SWITCHES);
	if (n < 0) {
		say(r->prog, "bundle.conf: more than %d switches in net_switch", MAX_SWITCHES);
		return EX_CORRUPT;
	}
	for (int i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		if (eq)
			*eq++ = '\0';
		if (!valid_switch_name(words[i]) || (eq && !valid_cidr(eq))) {
			say(r->prog, "bundle.conf: bad switch '%s' in net_switch", words[i]);
			return EX_CORRUPT;
		}
		net_add_if(&r->net, NETIF_SWITCH, words[i], eq);
	}
	return 0;
}

int net_plan(struct run *r)
{
	const struct options *opt = &r->opt;
	struct net *net = &r->net;
	int user = opt->net.mode == NET_USER || (opt->net.mode == NET_CONFIG && !strcmp(r->conf.net, "user"));
	char *words[MAX_FORWARDS];
	int n, code;

	net->nat_pid = -1;
	if (opt->net.n_forwards && !user) {
		say(r->prog, "--forward needs user networking: add --net user");
		return EX_USAGE;
	}
	if (user) {
		net_add_if(net, NETIF_NAT, NULL, NAT_ADDR);
		/* the bundle's forwards, then the command line's */
		n = opt->net.mode == NET_CONFIG ? split_words(xstrdup(r->conf.net_forward), words, MAX_FORWARDS) : 0;
		for (int i = 0; i < n; i++) {
			char *spec = normalize_forward(words[i]);
			if (!spec) {
				say(r->prog, "bundle.conf: bad forward '%s' in net_forward", words[i]);
				return EX_CORRUPT;
			}
			if (net->n_forwards < MAX_FORWARDS)
				net->forwards[net->n_forwards++] = spec;
		}
		for (int i = 0; i < opt->net.n_forwards && net->n_forwards < MAX_FORWARDS; i++)
			net->forwards[net->n_forwards++] = opt->net.forwards[i];
	}
	if (opt->net.mode != NET_NONE && (code = plan_config_switches(r)))
		return code;
	for (int i = 0; i < opt->net.n_switches; i++) {
		if (net->n_ifs == MAX_NETIFS) {
			say(r->prog, "--switch '%s': at most %d interfaces", opt->net.switches[i].name, MAX_NETIFS);
			return EX_USAGE;
		}
		net_add_if(net, NETIF_SWITCH, opt->net.switches[i].name, opt->net.switches[i].ip);
	}
	if (net->n_ifs && access(xasprintf("%s/umlkit-switch", r->entry), X_OK) < 0) {
		say(r->prog, "this bundle has no network helpers: rebuild it with UMLKIT_NET_HELPERS=y");
		return EX_USAGE;
	}
	return 0;
}

void child_defaults(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/* The switch runs in a session of its own, outside the guest's process
 * tree: it serves every guest on it and ends with the last. */
static int spawn_switch(struct run *r, int listen_fd, const char *lock, const char *sock)
{
	pid_t pid = fork(), grandchild;
	int status;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		child_defaults();
		if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(listen_fd, 3) < 0 || chdir("/") < 0)
			_exit(127);
		close_range(4, ~0U, 0);
		grandchild = fork();
		if (grandchild == 0) {
			char *prog = xasprintf("%s/umlkit-switch", r->entry);
			execl(prog, "umlkit-switch", "3", lock, sock, (char *)NULL);
			_exit(127);
		}
		_exit(grandchild < 0 ? 127 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int seqpacket_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), size = SOCKET_BUFFER;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	return fd;
}

/* The switch's lock file, locked; -1 with errno. A switch that ends
 * removes the file under the lock, so a lock taken on a file no longer at
 * PATH is let go and taken again on the new one. */
static int lock_switch(const char *path)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat held, now;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600), err;
		if (fd >= 0 && flock(fd, LOCK_EX) == 0 && fstat(fd, &held) == 0) {
			if (stat(path, &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev)
				return fd;
			close(fd);
			continue;
		}
		err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
		return -1;
	}
	errno = EAGAIN;
	return -1;
}

/* A socket on switch NAME, started if nobody runs it; -1 after saying why. */
int net_switch_join(struct run *r, const char *name)
{
	char dir[4096], *lock_path, *sock_path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lock = -1, fd = -1, listen_fd = -1;

	if (private_dir(r->prog, "umlkit-switches", dir, sizeof(dir)) < 0)
		return -1;
	lock_path = xasprintf("%s/%s.lock", dir, name);
	sock_path = xasprintf("%s/%s.sock", dir, name);
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		say(r->prog, "--switch '%s': the socket path %s is too long (set XDG_RUNTIME_DIR shorter)", name,
		    sock_path);
		goto fail;
	}
	strcpy(sa.sun_path, sock_path);
	lock = lock_switch(lock_path);
	if (lock < 0 || (fd = seqpacket_socket()) < 0) {
		say(r->prog, "--switch '%s': %s: %s", name, lock_path, strerror(errno));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		goto done;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		say(r->prog, "--switch '%s': cannot connect to %s: %s", name, sock_path, strerror(errno));
		goto fail;
	}
	/* nobody serves it (a switch that ended leaves no socket; a crash may) */
	unlink(sock_path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 128) < 0 ||
	    spawn_switch(r, listen_fd, lock_path, sock_path) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say(r->prog, "--switch '%s': cannot start the switch at %s: %s", name, sock_path, strerror(errno));
		unlink(sock_path);
		goto fail;
	}
done:
	if (listen_fd >= 0)
		close(listen_fd);
	close(lock);
	free(lock_path);
	free(sock_path);
	return fd;
fail:
	if (listen_fd >= 0)
		close(listen_fd);
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);
	free(lock_path);
	free(sock_path);
	return -1;
}

/* Starts umlkit-nat on HELPER_FD (run by the bundle's own dynamic loader
 * and libraries: libslirp is a shared library only) and waits until its
 * forwards are bound. */
static int nat_start(struct run *r, int helper_fd)
{
	struct net *net = &r->net;
	int st[2];
	char line[512];
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(st, O_CLOEXEC) < 0)
		return EX_HOST;
	pid = fork();
	if (pid < 0)
		return EX_HOST;
	if (pid == 0) {
		char *argv[8 + MAX_FORWARDS];
		int k = 0;
		child_defaults();
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(helper_fd, 3) < 0 || dup2(st[1], 4) < 0 ||
		    dup2(r->net.log_fd, 2) < 0)
			_exit(127);
		close_range(5, ~0U, 0);
		argv[k++] = xasprintf("%s/%s", r->entry, r->conf.net_loader);
		argv[k++] = "--library-path";
		argv[k++] = (char *)r->entry;
		argv[k++] = xasprintf("%s/umlkit-nat", r->entry);
		argv[k++] = "3";
		argv[k++] = "4";
		argv[k++] = xasprintf("%d", NET_MTU);
		for (int i = 0; i < net->n_forwards; i++)
			argv[k++] = net->forwards[i];
		argv[k] = NULL;
		execv(argv[0], argv);
		dprintf(2, "umlkit-run: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	net->nat_pid = pid;
	close(st[1]);
	while (got < (ssize_t)sizeof(line) - 1 && (n = read(st[0], line + got, sizeof(line) - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
		if (memchr(line, '\n', (size_t)got))
			break;
	}
	close(st[0]);
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	if (!strncmp(line, "error: ", 7)) {
		say(r->prog, "%s", line + 7);
		return EX_USAGE;
	}
	say(r->prog, "the user networking helper did not start (see --verbose)");
	return EX_HOST;
}

/* Per boot: the sockets UML's vector interfaces use (added to CHILD_FDS,
 * their vecN= parameters to WORDS) and the guest's "net" file. */
int net_up(struct run *r, int log_fd, int *child_fds, int *n_child, char **words, int *n_words)
{
	struct net *net = &r->net;
	char *buf = NULL, *path;
	size_t len = 0;
	FILE *f;
	int code = 0, rc, first_fd = *n_child;

	if (!net->n_ifs)
		return 0;
	net->log_fd = log_fd;
	if (!(f = open_memstream(&buf, &len)))
		return EX_HOST;
	for (int i = 0; i < net->n_ifs && !code; i++) {
		struct netif *nif = &net->ifs[i];
		const unsigned char *m = nif->mac;
		int fd = -1, pair[2];
		if (nif->kind == NETIF_NAT) {
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
				code = EX_HOST;
				break;
			}
			code = nat_start(r, pair[1]);
			close(pair[1]);
			fd = pair[0];
		} else {
			fd = net_switch_join(r, nif->name);
			if (fd < 0)
				code = EX_HOST;
		}
		if (code) {
			if (fd >= 0)
				close(fd);
			break;
		}
		child_fds[(*n_child)++] = fd;
		words[(*n_words)++] = xasprintf("vec%d:transport=fd,fd=%d,mtu=%d,mac=%02x:%02x:%02x:%02x:%02x:%02x",
						 i, fd, nif->mtu, m[0], m[1], m[2], m[3], m[4], m[5]);
		/* vecN ethN ADDR/PREFIX|- GATEWAY|- DNS|- */
		fprintf(f, "vec%d eth%d %s %s %s\n", i, i, nif->ip ? nif->ip : "-",
			nif->kind == NETIF_NAT ? NAT_GATEWAY : "-", nif->kind == NETIF_NAT ? NAT_DNS : "-");
	}
	fclose(f);
	if (!code) {
		path = xasprintf("%s/net", r->dir);
		rc = write_file(path, buf, len);
		if (rc < 0) {
			say(r->prog, "cannot write %s: %s", path, strerror(errno));
			code = EX_HOST;
		}
		free(path);
	}
	free(buf);
	if (code) {
		while (*n_child > first_fd)
			close(child_fds[--*n_child]);
		net_down(r);
	}
	return code;
}

/* The NAT helper sees the guest's end close when UML exits, writes out
 * what it still holds for host sockets (the tail of a guest's last
 * transfer, boot/net/nat.c's drain: 3 s at most) and exits; it is killed
 * if it has not after NAT_EXIT_MS. */
#define NAT_EXIT_MS 4000
void net_down(struct run *r)
{
	struct net *net = &r->net;
	if (net->nat_pid > 0) {
		long long end = now_ms() + NAT_EXIT_MS;
		pid_t done;
		while ((done = waitpid(net->nat_pid, NULL, WNOHANG)) == 0 && now_ms() < end) {
			struct timespec tick = { 0, 5000000 };
			nanosleep(&tick, NULL);
		}
		if (done == 0) {
			kill(net->nat_pid, SIGKILL);
			while (waitpid(net->nat_pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		net->nat_pid = -1;
	}
}
