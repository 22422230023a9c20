/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff-hook: what libvirt runs for every event of every VM (installed as
 * /etc/libvirt/hooks/qemu.d/gpu-handoff by "gpu-handoff hook install"). gpu-handoff links a
 * dozen libraries (libxml2, libsystemd, libkmod, libpci...) whose loading alone takes
 * milliseconds, and most events need nothing from it. This front links only libc and answers
 * them itself:
 *   - any event other than "prepare begin" and "release end";
 *   - "release end" while nothing is lent (no journal);
 *   - "prepare begin" of a domain whose XML does not even contain the word "hostdev" (and has
 *     no DTD that could spell it with entities: gpu-handoff refuses those, so they go there).
 * The rest goes to the gpu-handoff next to it, with the domain XML it read on stdin. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XML_MAX (1024 * 1024 + 1) /* gpu-handoff refuses more than 1 MiB: one byte past is enough */
#define JOURNAL "/run/gpu-handoff/journal"

static bool contains(const char *buf, size_t len, const char *word)
{
        return memmem(buf, len, word, strlen(word)) != NULL;
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
        *ret_needed = contains(buf, len, "hostdev") || contains(buf, len, "<!DOCTYPE") || contains(buf, len, "<!ENTITY");
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
                if (access(JOURNAL, F_OK) < 0 && errno == ENOENT)
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
