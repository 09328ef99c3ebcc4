/* The host's end of a lab agent's line (boot/agent-proto.h): the bytes the
 * guest sends, cut into frames. The guest is not trusted. A frame longer
 * than any agent sends means the line is out of step: from there on no
 * byte of it can be told apart from a frame boundary, so it stays broken.
 * Pure: no I/O, fuzzed (fuzz.c). */
#include <string.h>

#include "lab.h"

static void take_frames(struct agent_link *l, agent_frame_fn *fn, void *ctx)
{
	size_t off = 0;
	while (!l->broken && l->len - off >= AGENT_HEADER) {
		const unsigned char *h = l->buf + off;
		size_t len = agent_length(h);
		if (len > AGENT_MAX_PAYLOAD) {
			l->broken = 1;
			break;
		}
		if (l->len - off < AGENT_HEADER + len)
			break;
		fn(ctx, h[0], h[1], h + AGENT_HEADER, len);
		off += AGENT_HEADER + len;
	}
	if (l->broken)
		off = l->len;
	memmove(l->buf, l->buf + off, l->len - off);
	l->len -= off;
}

int agent_link_feed(struct agent_link *l, const unsigned char *data, size_t n, agent_frame_fn *fn, void *ctx)
{
	while (n && !l->broken) {
		size_t room = sizeof(l->buf) - l->len, take = n < room ? n : room;
		memcpy(l->buf + l->len, data, take);
		l->len += take;
		data += take;
		n -= take;
		take_frames(l, fn, ctx);
	}
	return l->broken ? -1 : 0;
}
