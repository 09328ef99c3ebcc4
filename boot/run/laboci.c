/* boot.sh oci > image.tar: an OCI image of this lab bundle (docs/lab.md),
 * made here with no daemon and no network: one layer holding a static
 * BusyBox (this host's: Debian's busybox-static) and the bundle as
 * /usr/local/bin/boot.sh, run as uid 1000. The archive is an OCI image
 * layout (oci-layout, index.json, blobs/) with Docker's manifest.json
 * beside it, so podman load, docker load and ctr import all take it.
 * Every timestamp is 0 and every owner numeric: the same bundle and
 * BusyBox give the same bytes. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "run.h"

#define BLOCK 512
#define IMAGE_UID 1000
#define BUNDLE_MAX (2ULL << 30)

struct tarbuf {
	unsigned char *data;
	size_t len, cap;
};

static void tar_grow(struct tarbuf *t, size_t more)
{
	if (t->len + more <= t->cap)
		return;
	t->cap = (t->len + more) * 2;
	t->data = xrealloc(t->data, t->cap);
}

/* One ustar member: TYPE '0' file, '2' symlink (LINK), '5' directory */
static void tar_add(struct tarbuf *t, const char *name, char type, unsigned mode, unsigned uid, const void *data,
		    size_t size, const char *link)
{
	unsigned char *h;
	unsigned sum = 0;
	size_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;
	tar_grow(t, BLOCK + padded);
	h = t->data + t->len;
	memset(h, 0, BLOCK);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", uid);
	snprintf((char *)h + 116, 8, "%07o", uid);
	snprintf((char *)h + 124, 12, "%011zo", size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar\0" "00", 8);
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	t->len += BLOCK;
	if (size) {
		memcpy(t->data + t->len, data, size);
		memset(t->data + t->len + size, 0, padded - size);
		t->len += padded;
	}
}

static void tar_end(struct tarbuf *t)
{
	tar_grow(t, 2 * BLOCK);
	memset(t->data + t->len, 0, 2 * BLOCK);
	t->len += 2 * BLOCK;
}

static void digest_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	const void *parts[1] = { data };
	sha256_parts(parts, &len, 1, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Is FILE a static executable (an ELF with no interpreter)? */
static int static_elf(const unsigned char *file, size_t len)
{
	const Elf64_Ehdr *e = (const void *)file;
	if (len < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->e_phoff > len || e->e_phnum > (len - e->e_phoff) / sizeof(Elf64_Phdr))
		return 0;
	for (int i = 0; i < e->e_phnum; i++)
		if (((const Elf64_Phdr *)(file + e->e_phoff))[i].p_type == PT_INTERP)
			return 0;
	return 1;
}

/* BusyBox's applet names (busybox --list), or NULL */
static char *applets(const char *busybox)
{
	int p[2], status;
	char *out = xcalloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return NULL;
	if (pid == 0) {
		child_defaults();
		if (dup2(p[1], 1) < 0)
			_exit(127);
		execl(busybox, "busybox", "--list", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len < 65535 && (n = read(p[0], out + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && len ? out : NULL;
}

/* The image's one layer: BusyBox with its applets in /bin, the bundle */
static void make_layer(struct tarbuf *t, const unsigned char *busybox, size_t busybox_len, char *names,
		       const unsigned char *bundle, size_t bundle_len)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nlab:x:1000:1000:lab:/home/lab:/bin/sh\n";
	static const char group[] = "root:x:0:\nlab:x:1000:\n";
	static const char *const dirs[] = { "bin/", "etc/", "home/", "root/", "usr/", "usr/local/", "usr/local/bin/" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		tar_add(t, dirs[i], '5', 0755, 0, NULL, 0, NULL);
	tar_add(t, "home/lab/", '5', 0755, IMAGE_UID, NULL, 0, NULL);
	tar_add(t, "tmp/", '5', 01777, 0, NULL, 0, NULL);
	tar_add(t, "etc/passwd", '0', 0644, 0, passwd, sizeof(passwd) - 1, NULL);
	tar_add(t, "etc/group", '0', 0644, 0, group, sizeof(group) - 1, NULL);
	tar_add(t, "bin/busybox", '0', 0755, 0, busybox, busybox_len, NULL);
	for (char *name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
		char path[80];
		if (!strcmp(name, "busybox") || strlen(name) > 64 || strchr(name, '/'))
			continue;
		snprintf(path, sizeof(path), "bin/%s", name);
		tar_add(t, path, '2', 0777, 0, NULL, 0, "busybox");
	}
	tar_add(t, "usr/local/bin/boot.sh", '0', 0755, 0, bundle, bundle_len, NULL);
	tar_end(t);
}

/* A blob of the outer archive, named by its digest */
static void add_blob(struct tarbuf *out, const void *data, size_t len, char hex[65])
{
	char name[100];
	digest_hex(data, len, hex);
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	tar_add(out, name, '0', 0644, 0, data, len, NULL);
}

static void make_archive(struct tarbuf *out, const struct tarbuf *layer, const char *ref)
{
	char layer_hex[65], config_hex[65], manifest_hex[65], *config, *manifest, *index, *docker;
	add_blob(out, layer->data, layer->len, layer_hex);
	config = xasprintf("{\"created\":\"1970-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"%d\","
			   "\"Env\":[\"PATH=/usr/local/bin:/bin\",\"HOME=/home/lab\",\"TMPDIR=/tmp\"],"
			   "\"Entrypoint\":[\"/usr/local/bin/boot.sh\"],\"Cmd\":[\"--help\"],\"WorkingDir\":\"/home/lab\"},"
			   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]},"
			   "\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"boot.sh oci (umlkit)\"}]}", IMAGE_UID, layer_hex);
	add_blob(out, config, strlen(config), config_hex);
	manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
			     "\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
			     "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
			     config_hex, strlen(config), layer_hex, layer->len);
	add_blob(out, manifest, strlen(manifest), manifest_hex);
	index = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
			  "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
			  "\"sha256:%s\",\"size\":%zu,\"annotations\":{\"io.containerd.image.name\":\"%s\","
			  "\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
			  manifest_hex, strlen(manifest), ref);
	docker = xasprintf("[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"blobs/sha256/%s\"]}]",
			   config_hex, ref, layer_hex);
	tar_add(out, "oci-layout", '0', 0644, 0, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, NULL);
	tar_add(out, "index.json", '0', 0644, 0, index, strlen(index), NULL);
	tar_add(out, "manifest.json", '0', 0644, 0, docker, strlen(docker), NULL);
	tar_end(out);
}

/* The image's name: localhost/umlkit-LAB:latest, LAB in lower case */
char *lab_image_ref(const struct run *r)
{
	char *ref = xasprintf("localhost/umlkit-%s:latest", r->conf.lab);
	for (char *p = ref; *p; p++)
		*p = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	return ref;
}

/* boot.sh oci [--busybox PATH] > FILE */
int lab_oci(struct run *r, const char *busybox_path)
{
	struct tarbuf layer = { 0 }, out = { 0 };
	size_t busybox_len, bundle_len;
	unsigned char *busybox, *bundle;
	char *names, *path = busybox_path ? xstrdup(busybox_path) : NULL;
	if (!path) {
		const char *dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin" };
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !path; i++)
			if (access(xasprintf("%s/busybox", dirs[i]), X_OK) == 0)
				path = xasprintf("%s/busybox", dirs[i]);
	}
	if (isatty(1)) {
		say(r->prog, "oci: the image is a tar archive: send it to a file (boot.sh oci > image.tar) or a "
		    "loader (boot.sh oci | podman load)");
		return EX_USAGE;
	}
	busybox = path ? (unsigned char *)read_file(path, 64 << 20, &busybox_len) : NULL;
	if (!busybox || !static_elf(busybox, busybox_len) || !(names = applets(path))) {
		say(r->prog, "oci: %s%s is not a static BusyBox: install Debian's busybox-static, or name one with "
		    "--busybox PATH", path ? path : "busybox", path ? "" : " not found, or");
		return busybox_path ? EX_USAGE : EX_HOST;
	}
	bundle = (unsigned char *)read_file(r->bundle, BUNDLE_MAX, &bundle_len);
	if (!bundle)
		die(EX_HOST, r->prog, "oci: cannot read %s: %s", r->bundle, strerror(errno));
	/* the script's settings, before its payload (boot/mkbundle.sh) */
	static const char zstd[] = "\ndecompress='zstd";
	if (memmem(bundle, bundle_len < 65536 ? bundle_len : 65536, zstd, sizeof(zstd) - 1)) {
		say(r->prog, "oci: this bundle is zstd-compressed, which BusyBox cannot unpack: rebuild it with xz "
		    "or gzip (make menuconfig, Bundle)");
		return EX_USAGE;
	}
	make_layer(&layer, busybox, busybox_len, names, bundle, bundle_len);
	make_archive(&out, &layer, lab_image_ref(r));
	if (write_all(1, out.data, out.len) < 0) {
		say(r->prog, "oci: cannot write the image: %s", strerror(errno));
		return EX_HOST;
	}
	return 0;
}
