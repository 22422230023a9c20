/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Once-per-boot cards (lend-once.h): the record of this boot's lends, and the refusal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/proc.h"
#include "handoff/lend-once.h"

#define RECORD_MAX (64u * 1024)

static const struct quirk *once_quirk(const struct gpu *g)
{
        for (size_t i = 0; g && i < g->n_quirks; i++)
                if (g->quirks[i]->flags & (QUIRK_RESET_ONCE_PER_BOOT | QUIRK_RESET_BROKEN))
                        return g->quirks[i];
        return NULL;
}

/* Whether this boot's record names address. */
static bool lent_this_boot(const struct sysroot *sr, const char *boot, const char *address)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, blen = strlen(boot), alen = strlen(address);

        if (sysroot_read_file(sr, LEND_ONCE_PATH, RECORD_MAX, &text, &len) < 0)
                return false;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncmp(line, boot, blen) == 0 && line[blen] == ' ' && strncmp(line + blen + 1, address, alen) == 0 &&
                    (line[blen + 1 + alen] == ' ' || line[blen + 1 + alen] == 0))
                        return true;
        }
        return false;
}

int lend_once_check(const struct sysroot *sr, const struct gpu *g, const char *force_word, char **ret_error)
{
        const struct quirk *q = once_quirk(g);
        char boot[40];

        if (!q || boot_id_read(sr, boot) < 0 || !lent_this_boot(sr, boot, g->dev->address))
                return 0;
        return error_setf(ret_error, -EPERM,
                          "%s was lent already in this boot, and %s cannot reset (quirk %s): %s Reboot the host "
                          "before lending it again%s%s%s",
                          g->dev->address, q->name, q->id, q->summary, force_word ? ", or use " : "",
                          force_word ? force_word : "", force_word ? " to lend it anyway" : "");
}

int lend_once_record(const struct sysroot *sr, const struct gpu *g)
{
        _cleanup_free_ char *text = NULL, *line = NULL;
        _cleanup_close_ int dirfd = -1;
        size_t len = 0;
        const struct quirk *q = once_quirk(g);
        char boot[40];
        int r;

        if (!q)
                return 0;
        r = boot_id_read(sr, boot);
        if (r < 0)
                return r;
        if (lent_this_boot(sr, boot, g->dev->address))
                return 0;
        r = sysroot_read_file(sr, LEND_ONCE_PATH, RECORD_MAX, &text, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (asprintf(&line, "%.*s%s%s %s %04x:%04x %s\n", (int)len, text ? text : "",
                     len > 0 && text[len - 1] != '\n' ? "\n" : "", boot, g->dev->address, g->dev->vendor,
                     g->dev->device, q->id) < 0)
                return -ENOMEM;
        dirfd = sysroot_openat(sr, "run/gpu-handoff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return dirfd;
        return atomic_write_at(dirfd, "lends", line, strlen(line), 0644, NULL);
}
