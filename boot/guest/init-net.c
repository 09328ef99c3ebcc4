/* The guest's network, set up by umlkit-init before the command or login:
 * each interface the runtime gave UML (vecN) is renamed ethN, given its
 * address and brought up; with user networking, a default route and a
 * resolver too. ioctls only, so the image needs no ip or ifconfig.
 * RUN_DIR/net has a line an interface: "vecN ethN ADDR/PREFIX|- GATEWAY|- DNS|-". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init-net.h"

static void net_warn(const char *what, const char *arg)
{
	dprintf(2, "umlkit-init: %s %s: %s\n", what, arg, strerror(errno));
}

static int set_flag_up(int sock, const char *name)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static void set_inet(struct sockaddr *sa, in_addr_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };
	memcpy(sa, &sin, sizeof(sin));
}

/* ADDR/PREFIX on NAME */
static int set_address(int sock, const char *name, const char *cidr)
{
	struct ifreq ifr = { 0 };
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	struct in_addr in;
	int prefix;
	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return errno = EINVAL, -1;
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	prefix = atoi(slash + 1);
	if (inet_pton(AF_INET, addr, &in) != 1 || prefix < 1 || prefix > 32)
		return errno = EINVAL, -1;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	set_inet(&ifr.ifr_addr, in.s_addr);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return -1;
	set_inet(&ifr.ifr_netmask, htonl(prefix == 32 ? ~0U : ~(~0U >> prefix)));
	return ioctl(sock, SIOCSIFNETMASK, &ifr);
}

static int add_default_route(int sock, const char *gateway)
{
	struct rtentry rt = { 0 };
	struct in_addr gw;
	if (inet_pton(AF_INET, gateway, &gw) != 1)
		return errno = EINVAL, -1;
	set_inet(&rt.rt_dst, INADDR_ANY);
	set_inet(&rt.rt_genmask, INADDR_ANY);
	set_inet(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	return ioctl(sock, SIOCADDRT, &rt);
}

/* The root may be read-only (squashfs, EROFS): then resolv.conf stays as
 * the image has it, and the boot log says so. */
static void write_resolver(const char *dns)
{
	char line[64];
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int len = snprintf(line, sizeof(line), "nameserver %s\n", dns);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		net_warn("cannot write", "/etc/resolv.conf");
	if (fd >= 0)
		close(fd);
}

static void configure(int sock, char *line)
{
	char vec[IFNAMSIZ], eth[IFNAMSIZ], cidr[32], gw[INET_ADDRSTRLEN], dns[INET_ADDRSTRLEN];
	struct ifreq ifr = { 0 };
	if (sscanf(line, "%15s %15s %31s %15s %15s", vec, eth, cidr, gw, dns) != 5) {
		dprintf(2, "umlkit-init: bad line in the network settings: %s\n", line);
		return;
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", vec);
	snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", eth);
	if (ioctl(sock, SIOCSIFNAME, &ifr) < 0) {
		net_warn("cannot rename", vec);
		snprintf(eth, sizeof(eth), "%s", vec);
	}
	if (strcmp(cidr, "-") && set_address(sock, eth, cidr) < 0)
		net_warn("cannot set the address of", eth);
	if (set_flag_up(sock, eth) < 0)
		net_warn("cannot bring up", eth);
	if (strcmp(gw, "-") && add_default_route(sock, gw) < 0)
		net_warn("cannot add the default route via", gw);
	if (strcmp(dns, "-"))
		write_resolver(dns);
}

void net_configure(const char *settings)
{
	FILE *f = fopen(settings, "re");
	char line[256];
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		if (f)
			fclose(f);
		return;
	}
	/* the loopback interface, always: guests talk to themselves too */
	if (set_flag_up(sock, "lo") < 0)
		net_warn("cannot bring up", "lo");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			configure(sock, line);
	}
	if (f)
		fclose(f);
	close(sock);
}
