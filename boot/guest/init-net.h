#ifndef UMLKIT_INIT_NET_H
#define UMLKIT_INIT_NET_H
/* Sets up lo and the interfaces listed in SETTINGS (see init-net.c). */
void net_configure(const char *settings);
#endif
