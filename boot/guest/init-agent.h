#ifndef UMLKIT_INIT_AGENT_H
#define UMLKIT_INIT_AGENT_H
#include <sys/types.h>
/* Forks the lab agent on console line TTY (see init-agent.c). */
pid_t agent_start(const char *tty);
#endif
