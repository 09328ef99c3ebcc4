/* A command that sends and exits at once leaves its last bytes in the
 * kernel's send queue: the socket outlives the process, but not a
 * poweroff. Before powering off, init waits until every TCP connection's
 * send queue is acknowledged (/proc/net/tcp and tcp6: tx_queue 0, and no
 * FIN still unacknowledged: FIN_WAIT1 or CLOSING), or MAX_MS passes (a
 * peer that stopped reading). With nothing in flight it costs one read of
 * each file. */
#define _GNU_SOURCE
#include "init-drain.h"

#include <stdio.h>
#include <time.h>

#define TCP_FIN_WAIT1 0x04
#define TCP_CLOSING 0x0B

/* 1 when FILE lists a connection with something unacknowledged. */
static int in_flight(const char *file)
{
	char line[512];
	int busy = 0;
	FILE *f = fopen(file, "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return 0;
	}
	while (!busy && fgets(line, sizeof(line), f)) {
		unsigned state, tx_queue;
		if (sscanf(line, " %*u: %*s %*s %x %x:", &state, &tx_queue) == 2)
			busy = tx_queue != 0 || state == TCP_FIN_WAIT1 || state == TCP_CLOSING;
	}
	fclose(f);
	return busy;
}

void tcp_drain(int max_ms)
{
	struct timespec tick = { 0, 5000000 };
	for (int waited = 0; waited < max_ms; waited += 5) {
		if (!in_flight("/proc/net/tcp") && !in_flight("/proc/net/tcp6"))
			return;
		nanosleep(&tick, NULL);
	}
}
