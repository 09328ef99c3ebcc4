#ifndef UMLKIT_INIT_DRAIN_H
#define UMLKIT_INIT_DRAIN_H
/* Waits (MAX_MS at most) until no TCP connection has data or a FIN its
 * peer has not acknowledged: what a command sent just before it ended
 * reaches the peer before the guest powers off. */
void tcp_drain(int max_ms);
#endif
