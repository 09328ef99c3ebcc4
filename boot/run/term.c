/* The user's terminal: modes saved before the run and restored on every
 * way out; the guest gets a pty of its own (as script(1) does), so UML
 * never changes the user's terminal or its file flags. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "run.h"

int term_save(int fd, struct termios *saved)
{
	return tcgetattr(fd, saved);
}

void term_raw(int fd, const struct termios *saved)
{
	struct termios raw = *saved;
	cfmakeraw(&raw);
	while (tcsetattr(fd, TCSADRAIN, &raw) < 0 && errno == EINTR)
		;
}

void term_restore(int fd, const struct termios *saved)
{
	while (tcsetattr(fd, TCSADRAIN, saved) < 0 && errno == EINTR)
		;
}

int pty_open(int *master, int *slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char *name;
	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m))) {
		close(m);
		return -1;
	}
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		close(m);
		return -1;
	}
	/* raw from the start: the guest's own tty echoes and edits; a cooked
	 * pty would echo what arrives before UML makes it raw a second time
	 * (a NUL from the user's terminal showed as ^@^@) */
	{
		struct termios t;
		if (tcgetattr(*slave, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(*slave, TCSANOW, &t);
		}
	}
	*master = m;
	return 0;
}

void pty_copy_size(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}
