/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "host/holders.h"

/* proc/driver/nvidia/gpus/ADDR/information is about 1 KiB. */
#define NVIDIA_INFO_MAX (64 * 1024)
/* /dev/nvidia255 is nvidiactl; GPU minors are below it. */
#define NVIDIA_MINOR_MAX 254

static const char *const nvidia_shared_nodes[] = {
        "dev/nvidiactl",
        "dev/nvidia-modeset",
        "dev/nvidia-uvm",
        "dev/nvidia-uvm-tools",
};

void device_nodes_free(char **paths)
{
        if (!paths)
                return;
        for (char **p = paths; *p; p++)
                free(*p);
        free(paths);
}

/* "card0" for prefix "card": the prefix, then a digit, then only letters and digits (the
 * sound nodes end in a direction letter: pcmC0D3p). Nothing else becomes a /dev path. */
static bool node_name(const char *name, const char *prefix)
{
        size_t k = strlen(prefix);

        if (strncmp(name, prefix, k) != 0 || name[k] < '0' || name[k] > '9')
                return false;
        for (const char *p = name + k; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        return false;
        return true;
}

static bool digits_only(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* A PCI device's class directory (drm, graphics, sound); 0 with *ret NULL when it has none. */
static int class_dir_open(const struct sysroot *sr, const char *address, const char *class, DIR **ret)
{
        char path[PATH_MAX];
        int r;

        *ret = NULL;
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/%s", address, class);
        r = sysroot_opendir(sr, path, ret);
        return r == -ENOENT ? 0 : r;
}

/* Nodes a PCI device's class directory lists: drm/card0 -> dev/dri/card0, and the fbdev
 * emulation's graphics/fb0 -> dev/fb0 (fbcon's, or a program drawing on it). */
static int add_class_nodes(const struct sysroot *sr, const char *address, const char *class,
                           const char *const *prefixes, const char *dev_dir, struct strv *out)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = class_dir_open(sr, address, class, &d);
        if (r < 0 || !d)
                return r;
        while ((de = readdir(d)))
                for (const char *const *p = prefixes; *p; p++)
                        if (node_name(de->d_name, *p)) {
                                r = strv_addf(out, "%s%s", dev_dir, de->d_name);
                                if (r < 0)
                                        return r;
                        }
        return 0;
}

static int add_sound_card(int sound_fd, const char *card, struct strv *out)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        /* O_NOFOLLOW: the card is a real sysfs directory; a link could lead out of the root */
        r = opendir_at(sound_fd, card, &d);
        if (r < 0)
                return r == -ENOENT || r == -ELOOP || r == -ENOTDIR ? 0 : r;
        while ((de = readdir(d)))
                if (node_name(de->d_name, "controlC") || node_name(de->d_name, "pcmC") ||
                    node_name(de->d_name, "hwC")) {
                        r = strv_addf(out, "dev/snd/%s", de->d_name);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int add_sound_nodes(const struct sysroot *sr, const char *address, struct strv *out)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = class_dir_open(sr, address, "sound", &d);
        if (r < 0 || !d)
                return r;
        while ((de = readdir(d)))
                if (node_name(de->d_name, "card") && digits_only(de->d_name + 4)) {
                        r = add_sound_card(dirfd(d), de->d_name, out);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The "Device Minor:" line of the driver's information file; -ENODATA when there is none. */
static int nvidia_minor(const struct sysroot *sr, const char *address, unsigned *ret)
{
        static const char key[] = "Device Minor:";
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "proc/driver/nvidia/gpus/%s/information", address);
        r = sysroot_read_file(sr, path, NVIDIA_INFO_MAX, &text, NULL);
        if (r < 0)
                return r;
        for (const char *line = text; *line;) {
                const char *end = strchrnul(line, '\n');

                if (strncmp(line, key, sizeof(key) - 1) == 0) {
                        const char *p = line + sizeof(key) - 1;
                        unsigned v = 0;

                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (p == end || *p < '0' || *p > '9')
                                return -EINVAL;
                        for (; *p >= '0' && *p <= '9'; p++)
                                if ((v = v * 10 + (unsigned)(*p - '0')) > NVIDIA_MINOR_MAX)
                                        return -EINVAL;
                        while (*p == ' ' || *p == '\t' || *p == '\r')
                                p++;
                        if (p != end)
                                return -EINVAL;
                        *ret = v;
                        return 0;
                }
                line = *end ? end + 1 : end;
        }
        return -ENODATA;
}

int device_nodes_of(const struct sysroot *sr, const struct pci_device *d, char ***ret_paths, size_t *ret_n)
{
        struct strv out = {};
        size_t n = 0;
        int r;

        static const char *const drm[] = {"card", "renderD", NULL}, *const fb[] = {"fb", NULL};

        r = add_class_nodes(sr, d->address, "drm", drm, "dev/dri/", &out);
        if (r >= 0)
                r = add_class_nodes(sr, d->address, "graphics", fb, "dev/", &out);
        if (r >= 0)
                r = add_sound_nodes(sr, d->address, &out);
        if (r >= 0 && d->driver && strcmp(d->driver, "nvidia") == 0) {
                unsigned minor;

                /* best effort: without the minor the shared nodes still name most holders */
                if (nvidia_minor(sr, d->address, &minor) >= 0)
                        r = strv_addf(&out, "dev/nvidia%u", minor);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(nvidia_shared_nodes); i++)
                        r = strv_addf(&out, "%s", nvidia_shared_nodes[i]);
        }
        if (r < 0) {
                strv_done(&out);
                return r;
        }
        if (out.n) {
                qsort(out.v, out.n, sizeof(char *), strv_compare);
                for (size_t i = 0; i < out.n; i++) {
                        if (n > 0 && strcmp(out.v[n - 1], out.v[i]) == 0) {
                                free(out.v[i]);
                                continue;
                        }
                        out.v[n++] = out.v[i];
                }
                out.v[n] = NULL;
                out.n = n;
        }
        *ret_paths = strv_take(&out); /* an empty list is still NULL-terminated */
        if (!*ret_paths)
                return -ENOMEM;
        if (ret_n)
                *ret_n = n;
        return 0;
}

void holders_free(struct holder *h, size_t n)
{
        if (!h)
                return;
        for (size_t i = 0; i < n; i++) {
                free(h[i].unit);
                free(h[i].node);
        }
        free(h);
}

struct holders {
        struct holder *v;
        size_t n, cap;
};

static int holders_add(struct holders *hs, const struct process_id *id, const char *comm, const char *unit,
                       const char *node)
{
        struct holder *h;

        if (hs->n == hs->cap) {
                size_t cap = hs->cap ? hs->cap * 2 : 8;
                struct holder *v = realloc(hs->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                hs->v = v;
                hs->cap = cap;
        }
        h = &hs->v[hs->n];
        *h = (struct holder){ .id = *id };
        snprintf(h->comm, sizeof(h->comm), "%s", comm);
        h->node = strdup(node);
        h->unit = unit ? strdup(unit) : NULL;
        if (!h->node || (unit && !h->unit)) {
                free(h->node);
                free(h->unit);
                return -ENOMEM;
        }
        hs->n++;
        return 0;
}

static int compare_pids(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

/* The numeric entries of proc/, sorted: the result is in pid order whatever readdir gives. */
static int list_pids(DIR *proc, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ pid_t *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        while ((de = readdir(proc))) {
                unsigned long x;
                char *end;

                if (!digits_only(de->d_name))
                        continue;
                errno = 0;
                x = strtoul(de->d_name, &end, 10);
                if (errno || *end || x == 0 || x > INT_MAX)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 256;
                        pid_t *nv = realloc(v, ncap * sizeof(*nv));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        cap = ncap;
                }
                v[n++] = (pid_t)x;
        }
        if (n > 1) /* v is NULL when proc/ has no process: qsort(NULL, 0) is undefined */
                qsort(v, n, sizeof(*v), compare_pids);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

enum scan_result { SCAN_GONE, SCAN_UNREADABLE, SCAN_OK };

/* Marks in held[] the nodes process pid has open. */
static int scan_fds(int proc_fd, pid_t pid, char *const *targets, size_t n_nodes, bool *held)
{
        _cleanup_closedir_ DIR *d = NULL;
        char name[16], target[PATH_MAX];
        struct dirent *de;
        int fd;

        snprintf(name, sizeof(name), "%d", (int)pid);
        fd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                int pid_fd = fd;
                fd = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                closep(&pid_fd);
        }
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? SCAN_GONE : SCAN_UNREADABLE;
        if (dir_from_fd(fd, &d) < 0)
                return -ENOMEM;
        while ((de = readdir(d))) {
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n < 0) {
                        if (errno == EACCES || errno == EPERM)
                                return SCAN_UNREADABLE;
                        continue; /* closed meanwhile, or not a link */
                }
                target[n] = '\0';
                for (size_t i = 0; i < n_nodes; i++)
                        if (strcmp(target, targets[i]) == 0)
                                held[i] = true;
        }
        return SCAN_OK;
}

int holders_scan(const struct sysroot *sr, char *const *nodes, size_t n_nodes, struct holder **ret,
                 size_t *ret_n, size_t *ret_n_unreadable)
{
        _cleanup_closedir_ DIR *proc = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ bool *held = NULL;
        _cleanup_free_ char **targets = NULL;
        struct holders hs = {};
        size_t n_pids = 0, n_unreadable = 0;
        int r;

        r = sysroot_opendir(sr, "proc", &proc);
        if (r < 0)
                return r;
        r = list_pids(proc, &pids, &n_pids);
        if (r < 0)
                return r;
        held = calloc(n_nodes ? n_nodes : 1, sizeof(bool));
        targets = calloc(n_nodes ? n_nodes : 1, sizeof(char *));
        if (!held || !targets)
                return -ENOMEM;
        /* as procfs shows them: "/dev/dri/card0" */
        for (size_t i = 0; i < n_nodes; i++) {
                const char *node = nodes[i];
                while (*node == '/')
                        node++;
                if (asprintf(&targets[i], "/%s", node) < 0) {
                        targets[i] = NULL;
                        r = -ENOMEM;
                        goto finish;
                }
        }

        for (size_t p = 0; p < n_pids && n_nodes > 0; p++) {
                _cleanup_free_ char *unit = NULL;
                struct process_id id, again;
                char comm[sizeof(((struct holder *)NULL)->comm)];
                bool any = false;

                r = process_id_read(sr, pids[p], &id, comm, sizeof(comm));
                if (r == -ESRCH)
                        continue;
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0) {
                        n_unreadable++;
                        continue;
                }
                memset(held, 0, n_nodes * sizeof(bool));
                r = scan_fds(dirfd(proc), pids[p], targets, n_nodes, held);
                if (r < 0)
                        goto finish;
                if (r == SCAN_GONE)
                        continue;
                if (r == SCAN_UNREADABLE) {
                        n_unreadable++;
                        continue;
                }
                for (size_t i = 0; i < n_nodes; i++)
                        any = any || held[i];
                if (!any)
                        continue;
                r = process_unit(sr, pids[p], &unit);
                if (r == -ENOMEM)
                        goto finish;
                /* the same process all along, or its pid was reused while we looked */
                if (process_id_read(sr, pids[p], &again, NULL, 0) < 0 || again.start_time != id.start_time)
                        continue;
                for (size_t i = 0; i < n_nodes; i++) {
                        if (!held[i])
                                continue;
                        /* the first of duplicate nodes only */
                        bool dup = false;
                        for (size_t j = 0; j < i; j++)
                                dup = dup || strcmp(targets[j], targets[i]) == 0;
                        if (dup)
                                continue;
                        r = holders_add(&hs, &id, comm, unit, nodes[i]);
                        if (r < 0)
                                goto finish;
                }
        }

        *ret = hs.v;
        *ret_n = hs.n;
        hs.v = NULL;
        hs.n = 0;
        if (ret_n_unreadable)
                *ret_n_unreadable = n_unreadable;
        r = 0;
finish:
        for (size_t i = 0; i < n_nodes; i++)
                free(targets[i]);
        holders_free(hs.v, hs.n);
        return r;
}

char *holder_describe(const struct holder *h)
{
        char comm[sizeof(h->comm)];
        const char *node = h->node;
        char *s;
        size_t i;

        for (i = 0; i + 1 < sizeof(comm) && h->comm[i]; i++)
                comm[i] = (unsigned char)h->comm[i] < 0x20 || h->comm[i] == 0x7f ? '?' : h->comm[i];
        comm[i] = '\0';
        while (*node == '/')
                node++;
        if (asprintf(&s, "pid %d %s%s%s%s holds /%s", (int)h->id.pid, comm, h->unit ? " (" : "",
                     h->unit ? h->unit : "", h->unit ? ")" : "", node) < 0)
                return NULL;
        return s;
}
