/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The host's IRQs and the CPUs each may run on (proc/irq/N/smp_affinity_list). */

#include <stddef.h>

#include "basic/sysroot.h"

struct irq {
        unsigned number;
        char *affinity; /* as cpulist_format() writes it */
};

/* In IRQ order. */
struct irq_list {
        struct irq *v;
        size_t n;
};

/* Every IRQ whose affinity can be read and parsed (the others are left out). -ENOENT when
 * proc/irq is missing, -errno when it cannot be listed. */
int irqs_read(const struct sysroot *sr, struct irq_list *ret);
void irq_list_done(struct irq_list *l);
