/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt hook's lend set (src/libvirt/lend-set.h), rule by rule, on the testbed's machine
 * with a few more devices: a NIC on e1000e, a device on vfio-pci, one without a driver, and the
 * root port (a bridge) the GPU sits behind.
 *
 * Promises:
 *  - a hostdev this host does not have is skipped as not on the host; a bridge as a bridge; both
 *    in the domain's order, and neither is an error;
 *  - one on vfio-pci is not lent; one without a driver, or on any other driver, is;
 *  - a hostdev named twice is lent once;
 *  - a driver that cannot be read is an error naming the device, with what was decided before it;
 *  - the GPU is named, its companion comes along unnamed while the domain passes the GPU, and is
 *    named (as not a GPU: force) when the domain passes it alone;
 *  - a managed non-GPU is not named (libvirt binds it); an unmanaged one is, with force;
 *  - the caller binds exactly the managed='yes' hostdevs. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libvirt/lend-set.h"
#include "testbed-host.h"
#include "testtree.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define BRIDGE "0000:00:02.0"
#define NIC "0000:03:00.0"
#define ON_VFIO "0000:04:00.0"
#define NO_DRIVER "0000:05:00.0"
#define ABSENT "0000:09:00.0"

#define MACHINE                                                                           \
        FAKEHOST_TESTBED                                                                  \
        "pci 0000:03:00.0 8086:10d3 class=0x020000 group=5 driver=e1000e\n"               \
        "pci 0000:04:00.0 10de:1b80 class=0x030000 group=6 driver=vfio-pci\n"             \
        "pci 0000:05:00.0 1b21:1242 class=0x0c0330 group=7\n"

/* A domain with these hostdevs: "A" unmanaged, "A+" managed='yes'. */
static struct domain *domain_with(const char *const *hostdevs)
{
        char xml[4096];
        size_t len = (size_t)snprintf(xml, sizeof(xml), "<domain type='kvm'><name>win11</name><devices>");
        struct domain *d = NULL;
        char *error = NULL;

        for (const char *const *h = hostdevs; *h; h++) {
                unsigned dom, bus, slot, fn;
                bool managed = strchr(*h, '+') != NULL;
                assert_int_equal(sscanf(*h, "%x:%x:%x.%x", &dom, &bus, &slot, &fn), 4);
                len += (size_t)snprintf(xml + len, sizeof(xml) - len,
                                        "<hostdev mode='subsystem' type='pci' managed='%s'><source><address "
                                        "domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source>"
                                        "</hostdev>",
                                        managed ? "yes" : "no", dom, bus, slot, fn);
        }
        snprintf(xml + len, sizeof(xml) - len, "</devices></domain>");
        if (domain_parse(xml, strlen(xml), &d, &error) < 0)
                fail_msg("%s", error);
        return d;
}

static void assert_list(const struct strv *v, const char *const *want)
{
        size_t n = 0;

        for (; want[n]; n++) {
                assert_true(n < v->n);
                assert_string_equal(v->v[n], want[n]);
        }
        assert_int_equal(v->n, n);
}

static void read_set(const struct sysroot *sr, const char *const *hostdevs, struct lend_set *ret)
{
        struct domain *d = domain_with(hostdevs);
        char *error = NULL;

        if (lend_set_read(sr, d, ret, &error) < 0)
                fail_msg("%s", error ? error : "out of memory");
        domain_free(d);
}

static void test_skipped_left_to_libvirt(void **state)
{
        struct test_host *m = test_host_new("test-lend-set", MACHINE);
        struct lend_set s;

        read_set(m->tree->sr, (const char *const[]){ABSENT, GPU, BRIDGE, NULL}, &s);
        assert_list(&s.devices, (const char *const[]){GPU, NULL});
        assert_int_equal(s.n_skipped, 2);
        assert_string_equal(s.skipped[0].address, ABSENT);
        assert_int_equal(s.skipped[0].reason, LEND_SKIP_NOT_ON_HOST);
        assert_string_equal(s.skipped[1].address, BRIDGE);
        assert_int_equal(s.skipped[1].reason, LEND_SKIP_BRIDGE);
        assert_string_equal(lend_skip_reason_to_string(LEND_SKIP_BRIDGE), "is a PCI bridge, which stays with the host");
        assert_string_equal(lend_skip_reason_to_string(LEND_SKIP_NOT_ON_HOST), "is not on this host's PCI bus");
        lend_set_done(&s);
        test_host_free(m);
}

static void test_drivers(void **state)
{
        struct test_host *m = test_host_new("test-lend-set", MACHINE);
        struct lend_set s;

        read_set(m->tree->sr, (const char *const[]){ON_VFIO, NO_DRIVER, NIC, AUDIO, NULL}, &s);
        assert_list(&s.devices, (const char *const[]){NO_DRIVER, NIC, AUDIO, NULL});
        assert_int_equal(s.n_skipped, 0);
        lend_set_done(&s);
        /* all on vfio-pci already: nothing to lend */
        read_set(m->tree->sr, (const char *const[]){ON_VFIO, NULL}, &s);
        assert_int_equal(s.devices.n, 0);
        lend_set_done(&s);
        test_host_free(m);
}

static void test_named_twice(void **state)
{
        struct test_host *m = test_host_new("test-lend-set", MACHINE);
        struct lend_set s;

        read_set(m->tree->sr, (const char *const[]){GPU, AUDIO, GPU "+", NULL}, &s);
        assert_list(&s.devices, (const char *const[]){GPU, AUDIO, NULL});
        lend_set_done(&s);
        test_host_free(m);
}

static void test_unreadable_driver(void **state)
{
        struct test_host *m = test_host_new("test-lend-set", MACHINE);
        struct domain *d = domain_with((const char *const[]){ABSENT, GPU, NO_DRIVER, NIC, NULL});
        struct lend_set s;
        char *error = NULL;

        /* "driver" is a symlink in sysfs; a file there cannot be read as one */
        test_tree_write(m->tree, "sys/bus/pci/devices/" NO_DRIVER "/driver", "x");
        assert_true(lend_set_read(m->tree->sr, d, &s, &error) < 0);
        assert_non_null(error);
        assert_non_null(strstr(error, "cannot read the driver of " NO_DRIVER ": "));
        assert_list(&s.devices, (const char *const[]){GPU, NULL});
        assert_int_equal(s.n_skipped, 1);
        free(error);
        lend_set_done(&s);
        domain_free(d);
        test_host_free(m);
}

/* lend_set_names() over every hostdev of the domain as the lend set. */
static void names_of(const struct test_host *m, const char *const *hostdevs, const char *const *want, bool force)
{
        struct domain *d = domain_with(hostdevs);
        struct strv lend = {0}, names = {0};
        bool f = !force;

        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN];
                assert_int_equal(strv_addf(&lend, "%s", pci_addr_format(&d->hostdevs[i].host, a)), 0);
        }
        assert_int_equal(lend_set_names(m->h, d, &lend, &names, &f), 0);
        assert_list(&names, want);
        assert_int_equal(f, force);
        strv_done(&lend);
        strv_done(&names);
        domain_free(d);
}

static void test_names(void **state)
{
        struct test_host *m = test_host_new("test-lend-set", MACHINE);

        /* the GPU brings its companion along */
        names_of(m, (const char *const[]){GPU, AUDIO, NULL}, (const char *const[]){GPU, NULL}, false);
        names_of(m, (const char *const[]){GPU "+", AUDIO "+", NULL}, (const char *const[]){GPU, NULL}, false);
        /* the companion alone is named, as a device that is not a GPU */
        names_of(m, (const char *const[]){AUDIO, NULL}, (const char *const[]){AUDIO, NULL}, true);
        /* ... unless it is managed: libvirt binds it, the hook names nothing */
        names_of(m, (const char *const[]){AUDIO "+", NULL}, (const char *const[]){NULL}, false);
        /* a device that is no GPU's: named with force when unmanaged, left to libvirt when managed */
        names_of(m, (const char *const[]){GPU, NIC, NULL}, (const char *const[]){GPU, NIC, NULL}, true);
        names_of(m, (const char *const[]){GPU, NIC "+", NULL}, (const char *const[]){GPU, NULL}, false);
        test_host_free(m);
}

static void test_caller_binds(void **state)
{
        struct domain *d = domain_with((const char *const[]){GPU "+", AUDIO, NIC "+", ABSENT, NULL});
        struct strv v = {0};

        assert_int_equal(lend_set_caller_binds(d, &v), 0);
        assert_list(&v, (const char *const[]){GPU, NIC, NULL});
        strv_done(&v);
        domain_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_skipped_left_to_libvirt),
                cmocka_unit_test(test_drivers),
                cmocka_unit_test(test_named_twice),
                cmocka_unit_test(test_unreadable_driver),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_caller_binds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
