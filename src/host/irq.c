/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IRQ affinities from proc/irq below the root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "host/irq.h"
#include "host/processes.h"

int irqs_read(const struct sysroot *sr, struct irq_list *ret)
{
        _cleanup_free_ int *irqs = NULL;
        struct irq_list l = {0};
        size_t n = 0;
        int r = proc_numbered_entries(sr, "proc/irq", &irqs, &n);

        if (r < 0)
                return r;
        l.v = calloc(n ? n : 1, sizeof(*l.v));
        if (!l.v)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                uint64_t set[BITMAP_WORDS(CPULIST_BITS)] = {0};
                char path[96], buf[4096];

                snprintf(path, sizeof(path), "proc/irq/%d/smp_affinity_list", irqs[k]);
                if (sysroot_read_attr(sr, path, buf, sizeof(buf)) < 0 || cpulist_parse(buf, set, CPULIST_BITS) < 0)
                        continue;
                l.v[l.n].number = (unsigned)irqs[k];
                l.v[l.n].affinity = cpulist_format(set, CPULIST_BITS);
                if (!l.v[l.n].affinity) {
                        irq_list_done(&l);
                        return -ENOMEM;
                }
                l.n++;
        }
        *ret = l;
        return 0;
}

void irq_list_done(struct irq_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].affinity);
        free(l->v);
        *l = (struct irq_list){0};
}
