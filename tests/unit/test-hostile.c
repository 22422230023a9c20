/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile and odd machine trees: what the host model reads stays inside the root, never blocks,
 * and costs what the host has, not what its numbers claim. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "host/console.h"
#include "host/holders.h"
#include "host/host.h"
#include "host/modules.h"
#include "testtree.h"

static struct pci_device *device(const struct host *h, const char *address)
{
        struct pci_addr a;
        struct pci_device *d;

        assert_int_equal(pci_addr_parse(address, &a), 0);
        d = pci_list_find(h->pci, &a);
        if (!d) {
                fail_msg("no device %s", address);
                abort(); /* not reached */
        }
        return d;
}

/* Links in the fake tree that point, absolutely, at a device, a driver and a module that exist
 * outside it: followed from a directory fd they would be read from this machine. */
static void test_absolute_links_stay_inside(void **state)
{
        struct test_tree *out = test_tree_new("test-hostile-outside");
        struct test_tree *t;
        struct host *h = NULL;
        char description[4096], *module = NULL;

        test_tree_write(out, "dev/vendor", "0x10de\n");
        test_tree_write(out, "dev/device", "0x2206\n");
        test_tree_write(out, "dev/class", "0x030000\n");
        test_tree_mkdir(out, "drivers/evil");
        test_tree_mkdir(out, "module/evil/drivers/pci:nvidia");
        test_tree_mkdir(out, "vtcon/vtcon1");
        test_tree_write(out, "vtcon/vtcon1/name", "(S) frame buffer device\n");
        test_tree_write(out, "vtcon/vtcon1/bind", "1\n");
        snprintf(description, sizeof(description),
                 "pci 0000:01:00.0 10de:2206 class=0x030000 group=1 driver=nvidia\n"
                 "symlink sys/bus/pci/devices/0000:05:00.0 %s/dev\n"
                 "symlink sys/bus/pci/devices/0000:01:00.0/driver %s/drivers/evil\n"
                 "symlink sys/module/evil %s/module/evil\n"
                 "symlink sys/class/vtconsole/vtcon1 %s/vtcon/vtcon1\n",
                 out->dir, out->dir, out->dir, out->dir);
        t = test_tree_fakehost("test-hostile", description);
        assert_int_equal(host_read(t->sr, NULL, HOST_PCI, &h), 0);

        /* Resolved inside the root the device link dangles: unreadable, not the outside GPU. */
        assert_true(device(h, "0000:05:00.0")->problems & PCI_PROBLEM_LINK);
        assert_false(pci_device_is_gpu(device(h, "0000:05:00.0")));
        /* The driver link's target does not exist inside the root: no driver bound. */
        assert_null(device(h, "0000:01:00.0")->driver);
        assert_true(device(h, "0000:01:00.0")->problems & PCI_PROBLEM_DRIVER);
        /* sys/module/evil leads out of the tree: it names no module of nvidia. */
        assert_int_equal(module_of_driver(t->sr, "nvidia", &module), -ENOENT);
        assert_null(module);
        {
                struct vtconsole *v = NULL;
                size_t n = 99;
                assert_int_equal(vtconsoles_read(t->sr, &v, &n), 0);
                assert_int_equal(n, 0);
                free(v);
        }

        host_free(h);
        test_tree_free(t);
        test_tree_free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_absolute_links_stay_inside),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
