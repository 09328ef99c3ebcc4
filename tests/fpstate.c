/* Each guest thread keeps its own FP control state; exec starts a program
 * with the default one; a signal handler's changes end at its return. */
#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int bad;

static void *hold(void *arg)
{
	int mode = *(int *)arg;
	fesetround(mode);
	for (int i = 0; i < 20000; i++) {
		sched_yield();
		if (fegetround() != mode)
			bad = 1;
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	fesetround(FE_TOWARDZERO);
}

int main(int argc, char **argv)
{
	int modes[2] = { FE_DOWNWARD, FE_UPWARD };
	pthread_t t[2];
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		printf("exec: %s\n", fegetround() == FE_TONEAREST ? "ok" : "inherited");
		return 0;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, hold, &modes[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("threads: %s\n", bad ? "mixed" : "ok");
	fesetround(FE_UPWARD);
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("signal: %s\n", fegetround() == FE_UPWARD ? "ok" : "leaked");
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
	return 1;
}
