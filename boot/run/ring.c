/* The last RING_KEEP bytes of a stream: the kernel's boot log kept for a
 * crash report (supervise.c), a lab machine's console kept for connect
 * (labmachine.c). */
#include <string.h>

#include "run.h"

void ring_add(struct ring *ring, const char *data, size_t n)
{
	if (n >= RING_KEEP) {
		memcpy(ring->buf, data + n - RING_KEEP, RING_KEEP);
		ring->len = RING_KEEP;
		return;
	}
	if (ring->len + n > RING_KEEP) {
		size_t drop = ring->len + n - RING_KEEP;
		memmove(ring->buf, ring->buf + drop, ring->len - drop);
		ring->len -= drop;
	}
	memcpy(ring->buf + ring->len, data, n);
	ring->len += n;
}
