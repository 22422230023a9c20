/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pci_addr_parse() and pci_addr_parse_user(): no crash on any input, failures leave the
 * result alone, and whatever parses formats back to the canonical lower-case form. */

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "fuzz.h"

static const struct pci_addr poison = { 0xdead, 0xbe, 0xef, 0xaa };

static bool addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot && a->func == b->func;
}

static void check_parsed(const char *s, const struct pci_addr *a, bool strict)
{
        char buf[PCI_ADDR_STRLEN], lower[PCI_ADDR_STRLEN];
        struct pci_addr again = poison;
        size_t n = strlen(s);

        fuzz_check(a->slot <= 31 && a->func <= 7);
        pci_addr_format(a, buf);
        fuzz_check(strlen(buf) == PCI_ADDR_STRLEN - 1);
        fuzz_check(pci_addr_parse(buf, &again) == 0);
        fuzz_check(addr_equal(a, &again));
        fuzz_check(pci_addr_compare(a, &again) == 0);

        /* the canonical form is the input, lower-cased (short forms gain "0000:") */
        fuzz_check(n == 12 || (!strict && n == 7));
        for (size_t i = 0; i < n; i++)
                lower[i] = (char)tolower((unsigned char)s[i]);
        lower[n] = '\0';
        fuzz_check(strcmp(n == 12 ? buf : buf + 5, lower) == 0);
        if (n == 7)
                fuzz_check(a->domain == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        struct pci_addr strict = poison, user = poison;
        int r, ru;

        if (size > 64) /* the grammar is 12 bytes long; longer inputs only waste time */
                return 0;
        s = fuzz_strndup(data, size);

        r = pci_addr_parse(s, &strict);
        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r < 0)
                fuzz_check(addr_equal(&strict, &poison));
        else
                check_parsed(s, &strict, true);

        ru = pci_addr_parse_user(s, &user);
        fuzz_check(ru == 0 || ru == -EINVAL || ru == -ERANGE);
        if (ru < 0)
                fuzz_check(addr_equal(&user, &poison));
        else
                check_parsed(s, &user, false);

        /* the command-line form accepts everything the strict one does, with the same meaning */
        if (r == 0)
                fuzz_check(ru == 0 && addr_equal(&strict, &user));
        if (r == 0 && ru == 0)
                fuzz_check(pci_addr_same_slot(&strict, &user));
        return 0;
}
