/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor: what is already configured for boot, linted. The modprobe.d files as kmod reads them
 * and the running kernel's command line, checked against this host's devices and the modules'
 * own parameter lists. Read-only; nothing here decides from a guess: where the evidence is
 * missing (a module without modinfo, a framebuffer nobody can see) it says nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "doctor/boot.h"
#include "host/display.h"
#include "host/modules.h"
#include "setup/cmdline.h"

#define CONF_MAX (1u << 20)


struct lint {
        const struct host *h;
        struct doctor_report *rep;
        struct module_index *mi;
        int error; /* the first -ENOMEM */
};

_printf_(6, 7) static void add(struct lint *l, const char *id, enum severity sev, const char *subject,
                               const char *fix, const char *fmt, ...)
{
        _cleanup_free_ char *message = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);
        if (!message || doctor_report_add(l->rep, id, sev, subject, fix, "%s", message) < 0)
                l->error = -ENOMEM;
}

_printf_(2, 3) static char *format(struct lint *l, const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0) {
                s = NULL;
                l->error = -ENOMEM;
        }
        va_end(ap);
        return s;
}

/* Module and parameter names compare as the kernel's parameq() does: '-' and '_' are the same. */
static bool name_eq(const char *a, size_t alen, const char *b)
{
        size_t i;

        for (i = 0; i < alen && b[i]; i++)
                if ((a[i] == '-' ? '_' : a[i]) != (b[i] == '-' ? '_' : b[i]))
                        return false;
        return i == alen && !b[i];
}

/* Whether module has parameter param[0..len): 1 yes, 0 no, -1 unknown (no modinfo). */
static int module_has_param(struct lint *l, const char *module, const char *param, size_t len)
{
        _cleanup_strv_free_null_ char **params = NULL;
        int r = module_parameters(l->mi, module, &params);

        if (r < 0)
                l->error = r;
        if (r <= 0)
                return -1;
        for (size_t i = 0; params[i]; i++)
                if (name_eq(param, len, params[i]))
                        return 1;
        return 0;
}

/* ---- vfio-pci ids= ---- */

struct pci_id_match {
        unsigned vendor, device, subvendor, subdevice, class, class_mask;
        unsigned fields; /* how many were given: 2, 4 or 6 */
};

/* "vendor:device[:subvendor:subdevice[:class:class_mask]]", as vfio_pci_fill_ids() reads it. */
static bool parse_pci_id(const char *s, size_t len, struct pci_id_match *ret)
{
        char buf[96], *end, *p = buf;
        unsigned *fields[] = {&ret->vendor, &ret->device, &ret->subvendor, &ret->subdevice, &ret->class,
                              &ret->class_mask};

        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        *ret = (struct pci_id_match){.subvendor = ~0u, .subdevice = ~0u};
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                unsigned long v = strtoul(p, &end, 16);
                if (end == p || v > 0xffffffffUL)
                        return false;
                *fields[i] = (unsigned)v;
                ret->fields = i + 1;
                if (*end == '\0')
                        break;
                if (*end != ':')
                        return false;
                p = end + 1;
        }
        return ret->fields >= 2;
}

static bool pci_id_matches(const struct pci_id_match *m, const struct pci_device *d)
{
        if (d->problems & PCI_PROBLEM_IDS)
                return false;
        if ((m->vendor != 0xffffffffu && m->vendor != d->vendor) ||
            (m->device != 0xffffffffu && m->device != d->device))
                return false;
        if (m->fields >= 3 && m->subvendor != 0xffffffffu && m->subvendor != d->subsys_vendor)
                return false;
        if (m->fields >= 4 && m->subdevice != 0xffffffffu && m->subdevice != d->subsys_device)
                return false;
        if (m->fields >= 6 && (d->class & m->class_mask) != (m->class & m->class_mask))
                return false;
        return true;
}

static const struct gpu *gpu_of(const struct host *h, const struct pci_device *d)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d)
                        return &h->gpus[i];
        return NULL;
}

/* The GPU a device is, or is a function of: setup --vfio names the card by its GPU. */
static const struct pci_device *card_of(const struct host *h, const struct pci_device *d)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                for (size_t j = 0; j < h->gpus[i].n_companions; j++)
                        if (h->gpus[i].companions[j] == d)
                                return h->gpus[i].dev;
        return d;
}

static bool on_vfio(const struct pci_device *d)
{
        return d->driver && strcmp(d->driver, "vfio-pci") == 0;
}

/* ids= at where ("/etc/modprobe.d/vfio.conf line 2", "the kernel command line"): every ID must
 * match only devices meant for VMs, and some device at all. */
static void check_ids(struct lint *l, const char *where, const char *ids)
{
        const struct pci_list *pci = l->h->pci;

        for (const char *p = ids; *p;) {
                size_t n = strcspn(p, ",");
                struct pci_id_match m;
                const struct pci_device *guest = NULL;
                size_t matched = 0;

                if (!parse_pci_id(p, n, &m))
                        goto next;
                for (size_t i = 0; i < pci->n_devices; i++)
                        if (pci_id_matches(&m, &pci->devices[i])) {
                                matched++;
                                if (!guest && on_vfio(&pci->devices[i]))
                                        guest = &pci->devices[i];
                        }
                if (matched == 0) {
                        _cleanup_free_ char *fix =
                                format(l, "Remove %.*s from ids= if that card is gone from this machine.", (int)n, p);
                        add(l, "vfio-config-stale", SEVERITY_INFO, NULL, fix,
                            "%s: ids= names %.*s, which no device of this host has: it binds nothing.", where,
                            (int)n, p);
                        goto next;
                }
                for (size_t i = 0; i < pci->n_devices; i++) {
                        const struct pci_device *d = &pci->devices[i];
                        const struct gpu *g = gpu_of(l->h, d);
                        bool display = g && gpu_drives_display(g);
                        _cleanup_free_ char *fix = NULL;

                        if (!pci_id_matches(&m, d) || (on_vfio(d) && !display))
                                continue;
                        if (!d->driver && !display)
                                continue; /* nobody's: taking it at boot costs the host nothing */
                        fix = format(l,
                                     "Bind by address instead: remove %.*s from ids= and run gpu-handoff setup "
                                     "--vfio %s (see the change first with --dry-run).",
                                     (int)n, p, guest ? card_of(l->h, guest)->address : "ADDRESS");
                        add(l, "vfio-ids-host-device", display || guest ? SEVERITY_ERROR : SEVERITY_WARNING, d->address,
                            fix,
                            "%s: ids= %.*s also matches %s (%s), which the host keeps: vfio-pci takes every device "
                            "with that ID when it loads first, this one too.",
                            where, (int)n, p, d->address, display ? "the host's display" : d->driver);
                }
        next:
                p += n;
                p += *p == ',';
        }
}

/* ---- the kernel command line ---- */

/* Where the kernel keeps an unknown "key=value" argument: it hands it to init as an environment
 * variable. 1 when init's environment has key=, 0 when not, -1 when it cannot be read. */
static int init_got_argument(struct lint *l, const char *key)
{
        _cleanup_free_ char *env = NULL;
        size_t len = 0, klen = strlen(key);
        int r = sysroot_read_file(l->h->sr, "proc/1/environ", CONF_MAX, &env, &len);

        if (r == -ENOMEM)
                l->error = r;
        if (r < 0)
                return -1;
        for (size_t i = 0; i < len; i += strlen(env + i) + 1)
                if (strncmp(env + i, key, klen) == 0 && env[i + klen] == '=')
                        return 1;
        return 0;
}

/* The initramfs generator, by its configuration, when dracut is not installed at all; NULL when
 * dracut may make the initramfs or nothing says which generator does. */
static const char *not_dracut(const struct sysroot *sr)
{
        static const char *const dracut[] = {"usr/bin/dracut", "usr/sbin/dracut", "bin/dracut", "sbin/dracut"};
        static const struct {
                const char *path, *name;
        } others[] = {
                {"etc/initramfs-tools/initramfs.conf", "initramfs-tools"},
                {"etc/mkinitcpio.conf", "mkinitcpio"},
                {"etc/booster.yaml", "booster"},
        };

        for (size_t i = 0; i < ELEMENTSOF(dracut); i++)
                if (sysroot_exists(sr, dracut[i]))
                        return NULL;
        for (size_t i = 0; i < ELEMENTSOF(others); i++)
                if (sysroot_exists(sr, others[i].path))
                        return others[i].name;
        return NULL;
}

static void check_kernel_arg(struct lint *l, const struct cmdline_arg *a, const char *text)
{
        const struct sysroot *sr = l->h->sr;
        const char *dot = strchr(a->key, '.');
        _cleanup_free_ char *fix = format(l, "Remove %.*s from the kernel command line.", (int)a->len, text);

        if (!fix)
                return;
        if (strcmp(a->key, "amd_iommu") == 0 && a->value && strcmp(a->value, "on") == 0)
                add(l, "kernel-arg-noop", SEVERITY_INFO, NULL, fix,
                    "The kernel command line has amd_iommu=on, which is not a value the kernel knows: the AMD "
                    "IOMMU is on whenever the firmware publishes its IVRS table.");
        else if (name_eq(a->key, strlen(a->key), "pcie_acs_override") && a->value &&
                 init_got_argument(l, a->key) == 1)
                add(l, "acs-override-unpatched", SEVERITY_WARNING, NULL, fix,
                    "The kernel command line has %.*s, but this kernel does not have the ACS override patch (it "
                    "passed the argument on to init as unknown): the IOMMU groups are the hardware's.",
                    (int)a->len, text);
        else if (strcmp(a->key, "video") == 0 && a->value && strncmp(a->value, "efifb:off", 9) == 0 &&
                 sysroot_exists(sr, "sys/bus/platform/devices/simple-framebuffer.0") &&
                 !sysroot_exists(sr, "sys/bus/platform/devices/efi-framebuffer.0"))
                add(l, "kernel-arg-noop", SEVERITY_INFO, NULL, fix,
                    "The kernel command line has %.*s, but the firmware framebuffer is a simple-framebuffer "
                    "(simpledrm), not efifb's: it frees nothing.",
                    (int)a->len, text);
        else if (strcmp(a->key, "rd.driver.pre") == 0) {
                const char *generator = not_dracut(sr);
                if (generator)
                        add(l, "kernel-arg-noop", SEVERITY_INFO, NULL, fix,
                            "The kernel command line has %.*s, which only dracut reads, and this host's initramfs "
                            "is made by %s.",
                            (int)a->len, text, generator);
        } else if (dot && dot != a->key && dot[1]) {
                _cleanup_free_ char *module = strndup(a->key, dot - a->key);
                if (!module) {
                        l->error = -ENOMEM;
                        return;
                }
                if (module_has_param(l, module, dot + 1, strlen(dot + 1)) == 0)
                        add(l, "module-param-unknown", SEVERITY_WARNING, NULL, fix,
                            "The kernel command line has %.*s, but this kernel's %s has no parameter \"%s\": the "
                            "kernel ignores it.",
                            (int)a->len, text, module, dot + 1);
                else if (name_eq(module, strlen(module), "vfio_pci") && strcmp(dot + 1, "ids") == 0 && a->value)
                        check_ids(l, "the kernel command line", a->value);
        }
}

static void check_cmdline(struct lint *l)
{
        _cleanup_free_ char *error = NULL;
        struct cmdline *c = NULL;
        const char *text = l->h->cmdline;
        int r;

        if (!text)
                return;
        r = cmdline_parse(text, strlen(text), &c, &error);
        if (r == -ENOMEM)
                l->error = r;
        if (r < 0)
                return;
        for (size_t i = 0; i < c->separator && !l->error; i++)
                check_kernel_arg(l, &c->args[i], text + c->args[i].start);
        cmdline_free(c);
}

/* ---- modprobe.d ---- */

/* kmod's directories, highest precedence first: a file name in an earlier one hides the same
 * name in the later ones. */
static const char *const modprobe_dirs[] = {
        "etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d",
};

static bool conf_name(const char *name)
{
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int by_basename(const void *a, const void *b)
{
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return strcmp(strrchr(x, '/') + 1, strrchr(y, '/') + 1);
}

/* The files kmod reads, "etc/modprobe.d/vfio.conf" (relative to the root), in the order it reads
 * them (by name). */
static char **modprobe_files(struct lint *l)
{
        struct strv v = {0};
        char **ret;

        for (size_t d = 0; d < ELEMENTSOF(modprobe_dirs); d++) {
                _cleanup_closedir_ DIR *dir = NULL;
                struct dirent *de;

                if (sysroot_opendir(l->h->sr, modprobe_dirs[d], &dir) < 0)
                        continue;
                while ((de = readdir(dir))) {
                        bool hidden = false;
                        if (!conf_name(de->d_name))
                                continue;
                        for (size_t i = 0; i < v.n && !hidden; i++)
                                hidden = strcmp(strrchr(v.v[i], '/') + 1, de->d_name) == 0;
                        if (!hidden && strv_addf(&v, "%s/%s", modprobe_dirs[d], de->d_name) < 0)
                                l->error = -ENOMEM;
                }
        }
        ret = strv_take(&v);
        if (!ret) {
                strv_done(&v);
                l->error = -ENOMEM;
                return NULL;
        }
        qsort(ret, strv_length(ret), sizeof(*ret), by_basename);
        return ret;
}

/* Splits at blanks; a double quote keeps blanks inside (the kernel's parse_args() does the same
 * to the options string). Returns the token's length; *p moves past it and the blanks after. */
static size_t next_token(const char **p)
{
        const char *s = *p;
        bool quoted = false;
        size_t n = 0;

        while (s[n] && (quoted || (s[n] != ' ' && s[n] != '\t'))) {
                if (s[n] == '"')
                        quoted = !quoted;
                n++;
        }
        *p = s + n + strspn(s + n, " \t");
        return n;
}

static void check_options(struct lint *l, const char *where, const char *module, size_t mlen, const char *rest)
{
        _cleanup_free_ char *mod = strndup(module, mlen);

        if (!mod) {
                l->error = -ENOMEM;
                return;
        }
        for (const char *p = rest; *p && !l->error;) {
                const char *tok = p;
                size_t n = next_token(&p);
                size_t klen = strcspn(tok, "=");
                const char *key = tok, *dot;
                _cleanup_free_ char *fix = NULL;

                if (klen > n)
                        klen = n;
                if (*key == '"') {
                        key++;
                        klen = klen ? klen - 1 : 0;
                }
                if (klen == 0)
                        continue;
                dot = memchr(key, '.', klen);
                if (dot) {
                        fix = format(l, "Write \"options %.*s %.*s\" on a line of its own (or %.*s on the kernel "
                                     "command line).",
                                     (int)(dot - key), key, (int)(n - (dot + 1 - tok)), dot + 1, (int)n, tok);
                        add(l, "modprobe-param-dotted", SEVERITY_WARNING, NULL, fix,
                            "%s: \"%.*s\" is on the options line of %s, so the kernel hands it to %s, which ignores "
                            "it (\"unknown parameter '%.*s' ignored\"): %.*s never gets it.",
                            where, (int)n, tok, mod, mod, (int)klen, key, (int)(dot - key), key);
                        continue;
                }
                if (module_has_param(l, mod, key, klen) == 0) {
                        fix = format(l, "Remove %.*s from that line (modinfo -p %s lists the parameters %s has).",
                                     (int)n, tok, mod, mod);
                        add(l, "module-param-unknown", SEVERITY_WARNING, NULL, fix,
                            "%s: %s has no parameter \"%.*s\", so the kernel ignores it (\"unknown parameter "
                            "'%.*s' ignored\").",
                            where, mod, (int)klen, key, (int)klen, key);
                } else if (name_eq(mod, strlen(mod), "vfio_pci") && klen == 3 && strncmp(key, "ids", 3) == 0 &&
                           key[3] == '=') {
                        _cleanup_free_ char *ids = strndup(key + 4, n - (key + 4 - tok));
                        if (!ids)
                                l->error = -ENOMEM;
                        else
                                check_ids(l, where, ids);
                }
        }
}

/* A PCI address ("0000:01:00.0") anywhere in text that this host does not have: an install
 * command that writes driver_override for a card no longer here. */
static void check_addresses(struct lint *l, const char *where, const char *text)
{
        static const char hexdot[] = "0123456789abcdefABCDEF:.";

        for (const char *p = text; *p;) {
                size_t n = strspn(p, hexdot);
                char word[PCI_ADDR_STRLEN];
                struct pci_addr a;

                if (n == PCI_ADDR_STRLEN - 1) {
                        memcpy(word, p, n);
                        word[n] = '\0';
                        if (pci_addr_parse(word, &a) >= 0 && !pci_list_find(l->h->pci, &a)) {
                                _cleanup_free_ char *fix =
                                        format(l, "Remove %s from that line if the card is gone from this machine.",
                                               word);
                                add(l, "vfio-config-stale", SEVERITY_INFO, word, fix,
                                    "%s: the install command names %s, a PCI address this host does not have: it "
                                    "binds nothing.",
                                    where, word);
                        }
                }
                p += n ? n : 1;
        }
}

static void check_modprobe_line(struct lint *l, const char *file, unsigned line, const char *text)
{
        _cleanup_free_ char *where = format(l, "/%s line %u", file, line);
        const char *p = text + strspn(text, " \t"), *cmd = p, *module;
        size_t clen, mlen;

        if (!where || *p == '#' || !*p)
                return;
        clen = next_token(&p);
        module = p;
        mlen = next_token(&p);
        if (clen == 7 && strncmp(cmd, "options", 7) == 0 && mlen > 0)
                check_options(l, where, module, mlen, p);
        else if (clen == 7 && strncmp(cmd, "install", 7) == 0)
                check_addresses(l, where, p);
}

static void check_modprobe_file(struct lint *l, const char *file)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        unsigned line = 1;
        int r = sysroot_read_file(l->h->sr, file, CONF_MAX, &text, &len);

        if (r == -ENOMEM)
                l->error = r;
        if (r < 0)
                return;
        for (char *p = text; *p && !l->error;) {
                char *start = p, *end, *w, *r2;
                unsigned first = line;

                /* A line ending in a backslash goes on on the next one, as kmod reads it. */
                for (;;) {
                        end = p + strcspn(p, "\n");
                        if (end > p && end[-1] == '\\' && *end) {
                                p = end + 1;
                                line++;
                                continue;
                        }
                        break;
                }
                p = *end ? end + 1 : end;
                *end = '\0';
                line++;
                /* Join: drop each backslash-newline pair (they are now "\\\n" inside start). */
                for (w = r2 = start; *r2; r2++) {
                        if (r2[0] == '\\' && r2[1] == '\n') {
                                *w++ = ' ';
                                r2++;
                                continue;
                        }
                        *w++ = *r2;
                }
                *w = '\0';
                check_modprobe_line(l, file, first, start);
        }
}

/* driverctl's saved overrides: etc/driverctl.d/pci-ADDRESS. */
static void check_driverctl(struct lint *l)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;

        if (sysroot_opendir(l->h->sr, "etc/driverctl.d", &dir) < 0)
                return;
        while ((de = readdir(dir)) && !l->error) {
                struct pci_addr a;
                _cleanup_free_ char *fix = NULL;

                if (strncmp(de->d_name, "pci-", 4) != 0 || pci_addr_parse(de->d_name + 4, &a) < 0 ||
                    pci_list_find(l->h->pci, &a))
                        continue;
                fix = format(l, "driverctl unset-override %s (or delete /etc/driverctl.d/%s) if the card is gone.",
                             de->d_name + 4, de->d_name);
                add(l, "vfio-config-stale", SEVERITY_INFO, de->d_name + 4, fix,
                    "/etc/driverctl.d/%s overrides the driver of %s, a PCI address this host does not have.",
                    de->d_name, de->d_name + 4);
        }
}

int boot_doctor(const struct host *h, struct doctor_report *rep)
{
        struct lint l = {.h = h, .rep = rep};
        _cleanup_strv_free_null_ char **files = NULL;
        int r;

        r = module_index_open(h->sr, h->kernel_release, &l.mi);
        if (r < 0)
                return r;
        check_cmdline(&l);
        files = modprobe_files(&l);
        for (size_t i = 0; files && files[i] && !l.error; i++)
                check_modprobe_file(&l, files[i]);
        if (!l.error)
                check_driverctl(&l);
        module_index_free(l.mi);
        return l.error;
}
