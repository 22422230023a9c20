/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The holder check: before any driver is unbound, no process may have the devices' nodes open
 * (a compositor, nvidia-persistenced, a browser on the render node). Each one is named, so
 * "module nvidia_drm is in use" becomes "pid 2211 kwin_wayland (user@1000.service) holds ...". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "handoff/context.h"
#include "host/holders.h"

#define HOLDERS_NAMED 4

static int collect_nodes(const struct handoff_ctx *ctx, const struct step *s, char ***nodes, size_t *n)
{
        for (size_t i = 0; i < s->n_args; i++) {
                struct pci_device d = {0};
                char driver[64], **found = NULL, **v;
                size_t n_found = 0;
                int r;

                if (pci_addr_parse(s->args[i], &d.addr) < 0)
                        return -EINVAL;
                pci_addr_format(&d.addr, d.address);
                r = pci_current_driver(ctx->sr, d.address, driver, sizeof(driver));
                if (r < 0)
                        return r;
                d.driver = r > 0 ? driver : NULL;
                r = device_nodes_of(ctx->sr, &d, &found, &n_found);
                if (r < 0)
                        return r;
                v = realloc(*nodes, (*n + n_found + 1) * sizeof(*v));
                if (!v) {
                        device_nodes_free(found);
                        return -ENOMEM;
                }
                *nodes = v;
                for (size_t j = 0; j < n_found; j++)
                        v[(*n)++] = found[j];
                v[*n] = NULL;
                free(found); /* the strings moved into *nodes */
        }
        return 0;
}

static int check_apply(const struct handoff_ctx *ctx, const struct step *s, char **message)
{
        char **nodes = NULL, *list = NULL;
        struct holder *holders = NULL;
        size_t n_nodes = 0, n = 0, unreadable = 0, len = 0;
        FILE *f;
        int r;

        r = collect_nodes(ctx, s, &nodes, &n_nodes);
        if (r >= 0 && n_nodes > 0)
                r = holders_scan(ctx->sr, nodes, n_nodes, &holders, &n, &unreadable);
        device_nodes_free(nodes);
        if (r < 0)
                return step_fail(message, r, "cannot find out who holds the GPU: %s", strerror(-r));
        if (n == 0)
                return 0;
        f = open_memstream(&list, &len);
        if (f) {
                for (size_t i = 0; i < n && i < HOLDERS_NAMED; i++) {
                        _cleanup_free_ char *d = holder_describe(&holders[i]);
                        fprintf(f, "%s%s", i ? "; " : "", d ? d : "?");
                }
                if (n > HOLDERS_NAMED)
                        fprintf(f, "; and %zu more", n - HOLDERS_NAMED);
                fclose(f);
        }
        holders_free(holders, n);
        r = step_fail(message, -EBUSY, "the GPU is in use: %s. Close or stop %s first", list ? list : "?",
                      n == 1 ? "it" : "them");
        free(list);
        return r;
}

const struct step_ops step_check_holders_ops = {check_apply, NULL};
