/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff-hook: what libvirt runs for every event of every VM (installed as
 * /etc/libvirt/hooks/qemu.d/gpu-handoff by "gpu-handoff hook install"). gpu-handoff links a
 * dozen libraries (libxml2, libsystemd, libkmod, libpci...) whose loading alone takes
 * milliseconds, and most events need nothing from it. This front links only libc and answers
 * them itself:
 *   - any event other than "prepare begin" and "release end";
 *   - "release end" while nothing is lent (no journal below $GPU_HANDOFF_ROOT, as gpu-handoff
 *     would look for it);
 *   - "prepare begin" of a domain without a PCI hostdev (no <hostdev ... type='pci'>): no hostdev
 *     at all, or only USB, SCSI, mdev ones.
 * Whatever gpu-handoff would refuse goes there, so that it refuses it the same way: a DTD or
 * entities (which could spell a hostdev), a character reference in a hostdev's attributes, more
 * than 1 MiB, a NUL byte (UTF-16, UTF-32), bytes that are not UTF-8, an encoding declaration.
 * The rest goes to the gpu-handoff next to it, with the domain XML it read on stdin. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/utf8.h"

#define XML_MAX (1024 * 1024 + 1) /* gpu-handoff refuses more than 1 MiB: one byte past is enough */
#define JOURNAL "run/gpu-handoff/journal"

static bool contains(const char *buf, size_t len, const char *word)
{
        return memmem(buf, len, word, strlen(word)) != NULL;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* UTF-8 without NUL: gpu-handoff's own rule for a domain XML (src/libvirt/domain.c check_text()). */
static bool is_utf8_text(const char *s, size_t len)
{
        for (size_t i = 0, k; i < len; i += k) {
                k = utf8_char_length(s + i, len - i);
                if (k == 0 || s[i] == '\0')
                        return false;
        }
        return true;
}

/* The attributes of the start tag at p: is one of them type="pci" (either quote, blanks around
 * '=', or a character reference that could spell it)? A tag this cannot read is left to
 * gpu-handoff's parser: true. */
static bool tag_may_be_pci(const char *p, const char *end)
{
        for (;;) {
                const char *name, *value;
                size_t name_len, value_len;
                char quote;

                while (p < end && is_blank(*p))
                        p++;
                if (p >= end)
                        return true;
                if (*p == '>' || *p == '/')
                        return false;
                name = p;
                while (p < end && !is_blank(*p) && *p != '=' && *p != '>' && *p != '/')
                        p++;
                name_len = (size_t)(p - name);
                while (p < end && is_blank(*p))
                        p++;
                if (p >= end || *p++ != '=')
                        return true;
                while (p < end && is_blank(*p))
                        p++;
                if (p >= end || (*p != '\'' && *p != '"'))
                        return true;
                quote = *p++;
                value = p;
                while (p < end && *p != quote)
                        p++;
                if (p >= end)
                        return true;
                value_len = (size_t)(p++ - value);
                if (name_len == 4 && memcmp(name, "type", 4) == 0)
                        return (value_len == 3 && memcmp(value, "pci", 3) == 0) || memchr(value, '&', value_len);
        }
}

/* A <hostdev> element whose type may be pci. */
static bool has_pci_hostdev(const char *buf, size_t len)
{
        const char *end = buf + len;

        for (const char *p = buf; (p = memmem(p, (size_t)(end - p), "<hostdev", 8)); p += 8)
                if (p + 8 < end && (is_blank(p[8]) || p[8] == '>' || p[8] == '/') && tag_may_be_pci(p + 8, end))
                        return true;
        return false;
}

/* Whether gpu-handoff has anything to do with this domain XML, or anything to refuse in it. */
static bool needs_gpu_handoff(const char *buf, size_t len)
{
        if (len >= XML_MAX || !is_utf8_text(buf, len))
                return true;
        if (contains(buf, len, "<!DOCTYPE") || contains(buf, len, "<!ENTITY"))
                return true;
        /* an XML declaration naming an encoding: gpu-handoff checks which */
        if (len >= 5 && memcmp(buf, "<?xml", 5) == 0) {
                const char *decl_end = memmem(buf, len, "?>", 2);
                if (!decl_end || contains(buf, (size_t)(decl_end - buf), "encoding"))
                        return true;
        }
        return has_pci_hostdev(buf, len);
}

/* Reads stdin (up to XML_MAX bytes) into a memfd that becomes stdin again for gpu-handoff;
 * *ret_needed says whether the domain may need it at all. */
static int read_domain(bool *ret_needed)
{
        static char buf[XML_MAX];
        size_t len = 0;
        ssize_t n;
        int fd;

        while (len < sizeof(buf) && (n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                len += (size_t)n;
        }
        *ret_needed = needs_gpu_handoff(buf, len);
        if (!*ret_needed)
                return 0;
        fd = memfd_create("domain-xml", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0) {
                close(fd);
                return -EIO;
        }
        close(fd);
        return 0;
}

int main(int argc, char **argv)
{
        char self[PATH_MAX], *slash, **args;
        bool needed = false;
        ssize_t n;
        int r;

        /* libvirt: VM OP SUBOP EXTRA */
        if (argc < 4)
                return 0;
        if (strcmp(argv[2], "release") == 0 && strcmp(argv[3], "end") == 0) {
                /* where gpu-handoff looks: below $GPU_HANDOFF_ROOT (a fake root), else / */
                const char *root = getenv("GPU_HANDOFF_ROOT");
                char journal[PATH_MAX];

                if (!root || !*root)
                        root = "/";
                if (snprintf(journal, sizeof(journal), "%s/%s", root, JOURNAL) < (int)sizeof(journal) &&
                    access(journal, F_OK) < 0 && errno == ENOENT)
                        return 0;
        } else if (strcmp(argv[2], "prepare") == 0 && strcmp(argv[3], "begin") == 0) {
                r = read_domain(&needed);
                if (r < 0) {
                        fprintf(stderr, "gpu-handoff-hook: cannot read the domain XML on stdin: %s\n", strerror(-r));
                        return 2;
                }
                if (!needed)
                        return 0;
        } else
                return 0;

        n = readlink("/proc/self/exe", self, sizeof(self) - sizeof("gpu-handoff"));
        if (n < 0 || !(slash = memrchr(self, '/', (size_t)n))) {
                fprintf(stderr, "gpu-handoff-hook: cannot find where it is installed: %s\n", strerror(errno));
                return 2;
        }
        strcpy(slash + 1, "gpu-handoff");
        /* "--" first: a VM name may start with '-' */
        args = calloc((size_t)argc + 3, sizeof(*args));
        if (!args) {
                fputs("gpu-handoff-hook: out of memory\n", stderr);
                return 2;
        }
        args[0] = self;
        args[1] = (char *)"--";
        args[2] = (char *)"hook";
        memcpy(args + 3, argv + 1, (size_t)(argc - 1) * sizeof(*args));
        execv(self, args);
        fprintf(stderr, "gpu-handoff-hook: cannot run %s: %s\n", self, strerror(errno));
        return 2;
}
