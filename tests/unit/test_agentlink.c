/* The lab agent's line as the host reads it (boot/run/agentlink.c): frames
 * cut at any byte, and what a hostile guest sends. */
#include "../../boot/run/lab.h"
#include "unit.h"

struct seen {
	char types[64];
	size_t n, bytes;
};

static void on_frame(void *ctx, int type, int session, const unsigned char *payload, size_t len)
{
	struct seen *s = ctx;
	(void)session, (void)payload;
	if (s->n < sizeof(s->types) - 1)
		s->types[s->n++] = (char)type;
	s->bytes += len;
}

struct link_case {
	const char *name;
	const unsigned char *data;
	size_t len;
	size_t cut;		/* fed in pieces of this size */
	const char *types;	/* the frame types it yields, in order */
	int broken;
};

#define BYTES(s) (const unsigned char *)(s), sizeof(s) - 1

static const struct link_case cases[] = {
	{ "one frame", BYTES("O\001\000\002hi"), 100, "O", 0 },
	{ "frames cut at every byte", BYTES("O\001\000\002hiX\001\000\001\000A\000\000\004\000\000\000\010"), 1,
	  "OXA", 0 },
	{ "an empty payload", BYTES("z\007\000\000"), 3, "z", 0 },
	{ "a half frame waits", BYTES("O\001\000\005ab"), 100, "", 0 },
	{ "a header over 4 KiB breaks the line", BYTES("O\001\020\001"), 100, "", 1 },
	{ "frames before the bad header still come", BYTES("X\002\000\001\000O\001\377\377garbage"), 2, "X", 1 },
	{ "exactly 4 KiB is allowed", BYTES("O\001\020\000"), 100, "", 0 },
};

int main(void)
{
	struct unit u = { 0 };
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		const struct link_case *c = &cases[i];
		struct agent_link link;
		struct seen seen = { "", 0, 0 };
		int rc = 0;
		memset(&link, 0, sizeof(link));
		for (size_t off = 0; off < c->len; off += c->cut)
			rc = agent_link_feed(&link, c->data + off, c->len - off < c->cut ? c->len - off : c->cut,
					     on_frame, &seen) < 0 ? -1 : rc;
		unit_case(&u, !strcmp(seen.types, c->types) && (rc < 0) == c->broken && link.broken == c->broken,
			  c->name, "frames '%s', broken %d", seen.types, link.broken);
	}
	/* 4 KiB of payload in one frame, fed in 1000-byte reads */
	{
		static unsigned char big[4 + 4096];
		struct agent_link link;
		struct seen seen = { "", 0, 0 };
		memset(&link, 0, sizeof(link));
		agent_header(big, 'O', 3, 4096);
		for (size_t off = 0; off < sizeof(big); off += 1000)
			agent_link_feed(&link, big + off, sizeof(big) - off < 1000 ? sizeof(big) - off : 1000, on_frame, &seen);
		unit_case(&u, seen.n == 1 && seen.bytes == 4096 && !link.broken, "the largest frame", "%zu frames, %zu bytes",
			  seen.n, seen.bytes);
	}
	return unit_done(&u);
}
