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
#include "basic/quote.h"
#include "host/console.h"
#include "host/holders.h"
#include "host/host.h"
#include "host/modules.h"
#include "libvirt/hook-install.h"
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

/* A group number as large as the kernel's int allows: the groups cost what the host has. Built
 * with a table indexed by number this needed 8 GiB and wrote every entry of it. */
static void test_huge_group_number(void **state)
{
        struct test_tree *t = test_tree_fakehost("test-hostile",
                                                 "pci 0000:00:00.0 8086:3e30 class=0x060000 group=0\n"
                                                 "pci 0000:00:02.0 8086:3e98 class=0x030000 group=1\n"
                                                 "pci 0000:01:00.0 10de:2206 class=0x030000 group=7\n"
                                                 "pci 0000:01:00.1 10de:1aef class=0x040300 group=7\n"
                                                 "pci 0000:02:00.0 8086:15f3 class=0x020000\n"
                                                 "symlink sys/bus/pci/devices/0000:01:00.1/iommu_group "
                                                 "../../../kernel/iommu_groups/2147483647\n"
                                                 "symlink sys/bus/pci/devices/0000:02:00.0/iommu_group "
                                                 "../../../kernel/iommu_groups/500000000\n");
        struct host *h = NULL;
        const struct iommu_group *g;

        assert_int_equal(host_read(t->sr, NULL, HOST_PCI, &h), 0);
        assert_int_equal(h->groups->n_groups, 5);
        assert_int_equal(h->groups->groups[0].number, 0);
        assert_int_equal(h->groups->groups[4].number, INT32_MAX);
        g = iommu_group_find(h->groups, 500000000);
        assert_non_null(g);
        assert_int_equal(g->n_members, 1);
        assert_string_equal(g->members[0]->address, "0000:02:00.0");
        g = iommu_group_find(h->groups, 7);
        assert_non_null(g);
        assert_int_equal(g->n_members, 1);
        assert_null(iommu_group_find(h->groups, 2));
        host_free(h);
        test_tree_free(t);
}

/* Members of one group in address order whatever order the scan finds them in. */
static void test_group_members_sorted(void **state)
{
        struct test_tree *t = test_tree_fakehost("test-hostile",
                                                 "pci 0000:00:01.0 8086:1901 class=0x060400 group=3\n"
                                                 "pci 0000:01:00.0 10de:2206 class=0x030000 group=3\n"
                                                 "pci 0000:00:02.0 8086:3e98 class=0x030000 group=1\n"
                                                 "pci 0000:01:00.1 10de:1aef class=0x040300 group=3\n");
        struct host *h = NULL;
        const struct iommu_group *g;

        assert_int_equal(host_read(t->sr, NULL, HOST_PCI, &h), 0);
        g = iommu_group_find(h->groups, 3);
        assert_non_null(g);
        assert_int_equal(g->n_members, 3);
        assert_string_equal(g->members[0]->address, "0000:00:01.0");
        assert_string_equal(g->members[1]->address, "0000:01:00.0");
        assert_string_equal(g->members[2]->address, "0000:01:00.1");
        host_free(h);
        test_tree_free(t);
}

/* proc/interrupts of a big server: over 4 MiB, the remapped chips named only at its end, one
 * name cut between two reads. */
static void test_big_interrupts(void **state)
{
        static const char line[] = "  42:          0          0          0          0  DMAR-MSI    0-edge      dmar0\n";
        struct test_tree *t = test_tree_fakehost("test-hostile", "iommu intel enabled\n");
        size_t n_lines = (5u << 20) / (sizeof(line) - 1);
        char path[512];
        struct iommu_platform p;
        FILE *f;

        snprintf(path, sizeof(path), "%s/proc/interrupts", t->dir);
        assert_non_null(f = fopen(path, "w"));
        for (size_t i = 0; i < n_lines; i++)
                fputs(line, f);
        fputs(" 120:          0          0          0          0  IR-PCI-MSI 524288-edge      nvme0q0\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(iommu_platform_read(t->sr, 1, &p), 0);
        assert_int_equal(p.irq_remapping, YES);

        /* "IR-" across the first two 64 KiB reads, "MSI" elsewhere: still remapped. */
        assert_non_null(f = fopen(path, "w"));
        for (size_t i = 0; i < (64u << 10) - 1; i++)
                fputc(i % 80 == 79 ? '\n' : ' ', f);
        fputs("IR-IO-APIC\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(iommu_platform_read(t->sr, 1, &p), 0);
        assert_int_equal(p.irq_remapping, YES);

        /* Only plain chips: no remapping; a file without any: unknown. */
        test_tree_write(t, "proc/interrupts", "  24:  0  PCI-MSI 32768-edge  xhci_hcd\n");
        assert_int_equal(iommu_platform_read(t->sr, 1, &p), 0);
        assert_int_equal(p.irq_remapping, NO);
        test_tree_write(t, "proc/interrupts", "nothing here\n");
        assert_int_equal(iommu_platform_read(t->sr, 1, &p), 0);
        assert_int_equal(p.irq_remapping, UNKNOWN);
        test_tree_free(t);
}

/* A proc/ with no process in it (UBSan once caught qsort(NULL, 0) here). */
static void test_holders_empty_proc(void **state)
{
        struct test_tree *t = test_tree_new("test-hostile");
        char *nodes[] = {(char *)"dev/dri/card0"};
        struct holder *h = NULL;
        size_t n = 99, unreadable = 99;

        test_tree_write(t, "proc/self/stat", "4242 (x) R 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
        test_tree_mkdir(t, "proc/sys");
        assert_int_equal(holders_scan(t->sr, nodes, 1, &h, &n, &unreadable), 0);
        assert_int_equal(n, 0);
        assert_int_equal(unreadable, 0);
        holders_free(h, n);
        test_tree_free(t);
}

/* Every attribute a scan, doctor and the module check read, and /proc/interrupts, is a FIFO:
 * the reads fail at once instead of waiting for a writer that never comes. */
static void test_fifos_do_not_block(void **state)
{
        static const char *const fifos[] = {
                "D/vendor", "D/class", "D/config", "D/boot_vga", "D/driver_override", "D/reset_method",
                "D/revision", "proc/interrupts", "proc/cmdline", "proc/cpuinfo", "proc/sys/kernel/osrelease",
        };
        struct test_tree *t = test_tree_fakehost("test-hostile", "iommu intel enabled\n"
                                                                 "pci 0000:01:00.0 10de:2206 class=0x030000 group=1\n");
        struct host *h = NULL;
        char path[512];

        for (size_t i = 0; i < ELEMENTSOF(fifos); i++) {
                if (strncmp(fifos[i], "D/", 2) == 0)
                        snprintf(path, sizeof(path), "%s/sys/devices/pci0000:01/0000:01:00.0/%s", t->dir, fifos[i] + 2);
                else
                        snprintf(path, sizeof(path), "%s/%s", t->dir, fifos[i]);
                unlink(path);
                assert_int_equal(mkfifo(path, 0644), 0);
        }
        assert_int_equal(host_read(t->sr, NULL, HOST_PLATFORM, &h), 0);
        assert_true(device(h, "0000:01:00.0")->problems & PCI_PROBLEM_IDS);
        assert_int_equal(h->iommu.irq_remapping, UNKNOWN);
        assert_null(h->cmdline);
        host_free(h);
        test_tree_free(t);
}

/* Reading driver_override takes the device lock, which a blocked unbind holds until the VM
 * lets go; by then the driver link is gone, so the device looks driverless. No scan may open it,
 * on any device: inotify sees every open in the devices' directories. */
static void test_no_driver_override_read(void **state)
{
        static const char *const addresses[] = {"0000:01:00.0", "0000:02:00.0", "0000:03:00.0"};
        struct test_tree *t = test_tree_fakehost(
                "test-hostile", "pci 0000:01:00.0 10de:2206 class=0x030000 group=1 driver=vfio-pci override=vfio-pci\n"
                                "pci 0000:02:00.0 10de:2206 class=0x030000 group=2 override=vfio-pci\n"
                                "pci 0000:03:00.0 1002:73bf class=0x030000 group=3 driver=amdgpu\n");
        char dir[512], buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool vendor_opened = false, override_opened = false;
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        struct host *h = NULL;
        ssize_t k;

        assert_true(fd >= 0);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++) {
                snprintf(dir, sizeof(dir), "%s/sys/devices/pci0000:%.2s/%s", t->dir, addresses[i] + 5, addresses[i]);
                assert_true(inotify_add_watch(fd, dir, IN_OPEN) >= 0);
        }
        assert_int_equal(host_read(t->sr, NULL, HOST_PLATFORM, &h), 0);
        assert_int_equal(h->n_gpus, 3);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++)
                assert_true(device(h, addresses[i])->details);
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + k;) {
                        const struct inotify_event *e = (const struct inotify_event *)p;
                        override_opened |= e->len && strcmp(e->name, "driver_override") == 0;
                        vendor_opened |= e->len && strcmp(e->name, "vendor") == 0;
                        p += sizeof(*e) + e->len;
                }
        assert_true(vendor_opened); /* the watches work */
        assert_false(override_opened);
        close(fd);
        host_free(h);
        test_tree_free(t);
}

static void test_quote(void **state)
{
        char buf[QUOTE_BUF_SIZE(8)];
        _cleanup_free_ char *long_name = NULL, *q = NULL;

        assert_string_equal(quote_n("nvidia", SIZE_MAX, 8, buf), "nvidia");
        assert_string_equal(quote_n("a\x1b[2Jb", SIZE_MAX, 8, buf), "a\\x1b[2Jb");
        assert_string_equal(quote_n("a\nb", SIZE_MAX, 8, buf), "a\\x0ab");
        assert_string_equal(quote_n("snd\xff", SIZE_MAX, 8, buf), "snd\\xff");
        assert_string_equal(quote_n("f\xc3\xbcr", SIZE_MAX, 8, buf), "f\xc3\xbcr"); /* UTF-8 stays */
        assert_string_equal(quote_n("\xc2\x9b" "1m", SIZE_MAX, 8, buf), "\\xc2\\x9b1m"); /* C1 CSI */
        assert_string_equal(quote_n("\xed\xa0\x80", SIZE_MAX, 8, buf), "\\xed\\xa0\\x80"); /* a surrogate */
        assert_string_equal(quote_n("\xc0\xaf", SIZE_MAX, 8, buf), "\\xc0\\xaf");         /* overlong '/' */
        assert_string_equal(quote_n("0123456789", SIZE_MAX, 8, buf), "01234567...");
        assert_string_equal(quote_n("0123456\xc3\xbc", SIZE_MAX, 8, buf), "0123456..."); /* not cut inside */
        assert_string_equal(quote_n("abcdef", 3, 8, buf), "abc");
        long_name = malloc(5001);
        assert_non_null(long_name);
        memset(long_name, 'x', 5000);
        long_name[5000] = '\0';
        q = quote_dup(long_name, QUOTE_MAX);
        assert_non_null(q);
        assert_int_equal(strlen(q), QUOTE_MAX + 3);
        assert_int_equal(utf8_char_length("\xf4\x90\x80\x80", 4), 0); /* beyond U+10FFFF */
        assert_int_equal(utf8_char_length("\xf0\x9f\x98\x80", 4), 4);
        assert_int_equal(utf8_char_length("\xf0\x9f\x98", 3), 0);
}

/* hook install's view of qemu.d: a relative link with enough ".." to climb out of the tree, to
 * an executable gpu-handoff-hook and a VM script outside it, must find neither. */
static void test_hook_links_stay_inside(void **state)
{
        struct test_tree *out = test_tree_new("test-hostile-outside");
        struct test_tree *t = test_tree_new("test-hostile");
        struct hook_status *st = NULL;
        char target[1024], path[512];
        char *error = NULL;

        test_tree_write(out, "sbin/gpu-handoff-hook", "#!/bin/sh\n");
        snprintf(path, sizeof(path), "%s/sbin/gpu-handoff-hook", out->dir);
        assert_int_equal(chmod(path, 0755), 0);
        test_tree_write(out, "vm/prepare/begin", "#!/bin/sh\n");
        /* etc/libvirt/hooks/qemu.d is 4 deep below the root, the root at most 16 below "/" */
        snprintf(target, sizeof(target), "../../../../../../../../../../../../../../../../../../../..%s/sbin/gpu-handoff-hook",
                 out->dir);
        test_tree_link(t, target, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        snprintf(target, sizeof(target), "../../../../../../../../../../../../../../../../../../../../..%s/vm/prepare",
                 out->dir);
        test_tree_link(t, target, "etc/libvirt/hooks/qemu.d/vm/prepare");
        assert_int_equal(hook_status_read(t->sr, &st, &error), 0);
        assert_int_equal(st->link, HOOK_FILE_OURS_STALE);
        assert_false(st->link_executable);
        assert_int_equal(st->n_vm_dirs, 1);
        assert_false(st->vm_scripts);
        hook_status_free(st);
        free(error);
        test_tree_free(t);
        test_tree_free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_absolute_links_stay_inside),
                cmocka_unit_test(test_huge_group_number),
                cmocka_unit_test(test_group_members_sorted),
                cmocka_unit_test(test_big_interrupts),
                cmocka_unit_test(test_holders_empty_proc),
                cmocka_unit_test(test_fifos_do_not_block),
                cmocka_unit_test(test_no_driver_override_read),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_hook_links_stay_inside),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
