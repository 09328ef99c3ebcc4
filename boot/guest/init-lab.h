#ifndef UMLKIT_INIT_LAB_H
#define UMLKIT_INIT_LAB_H
/* Prepares lab machine NAME and runs its startup scripts (init-lab.c). */
void lab_start(const char *run_dir, const char *name);
#endif
