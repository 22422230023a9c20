/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel model: sysfs writes and module operations with their kernel meaning on a fake
 * tree. The tree itself is the state (who is bound, what is loaded); the model only remembers
 * what the tree cannot say: native drivers, module dependencies, what an unload or a remove
 * took away, held devices and failure rules. See kmodel.h for the rules. */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "kmodel.h"
#include "room.h"
#include "tree-remove.h"

#define VFIO_PCI "vfio-pci"
#define PCI_DRIVERS "sys/bus/pci/drivers"
#define PLATFORM_DRIVERS "sys/bus/platform/drivers"
#define MAX_DEPTH 32

/* ---- string vectors ---- */

struct strv {
        char **v;
        size_t n;
};

static bool sv_contains(const struct strv *s, const char *str)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], str) == 0)
                        return true;
        return false;
}

/* Appends a copy of str unless it is there already. */
static int sv_add(struct strv *s, const char *str)
{
        char **v;

        if (sv_contains(s, str))
                return 0;
        v = realloc(s->v, (s->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        s->v = v;
        s->v[s->n] = strdup(str);
        if (!s->v[s->n])
                return -ENOMEM;
        s->n++;
        return 0;
}

static void sv_done(struct strv *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (struct strv){};
}

/* ---- saved subtrees: what an unload or a remove takes away, to put back exactly ---- */

struct node {
        char *path;  /* relative to the root */
        mode_t mode; /* with the type bits */
        char *data;  /* file content or link target */
        size_t len;
};

struct subtree {
        struct node *v;
        size_t n;
};

static void subtree_done(struct subtree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].data);
        }
        free(t->v);
        *t = (struct subtree){};
}

static int subtree_push(struct subtree *t, struct node n)
{
        struct node *v = realloc(t->v, (t->n + 1) * sizeof(*v));

        if (!v) {
                free(n.path);
                free(n.data);
                return -ENOMEM;
        }
        t->v = v;
        t->v[t->n++] = n;
        return 0;
}

/* Appends path and, for a directory, everything below it (parents before children). */
static int subtree_capture(int rootfd, const char *path, struct subtree *t)
{
        struct node n = {};
        struct stat st;
        int r;

        if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        n.path = strdup(path);
        if (!n.path)
                return -ENOMEM;
        n.mode = st.st_mode;
        if (S_ISLNK(st.st_mode))
                r = read_link_at(rootfd, path, &n.data);
        else if (S_ISREG(st.st_mode))
                r = read_file_at(rootfd, path, 16 * 1024 * 1024, &n.data, &n.len);
        else
                r = S_ISDIR(st.st_mode) ? 0 : -EOPNOTSUPP;
        if (r >= 0 && S_ISLNK(st.st_mode))
                n.len = strlen(n.data);
        if (r < 0) {
                free(n.path);
                free(n.data);
                return r;
        }
        r = subtree_push(t, n);
        if (r < 0 || !S_ISDIR(st.st_mode))
                return r;

        {
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;

                r = opendir_at(rootfd, path, &d);
                if (r < 0)
                        return r;
                while ((de = readdir(d))) {
                        _cleanup_free_ char *sub = NULL;

                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                                return -ENOMEM;
                        r = subtree_capture(rootfd, sub, t);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int subtree_restore(int rootfd, const struct subtree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct node *n = &t->v[i];
                mode_t perm = n->mode & 07777;

                if (S_ISDIR(n->mode)) {
                        if (mkdirat(rootfd, n->path, perm) < 0 && errno != EEXIST)
                                return negative_errno();
                        if (fchmodat(rootfd, n->path, perm, 0) < 0) /* past the umask */
                                return negative_errno();
                } else if (S_ISLNK(n->mode)) {
                        if (symlinkat(n->data, rootfd, n->path) < 0)
                                return negative_errno();
                } else {
                        _cleanup_close_ int fd = openat(
                            rootfd, n->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
                        int r;

                        if (fd < 0)
                                return negative_errno();
                        r = write_all(fd, n->data, n->len);
                        if (r < 0)
                                return r;
                        if (fchmod(fd, perm) < 0)
                                return negative_errno();
                }
        }
        return 0;
}

/* ---- the model ---- */

struct kdev {
        char *addr;
        char *dir;    /* the device directory, relative to the root, symlinks resolved */
        char *native; /* what drivers_probe binds it to without driver_override; NULL: nothing */
        bool held;
        bool removed;
        struct subtree saved; /* while removed */
        /* Resets: the reset_method the tree started with (the kernel's default list; NULL: the
         * device has none), the methods a write may name (NULL: the default list), how many
         * resets hit it, and whether the next one leaves it gone (config space all ones). */
        char *default_reset;
        char *supported_reset;
        unsigned n_resets;
        bool dies_on_reset;
};

struct pdev {
        char *name;
        char *dir;
        char *native;
        bool backlink; /* the tree had drivers/DRV/NAME at the start */
        bool gone;
};

struct kmod {
        char *name;
        struct strv deps;    /* loaded first (modules.dep, and what it held) */
        struct strv holds;   /* modules it is a holder of while loaded */
        struct strv drivers; /* PCI drivers it registers */
        bool holds_known;    /* holds came from the tree, not guessed from modules.dep */
        struct subtree saved;
        bool have_saved;
        long order; /* place in proc/modules; -1: never loaded */
        /* its proc/modules line at the start */
        char *proc_size, *proc_tail;
        struct strv proc_holders;
};

struct dynid {
        char *driver;
        uint32_t vendor, device;
};

struct rule {
        char *glob;
        int error;
        unsigned nth, seen;
};

struct kmodel {
        const struct sysroot *sr;
        int rootfd;
        pid_t ignores_term; /* this process survives SIGTERM (kmodel_ignore_term) */
        struct kdev *devs;
        size_t n_devs;
        struct pdev *pdevs;
        size_t n_pdevs;
        struct kmod *mods;
        size_t n_mods;
        struct dynid *dynids;
        size_t n_dynids;
        struct rule *rules;
        size_t n_rules;
        kmodel_op_fn on_op;
        void *on_op_userdata;
        unsigned n_ops;
        char *log;
        size_t log_len;
        int hold_error;
        bool unload_unbinds;
        bool have_proc_modules;
        long next_order;
        struct room_model room; /* hugepages, cpusets, stopped processes: room.c */
};

/* Saves the subtrees at roots into saved, then deletes them. */
static int take_away(struct kmodel *m, const struct strv *roots, struct subtree *saved)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < roots->n; i++)
                r = subtree_capture(m->rootfd, roots->v[i], saved);
        for (size_t i = 0; r >= 0 && i < roots->n; i++)
                r = tree_remove_at(m->rootfd, roots->v[i]);
        if (r < 0)
                subtree_done(saved);
        return r;
}

_printf_(1, 2) static char *joinf(const char *fmt, ...)
{
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static bool exists_at(const struct kmodel *m, const char *path)
{
        return faccessat(m->rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The path from directory from to to, both relative to the root, as sysfs writes its links:
 * "../" up to the deepest common directory, then down (the same as fakehost). */
static char *relpath(const char *from, const char *to)
{
        size_t common = 0, i = 0, ups = 0;
        const char *rest;
        char *s, *p;

        while (from[i] && from[i] == to[i]) {
                if (from[i] == '/')
                        common = i;
                i++;
        }
        if ((from[i] == 0 || from[i] == '/') && (to[i] == 0 || to[i] == '/'))
                common = i;
        rest = from + common;
        if (*rest == '/')
                rest++;
        if (*rest) {
                ups = 1;
                for (const char *c = rest; *c; c++)
                        ups += *c == '/';
        }
        rest = to + common;
        if (*rest == '/')
                rest++;
        s = malloc(ups * 3 + strlen(rest) + 2);
        if (!s)
                return NULL;
        p = s;
        for (size_t k = 0; k < ups; k++)
                p = stpcpy(p, "../");
        if (*rest)
                strcpy(p, rest);
        else if (ups > 0)
                p[-1] = 0; /* "../.." rather than "../../" */
        else
                strcpy(s, ".");
        return s;
}

/* A symlink at link (relative to the root) to dest (relative to the root), made relative. */
static int make_link(struct kmodel *m, const char *link, const char *dest)
{
        _cleanup_free_ char *dir = strdup(link), *target = NULL;
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        target = relpath(dir, dest);
        if (!target)
                return -ENOMEM;
        if (symlinkat(target, m->rootfd, link) < 0)
                return negative_errno();
        return 0;
}

static int unlink_at(struct kmodel *m, const char *path)
{
        if (unlinkat(m->rootfd, path, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

/* Writes text to path, creating it (0644) or replacing its content, keeping its mode. */
static int put_text(struct kmodel *m, const char *path, const char *text)
{
        _cleanup_close_ int fd =
            openat(m->rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

        if (fd < 0)
                return negative_errno();
        return write_all(fd, text, strlen(text));
}

static int read_text(const struct kmodel *m, const char *path, char *buf, size_t size)
{
        ssize_t r = read_attr_at(m->rootfd, path, buf, size);

        return r < 0 ? (int)r : 0;
}

static long read_long(const struct kmodel *m, const char *path)
{
        char buf[32];

        if (read_text(m, path, buf, sizeof(buf)) < 0)
                return 0;
        return strtol(buf, NULL, 10);
}

static int add_to_long(struct kmodel *m, const char *path, long delta)
{
        char buf[32];
        long v = read_long(m, path) + delta;

        snprintf(buf, sizeof(buf), "%ld\n", v < 0 ? 0 : v);
        return put_text(m, path, buf);
}

/* The entry names of a directory (NULL entries: none or no directory). */
static int list_dir(const struct kmodel *m, const char *path, struct strv *ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        *ret = (struct strv){};
        fd = openat(m->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        r = dir_from_fd(fd, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        r = sv_add(ret, de->d_name);
                        if (r < 0) {
                                sv_done(ret);
                                return r;
                        }
                }
        return 0;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The root-relative real path of path (a symlink inside the tree), or NULL. */
static char *resolve(const struct kmodel *m, const char *path)
{
        _cleanup_free_ char *full = joinf("%s/%s", m->sr->path, path), *real = NULL;
        size_t rootlen = strlen(m->sr->path);

        if (!full)
                return NULL;
        real = realpath(full, NULL);
        if (!real || strncmp(real, m->sr->path, rootlen) != 0 || real[rootlen] != '/')
                return NULL;
        return strdup(real + rootlen + 1);
}

static void normalize_module(const char *name, char *buf, size_t size)
{
        size_t i;

        for (i = 0; name[i] && i + 1 < size; i++)
                buf[i] = name[i] == '-' ? '_' : name[i];
        buf[i] = 0;
}

/* A copy of value without trailing whitespace (the kernel compares names with sysfs_streq). */
static char *word_of(const char *value)
{
        char *s = strdup(value);

        return s ? strip_trailing(s) : NULL;
}

/* ---- lookups ---- */

static struct kdev *find_dev(struct kmodel *m, const char *addr)
{
        for (size_t i = 0; i < m->n_devs; i++)
                if (strcasecmp(m->devs[i].addr, addr) == 0 && !m->devs[i].removed)
                        return &m->devs[i];
        return NULL;
}

static struct kdev *find_dev_by_dir(struct kmodel *m, const char *dir, size_t len)
{
        for (size_t i = 0; i < m->n_devs; i++)
                if (!m->devs[i].removed && strlen(m->devs[i].dir) == len &&
                    strncmp(m->devs[i].dir, dir, len) == 0)
                        return &m->devs[i];
        return NULL;
}

static struct pdev *find_pdev(struct kmodel *m, const char *name)
{
        for (size_t i = 0; i < m->n_pdevs; i++)
                if (strcmp(m->pdevs[i].name, name) == 0 && !m->pdevs[i].gone)
                        return &m->pdevs[i];
        return NULL;
}

static struct kmod *find_mod(struct kmodel *m, const char *name)
{
        char norm[NAME_MAX + 1];

        normalize_module(name, norm, sizeof(norm));
        for (size_t i = 0; i < m->n_mods; i++)
                if (strcmp(m->mods[i].name, norm) == 0)
                        return &m->mods[i];
        return NULL;
}

static struct kmod *add_mod(struct kmodel *m, const char *name)
{
        struct kmod *k = find_mod(m, name), *v;

        if (k)
                return k;
        v = realloc(m->mods, (m->n_mods + 1) * sizeof(*v));
        if (!v)
                return NULL;
        m->mods = v;
        k = &m->mods[m->n_mods];
        *k = (struct kmod){.order = -1};
        k->name = strdup(name);
        if (!k->name)
                return NULL;
        normalize_module(name, k->name, strlen(k->name) + 1);
        m->n_mods++;
        return k;
}

static int dev_driver(const struct kmodel *m, const struct kdev *d, char *buf, size_t size)
{
        _cleanup_free_ char *link = joinf("%s/driver", d->dir);

        if (!link)
                return -ENOMEM;
        return read_link_basename_at(m->rootfd, link, buf, size);
}

static bool dev_has_driver(const struct kmodel *m, const struct kdev *d)
{
        char buf[NAME_MAX + 1];

        return dev_driver(m, d, buf, sizeof(buf)) >= 0;
}

static bool dev_bound_to(const struct kmodel *m, const struct kdev *d, const char *drv)
{
        char buf[NAME_MAX + 1];

        return dev_driver(m, d, buf, sizeof(buf)) >= 0 && strcmp(buf, drv) == 0;
}

/* driver_override, or "" when there is none. */
static void dev_override(const struct kmodel *m, const struct kdev *d, char *buf, size_t size)
{
        _cleanup_free_ char *path = joinf("%s/driver_override", d->dir);

        if (!path || read_text(m, path, buf, size) < 0 || strcmp(buf, "(null)") == 0)
                buf[0] = 0;
}

/* The IOMMU group number, or "" when the device has none. */
static void dev_group(const struct kmodel *m, const struct kdev *d, char *buf, size_t size)
{
        _cleanup_free_ char *link = joinf("%s/iommu_group", d->dir);

        if (!link || read_link_basename_at(m->rootfd, link, buf, size) < 0)
                buf[0] = 0;
}

static uint32_t dev_id(const struct kmodel *m, const struct kdev *d, const char *attr)
{
        _cleanup_free_ char *path = joinf("%s/%s", d->dir, attr);
        char buf[32];
        uint32_t v = UINT32_MAX;

        if (path && read_text(m, path, buf, sizeof(buf)) >= 0)
                (void)sysfs_parse_hex(buf, 0xffff, &v);
        return v;
}

static bool dynid_matches(const struct kmodel *m, const struct kdev *d, const char *drv)
{
        for (size_t i = 0; i < m->n_dynids; i++)
                if (strcmp(m->dynids[i].driver, drv) == 0 && m->dynids[i].vendor == dev_id(m, d, "vendor") &&
                    m->dynids[i].device == dev_id(m, d, "device"))
                        return true;
        return false;
}

/* pci_bus_match(): driver_override decides alone; without it the driver's ID table (the
 * native driver) or its dynamic IDs. */
static bool driver_matches(const struct kmodel *m, const struct kdev *d, const char *drv)
{
        char override[NAME_MAX + 1];

        dev_override(m, d, override, sizeof(override));
        if (override[0])
                return strcmp(override, drv) == 0;
        return (d->native && strcmp(d->native, drv) == 0) || dynid_matches(m, d, drv);
}

static bool driver_registered(const struct kmodel *m, const char *drv)
{
        _cleanup_free_ char *path = joinf(PCI_DRIVERS "/%s", drv);

        return path && exists_at(m, path);
}

/* Another device of d's group is held by user space (a VM has the group open). */
static bool group_held(const struct kmodel *m, const struct kdev *d)
{
        char group[32], other[32];

        dev_group(m, d, group, sizeof(group));
        if (!group[0])
                return false;
        for (size_t i = 0; i < m->n_devs; i++) {
                if (!m->devs[i].held || m->devs[i].removed)
                        continue;
                dev_group(m, &m->devs[i], other, sizeof(other));
                if (strcmp(group, other) == 0)
                        return true;
        }
        return false;
}

/* ---- side effects of binding vfio-pci ---- */

static int vfio_node_add(struct kmodel *m, const char *name)
{
        _cleanup_free_ char *path = joinf("dev/vfio/%s", name);
        _cleanup_close_ int fd = -1;

        if (!path)
                return -ENOMEM;
        if (mkdirat(m->rootfd, "dev", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdirat(m->rootfd, "dev/vfio", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(m->rootfd, path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        return fd < 0 ? negative_errno() : 0;
}

/* devtmpfs removes a directory it made once it is empty. */
static int vfio_node_remove(struct kmodel *m, const char *name)
{
        _cleanup_free_ char *path = joinf("dev/vfio/%s", name);
        int r;

        if (!path)
                return -ENOMEM;
        r = unlink_at(m, path);
        if (r >= 0 && unlinkat(m->rootfd, "dev/vfio", AT_REMOVEDIR) < 0 && errno != ENOTEMPTY &&
            errno != EEXIST && errno != ENOENT)
                r = negative_errno();
        return r;
}

static bool vfio_module_known(const struct kmodel *m)
{
        for (size_t i = 0; i < m->n_mods; i++)
                if (strcmp(m->mods[i].name, "vfio") == 0)
                        return true;
        return false;
}

/* The module whose load makes dev/vfio/vfio: vfio, or vfio_pci where vfio is unknown. */
static bool owns_vfio_node(const struct kmodel *m, const char *module)
{
        return strcmp(module, "vfio") == 0 || (strcmp(module, "vfio_pci") == 0 && !vfio_module_known(m));
}

static const char *const firmware_framebuffers[] = {
    "efi-framebuffer.0",
    "simple-framebuffer.0",
    "vesa-framebuffer.0",
};

/* aperture_remove_conflicting_pci_devices(): the firmware framebuffer platform devices are
 * unregistered, for good. */
static int remove_firmware_framebuffers(struct kmodel *m)
{
        for (size_t i = 0; i < ELEMENTSOF(firmware_framebuffers); i++) {
                _cleanup_free_ char *link = joinf("sys/bus/platform/devices/%s", firmware_framebuffers[i]);
                _cleanup_free_ char *dir = NULL, *drvlink = NULL, *back = NULL;
                char drv[NAME_MAX + 1];
                struct pdev *p;
                int r;

                if (!link)
                        return -ENOMEM;
                if (!exists_at(m, link))
                        continue;
                dir = resolve(m, link);
                if (dir) {
                        drvlink = joinf("%s/driver", dir);
                        if (!drvlink)
                                return -ENOMEM;
                        if (read_link_basename_at(m->rootfd, drvlink, drv, sizeof(drv)) >= 0) {
                                back = joinf(PLATFORM_DRIVERS "/%s/%s", drv, firmware_framebuffers[i]);
                                if (!back)
                                        return -ENOMEM;
                                r = unlink_at(m, back);
                                if (r < 0)
                                        return r;
                        }
                        r = tree_remove_at(m->rootfd, dir);
                        if (r < 0)
                                return r;
                }
                r = unlink_at(m, link);
                if (r < 0)
                        return r;
                p = find_pdev(m, firmware_framebuffers[i]);
                if (p)
                        p->gone = true;
        }
        return 0;
}

static bool is_boot_vga(const struct kmodel *m, const struct kdev *d)
{
        _cleanup_free_ char *path = joinf("%s/boot_vga", d->dir);
        char buf[8];

        return path && read_text(m, path, buf, sizeof(buf)) >= 0 && strcmp(buf, "1") == 0;
}

/* ---- PCI binding ---- */

/* really_probe() of drv for d. explicit: a write to drv/bind, where a failing probe is the
 * write's error; drivers_probe and driver registration ignore it (the kernel turns probe
 * errors positive there). */
static int pci_attach(struct kmodel *m, struct kdev *d, const char *drv, bool explicit)
{
        _cleanup_free_ char *link = NULL, *drvdir = NULL, *back = NULL;
        bool vfio = strcmp(drv, VFIO_PCI) == 0;
        char group[32];
        int r;

        /* pci_dma_configure() fails before probe: the group's DMA belongs to user space */
        if (!vfio && group_held(m, d))
                return -EINVAL;
        dev_group(m, d, group, sizeof(group));
        if (vfio && !group[0])
                return explicit ? -EINVAL : 0; /* vfio_pci_core: no IOMMU group */

        link = joinf("%s/driver", d->dir);
        drvdir = joinf(PCI_DRIVERS "/%s", drv);
        back = joinf(PCI_DRIVERS "/%s/%s", drv, d->addr);
        if (!link || !drvdir || !back)
                return -ENOMEM;
        r = make_link(m, link, drvdir);
        if (r >= 0)
                r = make_link(m, back, d->dir);
        if (r < 0 || !vfio)
                return r;
        r = vfio_node_add(m, group);
        if (r >= 0 && !exists_at(m, "dev/vfio/vfio"))
                r = vfio_node_add(m, "vfio");
        if (r >= 0 && is_boot_vga(m, d))
                r = remove_firmware_framebuffers(m);
        return r;
}

/* Checks that unbinding d from drv would not block. */
static int pci_detach_check(const struct kmodel *m, const struct kdev *d, const char *drv)
{
        if (d->held && strcmp(drv, VFIO_PCI) == 0)
                return m->hold_error; /* "blocked until released by user" */
        return 0;
}

static int pci_detach(struct kmodel *m, struct kdev *d, const char *drv)
{
        _cleanup_free_ char *link = joinf("%s/driver", d->dir),
                            *back = joinf(PCI_DRIVERS "/%s/%s", drv, d->addr);
        char group[32], other[32];
        int r;

        if (!link || !back)
                return -ENOMEM;
        r = pci_detach_check(m, d, drv);
        if (r < 0)
                return r;
        r = unlink_at(m, link);
        if (r >= 0)
                r = unlink_at(m, back);
        if (r < 0 || strcmp(drv, VFIO_PCI) != 0)
                return r;
        dev_group(m, d, group, sizeof(group));
        if (!group[0])
                return 0;
        for (size_t i = 0; i < m->n_devs; i++) {
                if (m->devs[i].removed || !dev_bound_to(m, &m->devs[i], VFIO_PCI))
                        continue;
                dev_group(m, &m->devs[i], other, sizeof(other));
                if (strcmp(group, other) == 0)
                        return 0; /* the group is still open to VFIO */
        }
        return vfio_node_remove(m, group);
}

/* device_attach(): the first registered driver that matches. */
static int pci_probe(struct kmodel *m, struct kdev *d)
{
        char override[NAME_MAX + 1];

        if (dev_has_driver(m, d))
                return 0;
        dev_override(m, d, override, sizeof(override));
        if (override[0])
                return driver_registered(m, override) ? pci_attach(m, d, override, false) : 0;
        if (d->native && driver_registered(m, d->native))
                return pci_attach(m, d, d->native, false);
        for (size_t i = 0; i < m->n_dynids; i++)
                if (dynid_matches(m, d, m->dynids[i].driver) && driver_registered(m, m->dynids[i].driver))
                        return pci_attach(m, d, m->dynids[i].driver, false);
        return 0;
}

/* driver_attach(): every driverless device drv matches; probe errors are ignored. */
static void pci_driver_attach(struct kmodel *m, const char *drv)
{
        for (size_t i = 0; i < m->n_devs; i++) {
                struct kdev *d = &m->devs[i];

                if (!d->removed && !dev_has_driver(m, d) && driver_matches(m, d, drv))
                        (void)pci_attach(m, d, drv, false);
        }
}

static int pci_driver_write(struct kmodel *m, const char *drv, const char *attr, const char *value)
{
        _cleanup_free_ char *word = word_of(value);
        struct kdev *d;

        if (!word)
                return -ENOMEM;
        if (strcmp(attr, "new_id") == 0 || strcmp(attr, "remove_id") == 0) {
                unsigned vendor, device;
                struct dynid *v;

                if (sscanf(word, "%x %x", &vendor, &device) != 2 || vendor > 0xffff || device > 0xffff)
                        return -EINVAL;
                for (size_t i = 0; i < m->n_dynids; i++) {
                        struct dynid *id = &m->dynids[i];

                        if (strcmp(id->driver, drv) != 0 || id->vendor != vendor || id->device != device)
                                continue;
                        if (attr[0] == 'n')
                                return -EEXIST;
                        free(id->driver);
                        memmove(id, id + 1, (m->n_dynids - i - 1) * sizeof(*id));
                        m->n_dynids--;
                        return 0;
                }
                if (attr[0] == 'r')
                        return -ENODEV;
                v = realloc(m->dynids, (m->n_dynids + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                m->dynids = v;
                v[m->n_dynids] = (struct dynid){.driver = strdup(drv), .vendor = vendor, .device = device};
                if (!v[m->n_dynids].driver)
                        return -ENOMEM;
                m->n_dynids++;
                pci_driver_attach(m, drv);
                return 0;
        }

        d = find_dev(m, word);
        if (strcmp(attr, "unbind") == 0) {
                if (!d || !dev_bound_to(m, d, drv))
                        return -ENODEV;
                return pci_detach(m, d, drv);
        }
        if (strcmp(attr, "bind") == 0) {
                if (!d || !driver_matches(m, d, drv))
                        return -ENODEV;
                if (dev_has_driver(m, d))
                        return -EBUSY;
                return pci_attach(m, d, drv, true);
        }
        return -EINVAL; /* uevent and the like */
}

static int pci_remove(struct kmodel *m, struct kdev *d)
{
        _cleanup_free_ char *buslink = joinf("sys/bus/pci/devices/%s", d->addr), *grouplink = NULL;
        _cleanup_(sv_done) struct strv entries = {}, roots = {};
        char drv[NAME_MAX + 1], group[32];
        struct subtree saved = {};
        int r;

        if (!buslink)
                return -ENOMEM;
        r = list_dir(m, d->dir, &entries);
        if (r < 0)
                return r;
        for (size_t i = 0; i < entries.n; i++) {
                struct pci_addr a;

                if (pci_addr_parse(entries.v[i], &a) >= 0)
                        return -EOPNOTSUPP; /* a bridge with devices below: not modelled */
        }
        if (dev_driver(m, d, drv, sizeof(drv)) >= 0) {
                r = pci_detach(m, d, drv);
                if (r < 0)
                        return r;
        }
        dev_group(m, d, group, sizeof(group));
        if (group[0]) {
                grouplink = joinf("sys/kernel/iommu_groups/%s/devices/%s", group, d->addr);
                if (!grouplink)
                        return -ENOMEM;
        }
        r = sv_add(&roots, d->dir);
        if (r >= 0)
                r = sv_add(&roots, buslink);
        if (r >= 0 && grouplink && exists_at(m, grouplink))
                r = sv_add(&roots, grouplink);
        r = r < 0 ? r : take_away(m, &roots, &saved);
        if (r < 0)
                return r;
        subtree_done(&d->saved);
        d->saved = saved;
        d->removed = true;
        return 0;
}

/* pci_rescan_bus(): removed devices come back as new devices, driver_override cleared. */
static int pci_rescan(struct kmodel *m)
{
        for (size_t i = 0; i < m->n_devs; i++) {
                struct kdev *d = &m->devs[i];
                _cleanup_free_ char *path = NULL;
                int r;

                if (!d->removed)
                        continue;
                r = subtree_restore(m->rootfd, &d->saved);
                if (r < 0)
                        return r;
                subtree_done(&d->saved);
                d->removed = false;
                path = joinf("%s/driver_override", d->dir);
                if (!path)
                        return -ENOMEM;
                if (exists_at(m, path)) {
                        r = put_text(m, path, "(null)\n");
                        if (r < 0)
                                return r;
                }
                (void)pci_probe(m, d);
        }
        return 0;
}

static bool parse_true(const char *value)
{
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(value, &end, 0);
        return errno == 0 && end != value && v != 0;
}

/* ---- resets ---- */

static const char *const kernel_reset_methods[] = {
        "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus",
};

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);

        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, " \n");

                if (len == n && strncmp(p, word, n) == 0)
                        return true;
                p += len;
                p += strspn(p, " \n");
        }
        return false;
}

/* Writes text over an attribute whatever its mode (sysfs changes read-only attributes itself). */
static int replace_text(struct kmodel *m, const char *path, const char *text)
{
        struct stat st;
        mode_t mode = 0644;
        _cleanup_close_ int fd = -1;

        if (fstatat(m->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                mode = st.st_mode & 07777;
                if (unlinkat(m->rootfd, path, 0) < 0)
                        return negative_errno();
        }
        fd = openat(m->rootfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        return write_all(fd, text, strlen(text));
}

/* One device reset: counted; a device set to die answers all ones from then on and its power
 * state is unknown to the kernel, as a card that fell off the bus. */
static int pci_reset_one(struct kmodel *m, struct kdev *d)
{
        d->n_resets++;
        if (d->dies_on_reset) {
                _cleanup_free_ char *config = joinf("%s/config", d->dir), *power = joinf("%s/power_state", d->dir);
                char ones[256];
                struct stat st;
                _cleanup_close_ int fd = -1;
                int r;

                if (!config || !power)
                        return -ENOMEM;
                memset(ones, 0xff, sizeof(ones));
                fd = openat(m->rootfd, config, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0)
                        return negative_errno();
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                for (off_t off = 0; off < (st.st_size > 0 ? st.st_size : 256); off += sizeof(ones)) {
                        r = write_all(fd, ones, sizeof(ones));
                        if (r < 0)
                                return r;
                }
                if (exists_at(m, power))
                        return replace_text(m, power, "unknown\n");
        }
        return 0;
}

/* Another device in the same directory (behind the same bridge, on the same bus). */
static bool has_bus_siblings(const struct kmodel *m, const struct kdev *d)
{
        const char *slash = strrchr(d->dir, '/');
        size_t len = slash ? (size_t)(slash - d->dir) : 0;

        for (size_t i = 0; i < m->n_devs; i++) {
                const struct kdev *o = &m->devs[i];

                if (o != d && !o->removed && strncmp(o->dir, d->dir, len) == 0 && o->dir[len] == '/' &&
                    !strchr(o->dir + len + 1, '/'))
                        return true;
        }
        return false;
}

/* reset_subordinate on a bridge: a secondary bus reset of everything below it. */
static int pci_reset_subordinate(struct kmodel *m, struct kdev *bridge)
{
        size_t len = strlen(bridge->dir);
        bool any = false;
        int r;

        for (size_t i = 0; i < m->n_devs; i++) {
                struct kdev *d = &m->devs[i];

                if (d->removed || strncmp(d->dir, bridge->dir, len) != 0 || d->dir[len] != '/')
                        continue;
                r = pci_reset_one(m, d);
                if (r < 0)
                        return r;
                any = true;
        }
        return any ? 0 : -ENOTTY;
}

/* reset_method_store(): "" disables resets, "default" restores the list the device started
 * with, else every name must be a method the device supports (-EINVAL otherwise). */
static int reset_method_write(struct kmodel *m, struct kdev *d, const char *path, const char *value)
{
        _cleanup_free_ char *copy = strdup(value), *text = NULL;
        const char *supported = d->supported_reset ? d->supported_reset : d->default_reset;
        char *save = NULL;
        size_t len;

        if (!copy)
                return -ENOMEM;
        len = strlen(copy);
        while (len > 0 && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
                copy[--len] = 0;
        if (len == 0)
                return put_text(m, path, "");
        if (strcmp(copy, "default") == 0) {
                text = joinf("%s\n", d->default_reset ? d->default_reset : "");
                return text ? put_text(m, path, text) : -ENOMEM;
        }
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(kernel_reset_methods); i++)
                        known = known || strcmp(w, kernel_reset_methods[i]) == 0;
                if (!known || !word_in(supported, w))
                        return -EINVAL;
        }
        /* the kernel stores the names and shows them with one blank between */
        strcpy(copy, value);
        len = strlen(copy);
        while (len > 0 && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
                copy[--len] = 0;
        {
                _cleanup_free_ char *out = NULL;
                size_t n = 0;

                out = malloc(len + 2);
                if (!out)
                        return -ENOMEM;
                save = NULL;
                for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                        n += (size_t)sprintf(out + n, "%s%s", n ? " " : "", w);
                strcpy(out + n, "\n");
                return put_text(m, path, out);
        }
}

static int pci_device_write(struct kmodel *m, struct kdev *d, const char *attr, const char *value)
{
        _cleanup_free_ char *path = joinf("%s/%s", d->dir, attr);

        if (!path)
                return -ENOMEM;
        if (strcmp(attr, "driver_override") == 0) {
                _cleanup_free_ char *text = NULL;
                size_t len = strlen(value);

                if (len >= 4096)
                        return -EINVAL;
                if (len > 0 && value[len - 1] == '\n')
                        len--;
                /* an empty value clears it */
                text = len == 0 ? strdup("(null)\n") : joinf("%.*s\n", (int)len, value);
                if (!text)
                        return -ENOMEM;
                return put_text(m, path, text);
        }
        if (strcmp(attr, "remove") == 0)
                return parse_true(value) ? pci_remove(m, d) : 0;
        if (strcmp(attr, "rescan") == 0)
                return parse_true(value) ? pci_rescan(m) : 0;
        if (strcmp(attr, "reset") == 0) {
                _cleanup_free_ char *methods = joinf("%s/reset_method", d->dir);
                char buf[128];

                if (!methods)
                        return -ENOMEM;
                if (!parse_true(value))
                        return -EINVAL;
                if (read_text(m, methods, buf, sizeof(buf)) < 0 || !buf[0])
                        return -ENOTTY;
                if (strncmp(buf, "bus", 3) == 0 && (buf[3] == ' ' || buf[3] == '\n' || buf[3] == 0) &&
                    has_bus_siblings(m, d))
                        return -ENOTTY; /* what the testbed's kernel answers for the GPU beside its audio */
                return pci_reset_one(m, d);
        }
        if (strcmp(attr, "reset_method") == 0)
                return reset_method_write(m, d, path, value);
        if (strcmp(attr, "reset_subordinate") == 0)
                return parse_true(value) ? pci_reset_subordinate(m, d) : 0;
        return 1; /* a plain attribute */
}

/* ---- platform devices ---- */

static int platform_driver_write(struct kmodel *m, const char *drv, const char *attr, const char *value)
{
        _cleanup_free_ char *word = word_of(value), *link = NULL, *drvdir = NULL, *back = NULL;
        char cur[NAME_MAX + 1];
        struct pdev *p;
        bool bound;
        int r;

        if (!word)
                return -ENOMEM;
        p = find_pdev(m, word);
        if (!p)
                return -ENODEV;
        link = joinf("%s/driver", p->dir);
        drvdir = joinf(PLATFORM_DRIVERS "/%s", drv);
        back = joinf(PLATFORM_DRIVERS "/%s/%s", drv, p->name);
        if (!link || !drvdir || !back)
                return -ENOMEM;
        bound = read_link_basename_at(m->rootfd, link, cur, sizeof(cur)) >= 0;
        if (strcmp(attr, "unbind") == 0) {
                if (!bound || strcmp(cur, drv) != 0)
                        return -ENODEV;
                r = unlink_at(m, link);
                return r < 0 ? r : unlink_at(m, back);
        }
        if (strcmp(attr, "bind") == 0) {
                if (!p->native || strcmp(p->native, drv) != 0)
                        return -ENODEV;
                if (bound)
                        return -EBUSY;
                r = make_link(m, link, drvdir);
                if (r >= 0 && p->backlink)
                        r = make_link(m, back, p->dir);
                return r;
        }
        return -EINVAL;
}

/* ---- virtual consoles ---- */

static int vtcon_write(struct kmodel *m, const char *dir, const char *value)
{
        _cleanup_free_ char *path = joinf("%s/bind", dir), *name_path = joinf("%s/name", dir),
                            *parent = NULL;
        _cleanup_(sv_done) struct strv cons = {};
        char name[128];
        bool any = false;
        int r;

        if (!path || !name_path)
                return -ENOMEM;
        r = put_text(m, path, parse_true(value) ? "1\n" : "0\n");
        if (r < 0)
                return r;
        if (read_text(m, name_path, name, sizeof(name)) >= 0 && strstr(name, "dummy device"))
                return 0;

        /* the dummy console takes the consoles back when no other driver has them */
        parent = strdup(dir);
        if (!parent)
                return -ENOMEM;
        if (!strrchr(parent, '/'))
                return 0;
        *strrchr(parent, '/') = 0;
        r = list_dir(m, parent, &cons);
        if (r < 0)
                return r;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < cons.n; i++) {
                        _cleanup_free_ char *n = joinf("%s/%s/name", parent, cons.v[i]);
                        _cleanup_free_ char *b = joinf("%s/%s/bind", parent, cons.v[i]);
                        char buf[16];
                        bool dummy;

                        if (!n || !b)
                                return -ENOMEM;
                        if (strncmp(cons.v[i], "vtcon", 5) != 0 || read_text(m, n, name, sizeof(name)) < 0)
                                continue;
                        dummy = strstr(name, "dummy device") != NULL;
                        if (pass == 0 && !dummy && read_text(m, b, buf, sizeof(buf)) >= 0 && parse_true(buf))
                                any = true;
                        if (pass == 1 && dummy) {
                                r = put_text(m, b, any ? "0\n" : "1\n");
                                if (r < 0)
                                        return r;
                        }
                }
        return 0;
}

/* ---- plain attributes ---- */

static int plain_write(struct kmodel *m, const char *path, const char *value)
{
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = strlen(value);

        if (fstatat(m->rootfd, path, &st, 0) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!(st.st_mode & 0222))
                return -EACCES; /* sysfs: an attribute without a store method */
        text = len > 0 && value[len - 1] == '\n' ? strdup(value) : joinf("%s\n", value);
        if (!text)
                return -ENOMEM;
        return put_text(m, path, text);
}

/* ---- writes ---- */

/* path with its directory resolved inside the tree: "sys/bus/pci/devices/ADDR/driver/unbind"
 * becomes "sys/bus/pci/drivers/DRV/unbind". */
static int canonical(const struct kmodel *m, const char *path, char **ret)
{
        _cleanup_free_ char *dir = NULL, *real = NULL;
        const char *slash = strrchr(path, '/');

        if (!slash) {
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        dir = strndup(path, (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        real = resolve(m, dir);
        if (!real)
                return -ENOENT;
        *ret = joinf("%s/%s", real, slash + 1);
        return *ret ? 0 : -ENOMEM;
}

/* For "PREFIX/NAME/ATTR" with no further '/': NAME and ATTR into bufs. */
static bool split_driver_path(const char *path, const char *prefix, char *name, size_t name_size,
                              const char **attr)
{
        size_t plen = strlen(prefix);
        const char *rest, *slash;

        if (strncmp(path, prefix, plen) != 0 || path[plen] != '/')
                return false;
        rest = path + plen + 1;
        slash = strchr(rest, '/');
        if (!slash || strchr(slash + 1, '/') || (size_t)(slash - rest) >= name_size)
                return false;
        memcpy(name, rest, (size_t)(slash - rest));
        name[slash - rest] = 0;
        *attr = slash + 1;
        return true;
}

static int do_write(struct kmodel *m, const char *path, const char *value)
{
        _cleanup_free_ char *canon = NULL;
        char name[NAME_MAX + 1];
        const char *attr, *slash;
        struct kdev *d;
        int r;

        while (*path == '/')
                path++;
        if (room_write(&m->room, m->rootfd, path, value, &r))
                return r;
        r = canonical(m, path, &canon);
        if (r < 0)
                return r;
        /* fixtures often leave out a platform driver's bind and unbind: the kernel always has them */
        if (split_driver_path(canon, PLATFORM_DRIVERS, name, sizeof(name), &attr) &&
            (strcmp(attr, "bind") == 0 || strcmp(attr, "unbind") == 0))
                return platform_driver_write(m, name, attr, value);
        if (!exists_at(m, canon))
                return -ENOENT;

        if (split_driver_path(canon, PCI_DRIVERS, name, sizeof(name), &attr) &&
            (strcmp(attr, "bind") == 0 || strcmp(attr, "unbind") == 0 || strcmp(attr, "new_id") == 0 ||
             strcmp(attr, "remove_id") == 0))
                return pci_driver_write(m, name, attr, value);
        if (strcmp(canon, "sys/bus/pci/drivers_probe") == 0) {
                _cleanup_free_ char *word = word_of(value);

                if (!word)
                        return -ENOMEM;
                d = find_dev(m, word);
                return d ? pci_probe(m, d) : -ENODEV;
        }
        if (strcmp(canon, "sys/bus/pci/rescan") == 0)
                return parse_true(value) ? pci_rescan(m) : 0;

        slash = strrchr(canon, '/');
        if (slash) {
                d = find_dev_by_dir(m, canon, (size_t)(slash - canon));
                if (d) {
                        r = pci_device_write(m, d, slash + 1, value);
                        if (r <= 0)
                                return r;
                } else if (strcmp(slash + 1, "bind") == 0) {
                        _cleanup_free_ char *dir = strndup(canon, (size_t)(slash - canon));
                        const char *base, *up;

                        if (!dir)
                                return -ENOMEM;
                        base = strrchr(dir, '/');
                        up = base ? memrchr(dir, '/', (size_t)(base - dir)) : NULL;
                        up = up ? up + 1 : dir;
                        if (base && strncmp(base + 1, "vtcon", 5) == 0 && strncmp(up, "vtconsole/", 10) == 0)
                                return vtcon_write(m, dir, value);
                }
        }
        return plain_write(m, canon, value);
}

/* ---- modules ---- */

static int proc_modules_update(struct kmodel *m)
{
        _cleanup_free_ char *text = NULL;
        size_t text_len = 0;
        struct kmod **order = NULL;
        size_t n = 0;
        FILE *f;
        int r = 0;

        if (!m->have_proc_modules)
                return 0;
        order = calloc(m->n_mods + 1, sizeof(*order));
        if (!order)
                return -ENOMEM;
        /* by the place each took in proc/modules when it was first seen loaded */
        for (long o = 0; o < m->next_order; o++)
                for (size_t i = 0; i < m->n_mods; i++)
                        if (m->mods[i].order == o) {
                                _cleanup_free_ char *p = joinf("sys/module/%s/initstate", m->mods[i].name);

                                if (p && exists_at(m, p))
                                        order[n++] = &m->mods[i];
                        }
        f = open_memstream(&text, &text_len);
        if (!f) {
                free(order);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct kmod *k = order[i];
                _cleanup_free_ char *refcnt = joinf("sys/module/%s/refcnt", k->name);
                _cleanup_free_ char *holders_dir = joinf("sys/module/%s/holders", k->name);
                _cleanup_(sv_done) struct strv holders = {};

                if (!refcnt || !holders_dir || list_dir(m, holders_dir, &holders) < 0) {
                        r = -ENOMEM;
                        break;
                }
                /* holders in the order the line had them, new ones after */
                if (holders.n)
                        qsort(holders.v, holders.n, sizeof(char *), compare_strings);
                fprintf(f, "%s %s %ld ", k->name, k->proc_size ?: "16384", read_long(m, refcnt));
                for (size_t j = 0; j < k->proc_holders.n; j++)
                        if (sv_contains(&holders, k->proc_holders.v[j]))
                                fprintf(f, "%s,", k->proc_holders.v[j]);
                for (size_t j = 0; j < holders.n; j++)
                        if (!sv_contains(&k->proc_holders, holders.v[j]))
                                fprintf(f, "%s,", holders.v[j]);
                fprintf(f, "%s %s\n", holders.n ? "" : "-", k->proc_tail ?: "Live 0x0000000000000000");
        }
        free(order);
        if (fclose(f) != 0)
                return -ENOMEM;
        return r < 0 ? r : put_text(m, "proc/modules", text ?: "");
}

static int check_rules(struct kmodel *m, const char *op);

/* The PCI drivers of a module: what it had, and what the tree says now. */
static int module_drivers(struct kmodel *m, struct kmod *k)
{
        _cleanup_free_ char *dir = joinf("sys/module/%s/drivers", k->name);
        _cleanup_(sv_done) struct strv entries = {};
        int r;

        if (!dir)
                return -ENOMEM;
        r = list_dir(m, dir, &entries);
        for (size_t i = 0; r >= 0 && i < entries.n; i++)
                if (strncmp(entries.v[i], "pci:", 4) == 0)
                        r = sv_add(&k->drivers, entries.v[i] + 4);
        return r;
}

static int unload(struct kmodel *m, const char *name)
{
        _cleanup_free_ char *dir = NULL, *initstate = NULL, *holders_dir = NULL, *refcnt = NULL;
        _cleanup_(sv_done) struct strv holders = {}, roots = {};
        struct subtree saved = {};
        struct kmod *k;
        int r;

        k = find_mod(m, name);
        if (!k)
                return -ENOENT;
        dir = joinf("sys/module/%s", k->name);
        initstate = joinf("sys/module/%s/initstate", k->name);
        holders_dir = joinf("sys/module/%s/holders", k->name);
        refcnt = joinf("sys/module/%s/refcnt", k->name);
        if (!dir || !initstate || !holders_dir || !refcnt)
                return -ENOMEM;
        if (!exists_at(m, initstate))
                return -ENOENT; /* not loaded, or built in */
        r = list_dir(m, holders_dir, &holders);
        if (r < 0)
                return r;
        if (holders.n > 0 || read_long(m, refcnt) > (long)holders.n)
                return -EBUSY;

        r = module_drivers(m, k);
        if (r < 0)
                return r;
        /* bound devices: refused, or unbound by driver_unregister() */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < m->n_devs; i++) {
                        struct kdev *d = &m->devs[i];
                        char drv[NAME_MAX + 1];

                        if (d->removed || dev_driver(m, d, drv, sizeof(drv)) < 0 ||
                            !sv_contains(&k->drivers, drv))
                                continue;
                        if (!m->unload_unbinds)
                                return -EBUSY;
                        r = pass == 0 ? pci_detach_check(m, d, drv) : pci_detach(m, d, drv);
                        if (r < 0)
                                return r;
                }

        r = sv_add(&roots, dir);
        for (size_t i = 0; r >= 0 && i < k->drivers.n; i++) {
                _cleanup_free_ char *drvdir = joinf(PCI_DRIVERS "/%s", k->drivers.v[i]);

                if (!drvdir)
                        r = -ENOMEM;
                else if (exists_at(m, drvdir))
                        r = sv_add(&roots, drvdir);
        }
        r = r < 0 ? r : take_away(m, &roots, &saved);
        if (r < 0)
                return r;
        subtree_done(&k->saved);
        k->saved = saved;
        k->have_saved = true;

        /* the modules it used lose a holder */
        sv_done(&k->holds);
        k->holds_known = true;
        for (size_t i = 0; i < m->n_mods; i++) {
                _cleanup_free_ char *link = joinf("sys/module/%s/holders/%s", m->mods[i].name, k->name);
                _cleanup_free_ char *cnt = joinf("sys/module/%s/refcnt", m->mods[i].name);

                if (!link || !cnt)
                        return -ENOMEM;
                if (!exists_at(m, link))
                        continue;
                r = unlink_at(m, link);
                if (r >= 0)
                        r = add_to_long(m, cnt, -1);
                if (r >= 0)
                        r = sv_add(&k->holds, m->mods[i].name);
                if (r >= 0)
                        r = sv_add(&k->deps, m->mods[i].name);
                if (r < 0)
                        return r;
        }
        if (owns_vfio_node(m, k->name)) {
                r = vfio_node_remove(m, "vfio");
                if (r < 0)
                        return r;
        }
        return proc_modules_update(m);
}

/* PCI drivers of modules a fake tree may not have declared. */
static const struct {
        const char *module, *driver;
} known_drivers[] = {
    {"vfio_pci", VFIO_PCI},
    {"xhci_pci", "xhci_hcd"},
    {"i2c_nvidia_gpu", "nvidia-gpu"},
    {"bochs", "bochs-drm"},
};

static int create_module(struct kmodel *m, struct kmod *k)
{
        static const char *const files[] = {"bind", "unbind", "new_id", "remove_id", "uevent"};
        _cleanup_free_ char *dir = joinf("sys/module/%s", k->name);
        _cleanup_free_ char *initstate = joinf("sys/module/%s/initstate", k->name);
        _cleanup_free_ char *refcnt = joinf("sys/module/%s/refcnt", k->name);
        _cleanup_free_ char *holders = joinf("sys/module/%s/holders", k->name);
        int r;

        if (!dir || !initstate || !refcnt || !holders)
                return -ENOMEM;
        if (k->drivers.n == 0) {
                for (size_t i = 0; i < ELEMENTSOF(known_drivers); i++)
                        if (strcmp(known_drivers[i].module, k->name) == 0 &&
                            (r = sv_add(&k->drivers, known_drivers[i].driver)) < 0)
                                return r;
                /* else the driver of that name some device had */
                for (size_t i = 0; k->drivers.n == 0 && i < m->n_devs; i++) {
                        char norm[NAME_MAX + 1];

                        if (!m->devs[i].native)
                                continue;
                        normalize_module(m->devs[i].native, norm, sizeof(norm));
                        if (strcmp(norm, k->name) == 0 && (r = sv_add(&k->drivers, m->devs[i].native)) < 0)
                                return r;
                }
        }
        if (mkdirat(m->rootfd, "sys/module", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdirat(m->rootfd, dir, 0755) < 0 || mkdirat(m->rootfd, holders, 0755) < 0)
                return negative_errno();
        r = put_text(m, initstate, "live\n");
        if (r >= 0)
                r = put_text(m, refcnt, "0\n");
        for (size_t i = 0; r >= 0 && i < k->drivers.n; i++) {
                _cleanup_free_ char *drvdir = joinf(PCI_DRIVERS "/%s", k->drivers.v[i]);
                _cleanup_free_ char *modlink = joinf(PCI_DRIVERS "/%s/module", k->drivers.v[i]);
                _cleanup_free_ char *drivers = joinf("sys/module/%s/drivers", k->name);
                _cleanup_free_ char *back = joinf("sys/module/%s/drivers/pci:%s", k->name, k->drivers.v[i]);
                _cleanup_close_ int dfd = -1;

                if (!drvdir || !modlink || !drivers || !back)
                        return -ENOMEM;
                if (mkdirat(m->rootfd, drvdir, 0755) < 0)
                        return negative_errno();
                dfd = openat(m->rootfd, drvdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return negative_errno();
                for (size_t j = 0; j < ELEMENTSOF(files); j++) {
                        if (mknodat(dfd, files[j], S_IFREG | 0200, 0) < 0)
                                return negative_errno();
                        if (fchmodat(dfd, files[j], 0200, 0) < 0)
                                return negative_errno();
                }
                r = make_link(m, modlink, dir);
                if (r >= 0 && mkdirat(m->rootfd, drivers, 0755) < 0 && errno != EEXIST)
                        r = negative_errno();
                if (r >= 0)
                        r = make_link(m, back, drvdir);
        }
        return r;
}

static int load(struct kmodel *m, const char *name, unsigned depth)
{
        _cleanup_free_ char *dir = NULL, *op = NULL;
        struct kmod *k;
        int r;

        if (depth > MAX_DEPTH)
                return -ELOOP;
        k = find_mod(m, name);
        if (!k)
                return -ENOENT; /* modprobe: "Module NAME not found" */
        if (depth > 0) {
                op = joinf("load:%s", k->name);
                if (!op)
                        return -ENOMEM;
        }
        dir = joinf("sys/module/%s", k->name);
        if (!dir)
                return -ENOMEM;
        if (exists_at(m, dir))
                return 0; /* loaded or built in */
        if (op) {
                r = check_rules(m, op);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < k->deps.n; i++) {
                /* k may move when a dependency is added to the table: none is, they are known */
                r = load(m, k->deps.v[i], depth + 1);
                if (r < 0)
                        return r;
        }

        r = k->have_saved ? subtree_restore(m->rootfd, &k->saved) : create_module(m, k);
        if (r < 0)
                return r;
        if (k->have_saved) {
                subtree_done(&k->saved);
                k->have_saved = false;
        }
        if (k->order < 0)
                k->order = m->next_order++;
        for (size_t i = 0; i < k->holds.n; i++) {
                _cleanup_free_ char *holders = joinf("sys/module/%s/holders", k->holds.v[i]);
                _cleanup_free_ char *link = joinf("sys/module/%s/holders/%s", k->holds.v[i], k->name);
                _cleanup_free_ char *cnt = joinf("sys/module/%s/refcnt", k->holds.v[i]);

                if (!holders || !link || !cnt)
                        return -ENOMEM;
                if (!exists_at(m, holders) || exists_at(m, link))
                        continue; /* built in: no holders */
                r = make_link(m, link, dir);
                if (r >= 0)
                        r = add_to_long(m, cnt, +1);
                if (r < 0)
                        return r;
        }
        if (owns_vfio_node(m, k->name)) {
                r = vfio_node_add(m, "vfio");
                if (r < 0)
                        return r;
        }
        r = module_drivers(m, k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k->drivers.n; i++)
                pci_driver_attach(m, k->drivers.v[i]);
        return proc_modules_update(m);
}

/* ---- operations ---- */

static int check_rules(struct kmodel *m, const char *op)
{
        int error = 0;

        for (size_t i = 0; i < m->n_rules; i++) {
                struct rule *rule = &m->rules[i];

                if (fnmatch(rule->glob, op, 0) != 0)
                        continue;
                rule->seen++;
                if (error == 0 && (rule->nth == 0 || rule->seen == rule->nth))
                        error = rule->error;
        }
        return error;
}

static int op_begin(struct kmodel *m, const char *op)
{
        int r;

        m->n_ops++;
        if (m->on_op) {
                r = m->on_op(op, m->n_ops, m->on_op_userdata);
                if (r < 0)
                        return r;
        }
        return check_rules(m, op);
}

static void op_end(struct kmodel *m, const char *op, int r)
{
        _cleanup_free_ char *line = NULL;
        const char *name = r < 0 ? strerrorname_np(-r) : NULL;
        char *log;

        if (r >= 0)
                line = joinf("%s\n", op);
        else if (name)
                line = joinf("%s = -%s\n", op, name);
        else
                line = joinf("%s = %d\n", op, r);
        if (!line)
                return;
        log = realloc(m->log, m->log_len + strlen(line) + 1);
        if (!log)
                return;
        m->log = log;
        strcpy(m->log + m->log_len, line);
        m->log_len += strlen(line);
}

static int kmodel_write_attr(void *userdata, const struct sysroot *sr, const char *path, const char *value)
{
        struct kmodel *m = userdata;
        _cleanup_free_ char *op = NULL;
        size_t len = strlen(value);
        int r;

        while (*path == '/')
                path++;
        op = joinf("write:%s=%.*s", path, (int)(len > 0 && value[len - 1] == '\n' ? len - 1 : len), value);
        if (!op)
                return -ENOMEM;
        r = op_begin(m, op);
        if (r >= 0)
                r = do_write(m, path, value);
        op_end(m, op, r);
        return r < 0 ? r : 0;
}

static int kmodel_load_module(void *userdata, const struct sysroot *sr, const char *name)
{
        struct kmodel *m = userdata;
        _cleanup_free_ char *op = joinf("load:%s", name);
        int r;

        if (!op)
                return -ENOMEM;
        r = op_begin(m, op);
        if (r >= 0)
                r = load(m, name, 0);
        op_end(m, op, r);
        return r;
}

static int kmodel_unload_module(void *userdata, const struct sysroot *sr, const char *name)
{
        struct kmodel *m = userdata;
        _cleanup_free_ char *op = joinf("unload:%s", name);
        int r;

        if (!op)
                return -ENOMEM;
        r = op_begin(m, op);
        if (r >= 0)
                r = unload(m, name);
        op_end(m, op, r);
        return r;
}

/* A process dies of SIGKILL, and of SIGTERM unless kmodel_ignore_term() says otherwise: its
 * proc/PID directory goes. The pid and start time must match, as the real seam checks. */
static int kmodel_signal_process(void *userdata, const struct sysroot *sr, const struct process_id *id, int sig)
{
        struct kmodel *m = userdata;
        _cleanup_free_ char *op = joinf("signal:%d=%d", (int)id->pid, sig);
        char path[64];
        int r;

        if (!op)
                return -ENOMEM;
        r = op_begin(m, op);
        if (r >= 0 && !process_id_alive(sr, id))
                r = -ESRCH;
        if (r >= 0 && room_signal(&m->room, m->rootfd, id->pid, sig, &r))
                ;
        else if (r >= 0 && (sig == SIGKILL || (sig == SIGTERM && id->pid != m->ignores_term))) {
                snprintf(path, sizeof(path), "proc/%d", (int)id->pid);
                r = tree_remove_at(m->rootfd, path);
        }
        op_end(m, op, r);
        return r < 0 ? r : 0;
}

void kmodel_ignore_term(struct kmodel *m, pid_t pid)
{
        m->ignores_term = pid;
}

static int kmodel_sync(void *userdata, const struct sysroot *sr)
{
        struct kmodel *m = userdata;
        int r = op_begin(m, "sync");

        op_end(m, "sync", r);
        return r;
}

int kmodel_hugepage_limit(struct kmodel *m, unsigned long size_kb, long limit, long after_compact)
{
        return room_set_limit(&m->room, size_kb, limit, after_compact);
}

const struct kernel_ops kmodel_ops = {
    .sync = kmodel_sync,
    .write_attr = kmodel_write_attr,
    .load_module = kmodel_load_module,
    .unload_module = kmodel_unload_module,
    .signal_process = kmodel_signal_process,
};

/* ---- reading the start ---- */

static int read_default_reset(struct kmodel *m, struct kdev *d)
{
        _cleanup_free_ char *path = joinf("%s/reset_method", d->dir);
        char buf[256];
        size_t len;

        if (!path)
                return -ENOMEM;
        if (read_text(m, path, buf, sizeof(buf)) < 0)
                return 0; /* no reset_method: the device has no reset */
        len = strlen(buf);
        while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = 0;
        d->default_reset = strdup(buf);
        return d->default_reset ? 0 : -ENOMEM;
}

static int read_pci(struct kmodel *m)
{
        _cleanup_(sv_done) struct strv addrs = {};
        int r;

        r = list_dir(m, "sys/bus/pci/devices", &addrs);
        if (r < 0)
                return r;
        qsort(addrs.v, addrs.n, sizeof(char *), compare_strings);
        m->devs = calloc(addrs.n + 1, sizeof(*m->devs));
        if (!m->devs)
                return -ENOMEM;
        for (size_t i = 0; i < addrs.n; i++) {
                _cleanup_free_ char *link = joinf("sys/bus/pci/devices/%s", addrs.v[i]);
                struct kdev *d = &m->devs[m->n_devs];
                char drv[NAME_MAX + 1];

                if (!link)
                        return -ENOMEM;
                d->dir = resolve(m, link);
                if (!d->dir)
                        continue; /* a dangling entry: nothing to model */
                d->addr = strdup(addrs.v[i]);
                m->n_devs++;
                if (!d->addr)
                        return -ENOMEM;
                if (dev_driver(m, d, drv, sizeof(drv)) >= 0 && !(d->native = strdup(drv)))
                        return -ENOMEM;
                r = read_default_reset(m, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int read_platform(struct kmodel *m)
{
        _cleanup_(sv_done) struct strv names = {};
        int r;

        r = list_dir(m, "sys/bus/platform/devices", &names);
        if (r < 0)
                return r;
        m->pdevs = calloc(names.n + 1, sizeof(*m->pdevs));
        if (!m->pdevs)
                return -ENOMEM;
        for (size_t i = 0; i < names.n; i++) {
                _cleanup_free_ char *link = joinf("sys/bus/platform/devices/%s", names.v[i]),
                                    *drvlink = NULL;
                struct pdev *p = &m->pdevs[m->n_pdevs];
                char drv[NAME_MAX + 1];

                if (!link)
                        return -ENOMEM;
                p->dir = resolve(m, link);
                if (!p->dir)
                        continue;
                p->name = strdup(names.v[i]);
                m->n_pdevs++;
                drvlink = joinf("%s/driver", p->dir);
                if (!p->name || !drvlink)
                        return -ENOMEM;
                if (read_link_basename_at(m->rootfd, drvlink, drv, sizeof(drv)) >= 0) {
                        _cleanup_free_ char *back = joinf(PLATFORM_DRIVERS "/%s/%s", drv, p->name);

                        p->native = strdup(drv);
                        if (!p->native || !back)
                                return -ENOMEM;
                        p->backlink = exists_at(m, back);
                }
        }
        return 0;
}

/* "kernel/drivers/vfio/pci/vfio-pci.ko.xz" -> "vfio_pci" */
static char *module_of_path(const char *path)
{
        const char *base = strrchr(path, '/');
        char *s, *dot;

        s = strdup(base ? base + 1 : path);
        if (!s)
                return NULL;
        dot = strstr(s, ".ko");
        if (dot)
                *dot = 0;
        normalize_module(s, s, strlen(s) + 1);
        return s;
}

static int read_modules_dep(struct kmodel *m)
{
        _cleanup_free_ char *release = NULL, *path = NULL, *text = NULL;
        _cleanup_(sv_done) struct strv releases = {};
        char buf[256];
        char *save = NULL;
        int r;

        if (read_text(m, "proc/sys/kernel/osrelease", buf, sizeof(buf)) >= 0)
                release = strdup(buf);
        else {
                r = list_dir(m, "lib/modules", &releases);
                if (r < 0)
                        return r;
                if (releases.n != 1)
                        return 0;
                release = strdup(releases.v[0]);
        }
        if (!release)
                return -ENOMEM;
        path = joinf("lib/modules/%s/modules.dep", release);
        if (!path)
                return -ENOMEM;
        r = read_file_at(m->rootfd, path, 64 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':'), *wsave = NULL;
                _cleanup_free_ char *name = NULL;
                struct kmod *k;
                bool known;

                if (!colon)
                        continue;
                *colon = 0;
                name = module_of_path(line);
                if (!name)
                        return -ENOMEM;
                known = find_mod(m, name) != NULL;
                k = add_mod(m, name);
                if (!k)
                        return -ENOMEM;
                for (char *w = strtok_r(colon + 1, " \t", &wsave); w; w = strtok_r(NULL, " \t", &wsave)) {
                        _cleanup_free_ char *dep = module_of_path(w);

                        if (!dep)
                                return -ENOMEM;
                        r = sv_add(&k->deps, dep);
                        /* a module not loaded at the start: guess it holds what it depends on */
                        if (r >= 0 && !known && !k->holds_known)
                                r = sv_add(&k->holds, dep);
                        if (r < 0)
                                return r;
                }
        }
        /* every dependency is a module too (it may be missing from a hand-made modules.dep) */
        for (size_t i = 0; i < m->n_mods; i++)
                for (size_t j = 0; j < m->mods[i].deps.n; j++) {
                        _cleanup_free_ char *dep = strdup(m->mods[i].deps.v[j]);

                        if (!dep || !add_mod(m, dep))
                                return -ENOMEM;
                }
        return 0;
}

static int read_sys_module(struct kmodel *m)
{
        _cleanup_(sv_done) struct strv names = {};
        int r;

        r = list_dir(m, "sys/module", &names);
        if (r < 0)
                return r;
        qsort(names.v, names.n, sizeof(char *), compare_strings);
        for (size_t i = 0; i < names.n; i++) {
                _cleanup_free_ char *holders_dir = joinf("sys/module/%s/holders", names.v[i]);
                _cleanup_(sv_done) struct strv holders = {};
                struct kmod *k = add_mod(m, names.v[i]);

                if (!k || !holders_dir)
                        return -ENOMEM;
                k->holds_known = true;
                r = module_drivers(m, k);
                if (r >= 0)
                        r = list_dir(m, holders_dir, &holders);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < holders.n; j++) {
                        struct kmod *h = add_mod(m, holders.v[j]);

                        if (!h)
                                return -ENOMEM;
                        /* add_mod may move the table */
                        h->holds_known = true;
                        r = sv_add(&h->holds, names.v[i]);
                        if (r >= 0)
                                r = sv_add(&h->deps, names.v[i]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A PCI driver's module link names its module even where sys/module/NAME/drivers does not. */
static int read_driver_modules(struct kmodel *m)
{
        _cleanup_(sv_done) struct strv drivers = {};
        int r;

        r = list_dir(m, PCI_DRIVERS, &drivers);
        for (size_t i = 0; r >= 0 && i < drivers.n; i++) {
                _cleanup_free_ char *link = joinf(PCI_DRIVERS "/%s/module", drivers.v[i]);
                char name[NAME_MAX + 1];
                struct kmod *k;

                if (!link)
                        return -ENOMEM;
                if (read_link_basename_at(m->rootfd, link, name, sizeof(name)) < 0)
                        continue;
                k = find_mod(m, name);
                if (k)
                        r = sv_add(&k->drivers, drivers.v[i]);
        }
        return r;
}

static int read_proc_modules(struct kmodel *m)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r;

        r = read_file_at(m->rootfd, "proc/modules", 16 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        m->have_proc_modules = true;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[NAME_MAX + 1], size[32], refcnt[32], holders[4096];
                int tail = 0;
                struct kmod *k;

                if (sscanf(line, "%255s %31s %31s %4095s %n", name, size, refcnt, holders, &tail) < 4 ||
                    tail == 0)
                        continue;
                k = add_mod(m, name);
                if (!k)
                        return -ENOMEM;
                k->order = m->next_order++;
                k->proc_size = strdup(size);
                k->proc_tail = strdup(line + tail);
                if (!k->proc_size || !k->proc_tail)
                        return -ENOMEM;
                if (strcmp(holders, "-") != 0) {
                        char *hsave = NULL;

                        for (char *h = strtok_r(holders, ",", &hsave); h; h = strtok_r(NULL, ",", &hsave)) {
                                r = sv_add(&k->proc_holders, h);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

int kmodel_new(const struct sysroot *sr, struct kmodel **ret)
{
        struct kmodel *m;
        int r;

        if (!sr || !sr->path || strcmp(sr->path, "/") == 0)
                return -EPERM; /* never the real machine */
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->sr = sr;
        m->rootfd = sr->fd;
        m->hold_error = -ETIMEDOUT;
        r = read_pci(m);
        if (r >= 0)
                r = read_platform(m);
        if (r >= 0)
                r = read_proc_modules(m);
        if (r >= 0)
                r = read_sys_module(m);
        if (r >= 0)
                r = read_driver_modules(m);
        if (r >= 0)
                r = read_modules_dep(m);
        /* loaded modules proc/modules does not list come after those it does */
        for (size_t i = 0; r >= 0 && i < m->n_mods; i++) {
                _cleanup_free_ char *initstate = joinf("sys/module/%s/initstate", m->mods[i].name);

                if (!initstate)
                        r = -ENOMEM;
                else if (m->mods[i].order < 0 && exists_at(m, initstate))
                        m->mods[i].order = m->next_order++;
        }
        if (r < 0) {
                kmodel_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

void kmodel_free(struct kmodel *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_devs; i++) {
                free(m->devs[i].addr);
                free(m->devs[i].dir);
                free(m->devs[i].native);
                free(m->devs[i].default_reset);
                free(m->devs[i].supported_reset);
                subtree_done(&m->devs[i].saved);
        }
        free(m->devs);
        for (size_t i = 0; i < m->n_pdevs; i++) {
                free(m->pdevs[i].name);
                free(m->pdevs[i].dir);
                free(m->pdevs[i].native);
        }
        free(m->pdevs);
        for (size_t i = 0; i < m->n_mods; i++) {
                struct kmod *k = &m->mods[i];

                free(k->name);
                sv_done(&k->deps);
                sv_done(&k->holds);
                sv_done(&k->drivers);
                subtree_done(&k->saved);
                free(k->proc_size);
                free(k->proc_tail);
                sv_done(&k->proc_holders);
        }
        free(m->mods);
        for (size_t i = 0; i < m->n_dynids; i++)
                free(m->dynids[i].driver);
        free(m->dynids);
        kmodel_fail_clear(m);
        room_model_done(&m->room);
        free(m->log);
        free(m);
}

struct kernel kmodel_kernel(struct kmodel *m)
{
        return (struct kernel){.ops = &kmodel_ops, .userdata = m, .sr = m->sr};
}

int kmodel_fail(struct kmodel *m, const char *op_glob, int error, unsigned nth)
{
        struct rule *v = realloc(m->rules, (m->n_rules + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        m->rules = v;
        v[m->n_rules] =
            (struct rule){.glob = strdup(op_glob), .error = error < 0 ? error : -error, .nth = nth};
        if (!v[m->n_rules].glob)
                return -ENOMEM;
        m->n_rules++;
        return 0;
}

void kmodel_fail_clear(struct kmodel *m)
{
        for (size_t i = 0; i < m->n_rules; i++)
                free(m->rules[i].glob);
        free(m->rules);
        m->rules = NULL;
        m->n_rules = 0;
}

void kmodel_on_op(struct kmodel *m, kmodel_op_fn fn, void *userdata)
{
        m->on_op = fn;
        m->on_op_userdata = userdata;
}

unsigned kmodel_ops_count(const struct kmodel *m)
{
        return m->n_ops;
}

const char *kmodel_log(const struct kmodel *m)
{
        return m->log ?: "";
}

void kmodel_log_clear(struct kmodel *m)
{
        free(m->log);
        m->log = NULL;
        m->log_len = 0;
}

int kmodel_hold_vfio(struct kmodel *m, const char *addr, bool hold)
{
        for (size_t i = 0; i < m->n_devs; i++)
                if (strcasecmp(m->devs[i].addr, addr) == 0) {
                        m->devs[i].held = hold;
                        return 0;
                }
        return -ENODEV;
}

void kmodel_set_hold_error(struct kmodel *m, int error)
{
        m->hold_error = error < 0 ? error : -error;
}

void kmodel_set_unload_unbinds(struct kmodel *m, bool unbinds)
{
        m->unload_unbinds = unbinds;
}

int kmodel_set_native_driver(struct kmodel *m, const char *addr, const char *driver)
{
        for (size_t i = 0; i < m->n_devs; i++)
                if (strcasecmp(m->devs[i].addr, addr) == 0) {
                        char *s = NULL;

                        if (driver && !(s = strdup(driver)))
                                return -ENOMEM;
                        free(m->devs[i].native);
                        m->devs[i].native = s;
                        return 0;
                }
        return -ENODEV;
}

int kmodel_set_reset_supported(struct kmodel *m, const char *addr, const char *methods)
{
        struct kdev *d = find_dev(m, addr);
        char *copy = NULL;

        if (!d)
                return -ENODEV;
        if (methods && !(copy = strdup(methods)))
                return -ENOMEM;
        free(d->supported_reset);
        d->supported_reset = copy;
        return 0;
}

int kmodel_set_dies_on_reset(struct kmodel *m, const char *addr, bool dies)
{
        struct kdev *d = find_dev(m, addr);

        if (!d)
                return -ENODEV;
        d->dies_on_reset = dies;
        return 0;
}

unsigned kmodel_reset_count(struct kmodel *m, const char *addr)
{
        struct kdev *d = find_dev(m, addr);

        return d ? d->n_resets : 0;
}
