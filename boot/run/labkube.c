/* boot.sh kube --parts N: Kubernetes manifests that run this lab as N
 * unprivileged pods, one part each (docs/lab.md). Per part a Pod and a
 * headless Service of the Pod's own name, so a part reaches part K by the
 * bare name BASE-K (Kubernetes: the namespace's search domain; podman
 * kube play: the network's DNS). No privilege, no capability, no host
 * network, path or device; the lab's secret is made here, fresh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lab.h"
#include "run.h"

/* BASE: umlkit-LAB as a DNS label (lower case, '-'), short enough for
 * "-16" after it */
static void base_name(const struct run *r, char base[48])
{
	size_t k = (size_t)snprintf(base, 48, "umlkit-");
	for (const char *p = r->conf.lab; *p && k < 44; p++)
		base[k++] = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	while (base[k - 1] == '-')
		k--;
	base[k] = '\0';
}

static void print_service(const char *base, int k, unsigned port)
{
	printf("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s-%d\n  labels:\n"
	       "    app.kubernetes.io/name: %s\nspec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n"
	       "  selector:\n    app.kubernetes.io/name: %s\n    umlkit.part: \"%d\"\n  ports:\n"
	       "  - {name: trunk, protocol: UDP, port: %u}\n  - {name: control, protocol: TCP, port: %u}\n",
	       base, k, base, base, k, port, port);
}

/* The volume's name is the pod's own: podman kube play makes a named
 * volume of an emptyDir, which pods naming the same one would share */
static void print_pod(const char *base, int k, int n, unsigned port, const char *image, const char *secret)
{
	printf("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s-%d\n  labels:\n"
	       "    app.kubernetes.io/name: %s\n    umlkit.part: \"%d\"\nspec:\n  hostname: %s-%d\n"
	       "  restartPolicy: Never\n  automountServiceAccountToken: false\n  securityContext:\n"
	       "    runAsNonRoot: true\n    runAsUser: 1000\n    runAsGroup: 1000\n"
	       "    seccompProfile: {type: RuntimeDefault}\n  containers:\n  - name: lab\n    image: %s\n"
	       "    imagePullPolicy: IfNotPresent\n    args: [start, --wait, --part, \"%d/%d\", --peers, \"",
	       base, k, base, k, base, k, image, k, n);
	for (int i = 1; i <= n; i++)
		printf("%s%s-%d:%u", i > 1 ? "," : "", base, i, port);
	/* no ports: the Service names them; podman kube play would publish
	 * a containerPort on the host */
	printf("\"]\n    env:\n    - {name: UMLKIT_LAB_SECRET, value: \"%s\"}\n    securityContext:\n"
	       "      privileged: false\n      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n"
	       "    volumeMounts:\n    - {name: %s-%d-tmp, mountPath: /tmp}\n  volumes:\n  - name: %s-%d-tmp\n"
	       "    emptyDir: {medium: Memory}\n",
	       secret, base, k, base, k);
}

/* boot.sh kube --parts N [--image REF] [--port PORT] */
int lab_kube(struct run *r, int n, const char *image, unsigned port)
{
	char base[48], secret[33];
	unsigned char raw[16];
	const char *given = getenv("UMLKIT_LAB_SECRET");
	if (given && (strlen(given) < 16 || strspn(given, "0123456789abcdefABCDEF") != strlen(given) ||
		      strlen(given) > 32)) {
		say(r->prog, "kube: UMLKIT_LAB_SECRET: 16 to 32 hexadecimal digits, or unset for a fresh one");
		return EX_USAGE;
	}
	if (given) {
		snprintf(secret, sizeof(secret), "%s", given);
	} else {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			die(EX_HOST, r->prog, "kube: no random bytes for the lab's secret");
		for (int i = 0; i < 16; i++)
			snprintf(secret + 2 * i, 3, "%02x", raw[i]);
	}
	base_name(r, base);
	printf("# The lab '%s' in %d parts, one a pod, unprivileged (umlkit: boot.sh kube).\n"
	       "# The image: boot.sh oci > image.tar, loaded where the pods run (podman load,\n"
	       "# docker load, ctr import) or pushed to a registry (then change image:).\n"
	       "# Reach a machine from any part: kubectl exec %s-1 -- boot.sh exec NAME -- CMD\n",
	       r->conf.lab, n, base);
	for (int k = 1; k <= n; k++) {
		print_service(base, k, port);
		print_pod(base, k, n, port, image, secret);
	}
	return 0;
}
