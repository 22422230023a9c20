/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domain_parse() on arbitrary bytes. Invariants: it returns 0, -EINVAL, -EFBIG or -ENOMEM, the
 * same with or without a place for the message; a failure leaves *ret alone and comes with one
 * short line "domain XML: ..." or "domain XML:LINE: ..."; a success gives a well-formed domain
 * (a name usable as a file name, a canonical UUID, whole KiB sizes, canonical cpulists that
 * parse back to themselves, host PCI addresses in range); libxml2's error handler is the caller's
 * again afterwards. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlerror.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "fuzz.h"
#include "libvirt/domain.h"

#define CPU_BITS 8192

static void check_message(const char *s)
{
        size_t n;

        fuzz_check(s && strncmp(s, "domain XML:", 11) == 0);
        s += 11;
        n = strspn(s, "0123456789");
        if (n > 0) {
                fuzz_check(s[0] != '0' && s[n] == ':');
                s += n + 1;
        }
        fuzz_check(s[0] == ' ' && s[1] != '\0' && s[1] != ' ');
        fuzz_check(!strchr(s, '\n') && !strchr(s, '\r'));
        /* quotes are cut to 64 bytes: an address with four of them is the longest */
        fuzz_check(strlen(s) < 2048);
}

static void check_cpulist(const char *s)
{
        uint64_t bits[CPU_BITS / 64];
        _cleanup_free_ char *again = NULL;

        if (!s)
                return;
        fuzz_check(*s);
        fuzz_check(cpulist_parse(s, bits, CPU_BITS) == 0);
        again = cpulist_format(bits, CPU_BITS);
        fuzz_check(again && strcmp(again, s) == 0);
}

static void check_domain(const struct domain *d)
{
        fuzz_check(d->name && *d->name);
        for (const char *p = d->name; *p; p++)
                fuzz_check(*p != '/' && (unsigned char)*p >= 0x20 && *p != 0x7f);
        if (d->uuid) {
                fuzz_check(strlen(d->uuid) == 36);
                for (size_t i = 0; i < 36; i++)
                        fuzz_check(i == 8 || i == 13 || i == 18 || i == 23
                                       ? d->uuid[i] == '-'
                                       : !!strchr("0123456789abcdef", d->uuid[i]));
        }
        fuzz_check(d->memory_bytes % 1024 == 0);
        fuzz_check(d->hugepage_size % 1024 == 0);
        fuzz_check(d->hugepage_node >= -1 && d->hugepage_node <= 1023);
        if (!d->hugepages)
                fuzz_check(d->hugepage_size == 0 && d->hugepage_node == -1);
        check_cpulist(d->vcpu_cpus);
        check_cpulist(d->emulator_cpus);
        check_cpulist(d->iothread_cpus);
        fuzz_check(!d->n_hostdevs == !d->hostdevs);
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const struct domain_hostdev *h = &d->hostdevs[i];
                /* any address, 0000:00:00.0 included (libvirt accepts it; zPCI uses it) */
                fuzz_check(h->host.slot <= 31 && h->host.func <= 7);
                if (h->has_guest_address)
                        fuzz_check((h->guest.domain || h->guest.bus || h->guest.slot) &&
                                   h->guest.slot <= 31 && h->guest.func <= 7);
                else
                        fuzz_check(!h->guest.domain && !h->guest.bus && !h->guest.slot);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct domain *d = (struct domain *)(uintptr_t)0x10, *d2 = (struct domain *)(uintptr_t)0x10;
        _cleanup_free_ char *error = NULL;
        int r, r2;

        r = domain_parse((const char *)data, size, &d, &error);
        fuzz_check(r == 0 || r == -EINVAL || r == -EFBIG || r == -ENOMEM);
        fuzz_check(xmlStructuredError == NULL);
        r2 = domain_parse((const char *)data, size, &d2, NULL);
        fuzz_check(r2 == r || r2 == -ENOMEM || r == -ENOMEM);
        if (r2 == 0)
                domain_free(d2);
        else
                fuzz_check(d2 == (struct domain *)(uintptr_t)0x10);
        if (r < 0) {
                fuzz_check(d == (struct domain *)(uintptr_t)0x10);
                if (r != -ENOMEM)
                        check_message(error);
                return 0;
        }
        fuzz_check(!error);
        check_domain(d);
        domain_free(d);
        return 0;
}
