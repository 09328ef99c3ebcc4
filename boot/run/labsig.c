/* boot.sh test --signature DIR: Kathara's old ltest idea, which teachers
 * still grade labs by. Each machine's signature (its addresses, routes and
 * listening ports, after startup) is saved as DIR/NAME.signature on the
 * first run; a later run compares each machine with its saved signature
 * and reports the lines that went and came, as TAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"
#include "run.h"

#define SIGNATURE_MAX (64 << 10)

/* Run in each machine by sh -c: what is stable across boots (no link-local
 * addresses, which random MACs change; no nexthop ids), sorted; busybox's
 * ip and netstat or Debian's iproute2 and ss. */
static const char signature_script[] =
	"echo '# addresses'; ip -o addr show | grep -v ' scope link' | awk '{ print $2, $3, $4 }' | sort\n"
	"echo '# routes'; { ip route show; ip -6 route show 2>/dev/null | grep -v '^fe80'; } |"
	" sed 's/ nhid [0-9]*//' | sort\n"
	"echo '# listening'; if command -v ss >/dev/null; then ss -ltnuH | awk '{ print $1, $5 }';"
	" else netstat -ltnu | awk 'NR > 2 { print $1, $4 }'; fi | sort -u\n";

/* what sh -c SCRIPT printed on machine NAME, or NULL */
static char *machine_signature(struct run *r, const char *inst, const char *name)
{
	char *argv[] = { "sh", "-c", (char *)signature_script, NULL }, *text = NULL;
	FILE *out = tmpfile();
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (out && null >= 0 && lab_exec(r, inst, name, argv, null, fileno(out), fileno(out)) == 0) {
		size_t n;
		text = xcalloc(1, SIGNATURE_MAX + 1);
		rewind(out);
		n = fread(text, 1, SIGNATURE_MAX, out);
		text[n] = '\0';
	}
	if (out)
		fclose(out);
	if (null >= 0)
		close(null);
	return text;
}

/* Is LINE (up to its newline) a line of TEXT? */
static int has_line(const char *text, const char *line)
{
	size_t len = strcspn(line, "\n");
	for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0'))
		if (strcspn(p, "\n") == len && !strncmp(p, line, len))
			return 1;
	return 0;
}

/* How many lines of A are not in B; with SIGN, each as "# SIGN LINE" */
static int missing(const char *a, const char *b, char sign)
{
	int n = 0;
	for (const char *p = a; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0'))
		if (!has_line(b, p)) {
			if (sign)
				printf("# %c %.*s\n", sign, (int)strcspn(p, "\n"), p);
			n++;
		}
	return n;
}

/* One TAP line a machine, numbered from *K on; the failures added to
 * *FAILED. DIR is made if missing. */
void lab_signatures(struct run *r, const char *inst, const struct lab *lab, const char *dir, int *k, int *failed)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		say(r->prog, "--signature '%s': %s", dir, strerror(errno));
	for (int i = 0; i < lab->n_machines; i++) {
		const char *name = lab->machines[i].name;
		char *path = xasprintf("%s/%s.signature", dir, name), *now = machine_signature(r, inst, name);
		char *saved = read_file_nofollow(path, SIGNATURE_MAX, NULL);
		++*k;
		if (!now) {
			printf("not ok %d - %s signature (the machine did not answer)\n", *k, name);
			++*failed;
		} else if (!saved) {
			int rc = write_file(path, now, strlen(now));
			printf("%sok %d - %s signature saved in %s\n", rc < 0 ? "not " : "", *k, name, path);
			*failed += rc < 0;
		} else if (!missing(saved, now, 0) && !missing(now, saved, 0)) {
			printf("ok %d - %s matches its signature\n", *k, name);
		} else {
			printf("not ok %d - %s differs from its signature (- saved, + now)\n", *k, name);
			missing(saved, now, '-');
			missing(now, saved, '+');
			++*failed;
		}
		free(path);
		free(now);
		free(saved);
	}
}
