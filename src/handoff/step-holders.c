/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The holder check: before any driver is unbound, no process may have the devices' nodes open
 * (a compositor, nvidia-persistenced, a browser on the render node). Each one is named, so
 * "module nvidia_drm is in use" becomes "pid 2211 kwin_wayland (user@1000.service) holds ...". */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "handoff/context.h"
#include "host/holders.h"

#define HOLDERS_NAMED 4

#define TERM_GRACE_USEC (5 * USEC_PER_SEC) /* time to quit cleanly after SIGTERM */
#define KILL_GRACE_USEC (2 * USEC_PER_SEC)

static int collect_nodes(const struct handoff_ctx *ctx, const struct step *s, char ***nodes, size_t *n)
{
        for (size_t i = 1; i < s->n_args; i++) {
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

struct scan {
        const struct handoff_ctx *ctx;
        char **nodes;
        size_t n_nodes;
        struct holder *holders;
        size_t n;
};

static void scan_clear(struct scan *sc)
{
        holders_free(sc->holders, sc->n);
        sc->holders = NULL;
        sc->n = 0;
}

static int scan_now(struct scan *sc)
{
        size_t unreadable = 0;

        scan_clear(sc);
        return sc->n_nodes ? holders_scan(sc->ctx->sr, sc->nodes, sc->n_nodes, &sc->holders, &sc->n, &unreadable) : 0;
}

/* wait_until() condition: nobody holds the nodes any more. */
static int nobody_holds(void *userdata)
{
        struct scan *sc = userdata;
        int r = scan_now(sc);
        return r < 0 ? r : sc->n == 0;
}

static int signal_all(struct scan *sc, int sig)
{
        for (size_t i = 0; i < sc->n; i++) {
                int r = kernel_signal_process(sc->ctx->kernel, &sc->holders[i].id, sig);
                if (r < 0 && r != -ESRCH)
                        return r;
        }
        return 0;
}

/* "pid 2211 kwin_wayland (user@1000.service) holds /dev/dri/card0; ..." */
static char *describe_holders(const struct scan *sc)
{
        char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < sc->n && i < HOLDERS_NAMED; i++) {
                _cleanup_free_ char *d = holder_describe(&sc->holders[i]);
                fprintf(f, "%s%s", i ? "; " : "", d ? d : "?");
        }
        if (sc->n > HOLDERS_NAMED)
                fprintf(f, "; and %zu more", sc->n - HOLDERS_NAMED);
        if (fclose(f) != 0) {
                free(list);
                return NULL;
        }
        return list;
}

static int check_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        struct scan sc = {.ctx = ctx};
        _cleanup_free_ char *list = NULL;
        bool terminate = s->n_args > 0 && strcmp(s->args[0], "terminate") == 0;
        int r;

        r = collect_nodes(ctx, s, &sc.nodes, &sc.n_nodes);
        if (r >= 0)
                r = scan_now(&sc);
        if (r < 0) {
                device_nodes_free(sc.nodes);
                scan_clear(&sc);
                return step_fail(message, r, "cannot find out who holds the GPU: %s", strerror(-r));
        }
        if (sc.n > 0 && terminate) {
                /* Politely first; then the holders still there are killed. */
                r = signal_all(&sc, SIGTERM);
                if (r >= 0 && wait_until(ctx->clock, TERM_GRACE_USEC, nobody_holds, &sc) == -ETIMEDOUT) {
                        r = signal_all(&sc, SIGKILL);
                        if (r >= 0)
                                r = wait_until(ctx->clock, KILL_GRACE_USEC, nobody_holds, &sc);
                }
                if (r < 0 && r != -ETIMEDOUT) {
                        device_nodes_free(sc.nodes);
                        scan_clear(&sc);
                        return step_fail(message, r, "cannot stop the processes that hold the GPU: %s", strerror(-r));
                }
        }
        device_nodes_free(sc.nodes);
        if (sc.n == 0)
                return 0;
        list = describe_holders(&sc);
        r = sc.n == 1;
        scan_clear(&sc);
        if (terminate)
                return step_fail(message, -EBUSY, "the GPU is still in use after SIGKILL: %s", list ? list : "?");
        return step_fail(message, -EBUSY,
                         "the GPU is in use: %s. Close or stop %s first, or run attach with --terminate", list ? list : "?",
                         r ? "it" : "them");
}

const struct step_ops step_check_holders_ops = {check_apply, NULL};
