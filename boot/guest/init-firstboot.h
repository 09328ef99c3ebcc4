#ifndef UMLKIT_INIT_FIRSTBOOT_H
#define UMLKIT_INIT_FIRSTBOOT_H
/* What an image must not carry (every copy would share it), made at boot. */
void first_boot(void);
#endif
