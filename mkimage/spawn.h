/* Running host tools (tar2sqfs, mkfs.erofs, compressors, ...). */
#ifndef MKIMAGE_SPAWN_H
#define MKIMAGE_SPAWN_H

#include <sys/types.h>

/* Start argv[0] (looked up in PATH) with stdin from in_fd and stdout to
 * out_fd (-1: inherit; -2: /dev/null). Returns the pid or -1. */
pid_t spawn(char *const argv[], int in_fd, int out_fd);
/* The same, with stderr to err_fd (-1: inherit). */
pid_t spawn_io(char *const argv[], int in_fd, int out_fd, int err_fd);
/* Wait for pid; returns its exit status, or -1 (with a message naming
 * argv0) if it was killed or could not be run. */
int spawn_wait(pid_t pid, const char *argv0);
/* spawn + spawn_wait, output to stderr's care: 0 when it exits 0. */
int run(char *const argv[], int out_fd);
/* Run and capture stdout into *out; returns the exit status or -1. */
struct buf;
int run_capture(char *const argv[], struct buf *out);

#endif
