/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the kernel model (kmodel.h) and tree snapshots (snapshot.h): the whole hand-over
 * cycle of the test bed by hand, the kernel's refusals, failure injection and the operation
 * hook, on small fake hosts described inline. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "kmodel.h"
#include "snapshot.h"
#include "tree-remove.h"

/* The test bed's VM (testbed.md §4): std VGA + HDA behind a root port in group 3, fbcon on the
 * firmware framebuffer, vfio-pci not loaded. */
#define TESTBED_HOST                                                                                        \
        "iommu intel enabled\n"                                                                             \
        "module bochs loaded driver=bochs-drm\n"                                                            \
        "module snd_hda_intel loaded\n"                                                                     \
        "module vfio available\n"                                                                           \
        "module vfio_pci available deps=vfio\n"                                                             \
        "pci 0000:00:1c.0 1b36:000c class=0x060400 group=2 driver=pcieport pcie\n"                          \
        "pci 0000:01:00.0 1234:1111 class=0x030000 parent=0000:00:1c.0 group=3 driver=bochs-drm "           \
        "boot_vga=1 "                                                                                       \
        "reset=bus\n"                                                                                       \
        "pci 0000:01:00.1 8086:2668 class=0x040300 parent=0000:00:1c.0 group=3 driver=snd_hda_intel "       \
        "raw.reset_method= raw.reset=\n"                                                                    \
        "file sys/class/vtconsole/vtcon0/name (S) dummy device\n"                                           \
        "file sys/class/vtconsole/vtcon0/bind 0\n"                                                          \
        "file sys/class/vtconsole/vtcon1/name (M) frame buffer device\n"                                    \
        "file sys/class/vtconsole/vtcon1/bind 1\n"                                                          \
        "dir sys/devices/platform/efi-framebuffer.0\n"                                                      \
        "file sys/bus/platform/drivers/efi-framebuffer/bind\n"                                              \
        "file sys/bus/platform/drivers/efi-framebuffer/unbind\n"                                            \
        "symlink sys/bus/platform/devices/efi-framebuffer.0 ../../../devices/platform/efi-framebuffer.0\n"  \
        "symlink sys/devices/platform/efi-framebuffer.0/driver "                                            \
        "../../../bus/platform/drivers/efi-framebuffer\n"                                                   \
        "symlink sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0 "                               \
        "../../../../devices/platform/efi-framebuffer.0\n"                                                  \
        "file sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 0\n"

#define NVIDIA_HOST                                                                                         \
        "iommu intel enabled\n"                                                                             \
        "module vfio loaded holders=vfio_pci\n"                                                             \
        "module vfio_pci loaded deps=vfio\n"                                                                \
        "module nvidia loaded holders=nvidia_modeset,nvidia_uvm\n"                                          \
        "module nvidia_uvm loaded deps=nvidia\n"                                                            \
        "module nvidia_modeset loaded deps=nvidia holders=nvidia_drm\n"                                     \
        "module nvidia_drm loaded deps=nvidia_modeset,nvidia\n"                                             \
        "module snd_hda_intel loaded\n"                                                                     \
        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport pcie\n"                          \
        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 boot_vga=0 driver=nvidia\n"  \
        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

struct host {
        char dir[256];
        struct sysroot *sr;
        struct kmodel *m;
};

/* Hosts not freed yet: a failing test jumps past host_free(), the teardown frees them. */
static struct host *live[8];
static const char *hosts_dir; /* tests/fixtures/hosts, from argv[1] */

/* A fake host from a description, or from a .host file when file is set. */
static struct host *host_build(const char *description, const char *file)
{
        struct host *h = calloc(1, sizeof(*h));
        const char *tmp = getenv("TMPDIR");
        char *error = NULL;

        assert_non_null(h);
        snprintf(h->dir, sizeof(h->dir), "%s/test-kmodel.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(h->dir));
        if ((file ? fakehost_build_file(file, h->dir, &error)
                  : fakehost_build(description, "inline", h->dir, &error)) < 0)
                fail_msg("fakehost: %s", error);
        for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
                if (!live[i]) {
                        live[i] = h;
                        break;
                }
        assert_int_equal(sysroot_open(h->dir, &h->sr), 0);
        assert_int_equal(kmodel_new(h->sr, &h->m), 0);
        return h;
}

static struct host *host_new(const char *description)
{
        return host_build(description, NULL);
}

static void host_free(struct host *h)
{
        for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
                if (live[i] == h)
                        live[i] = NULL;
        kmodel_free(h->m);
        sysroot_free(h->sr);
        tree_remove(h->dir);
        free(h);
}

static int free_live_hosts(void **state)
{
        for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
                if (live[i])
                        host_free(live[i]);
        return 0;
}

/* Through the seam, as the engine calls it. */
static int w(struct host *h, const char *path, const char *value)
{
        struct kernel k = kmodel_kernel(h->m);
        return kernel_write(&k, path, value);
}

static int load(struct host *h, const char *name)
{
        struct kernel k = kmodel_kernel(h->m);
        return kernel_load_module(&k, name);
}

static int unload(struct host *h, const char *name)
{
        struct kernel k = kmodel_kernel(h->m);
        return kernel_unload_module(&k, name);
}

static bool exists(struct host *h, const char *path)
{
        return faccessat(h->sr->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The driver of a PCI device, "" when it has none. */
static const char *driver_of(struct host *h, const char *addr)
{
        static char buf[64];
        char path[128];

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", addr);
        if (read_link_basename_at(h->sr->fd, path, buf, sizeof(buf)) < 0)
                buf[0] = 0;
        return buf;
}

/* A file's content, trailing whitespace stripped; "<missing>" when it cannot be read. */
static const char *attr(struct host *h, const char *path)
{
        static char buf[4096];

        if (sysroot_read_attr(h->sr, path, buf, sizeof(buf)) < 0)
                snprintf(buf, sizeof(buf), "<missing>");
        return buf;
}

/* text with "# " before every line but the first (cmocka writes that one's). Static storage. */
static const char *tap_comment(const char *text)
{
        static char buf[16384];
        size_t n = 0;

        for (const char *p = text; *p && n + 3 < sizeof(buf); p++) {
                buf[n++] = *p;
                if (*p == '\n' && p[1]) {
                        buf[n++] = '#';
                        buf[n++] = ' ';
                }
        }
        buf[n] = 0;
        return buf;
}

static char *snap(struct host *h)
{
        char *s = tree_snapshot(h->dir, NULL);

        assert_non_null(s);
        return s;
}

/* Fails with the differing lines, each as a TAP comment, when the tree is not as before. */
#define assert_same_tree(before, h)                                                                         \
        do {                                                                                                \
                char *_now = snap(h), *_d = snapshot_diff((before), _now);                                  \
                assert_non_null(_d);                                                                        \
                if (_d[0])                                                                                  \
                        fail_msg("the tree changed:\n# %s", tap_comment(_d));                               \
                free(_d);                                                                                   \
                free(_now);                                                                                 \
        } while (0)

/* ---- the hand-over cycle ---- */

static void test_testbed_cycle(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        char *before = snap(h), *after, *diff;

        /* detach, as guest-test.sh does it */
        assert_int_equal(w(h, "sys/class/vtconsole/vtcon1/bind", "0"), 0);
        assert_string_equal(attr(h, "sys/class/vtconsole/vtcon1/bind"), "0");
        assert_string_equal(attr(h, "sys/class/vtconsole/vtcon0/bind"), "1"); /* dummy takes over */
        assert_int_equal(w(h, "sys/bus/platform/drivers/efi-framebuffer/unbind", "efi-framebuffer.0"), 0);
        assert_false(exists(h, "sys/devices/platform/efi-framebuffer.0/driver"));
        assert_false(exists(h, "sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0"));
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/driver/unbind", AUDIO "\n"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "");
        assert_string_equal(driver_of(h, AUDIO), "");
        assert_false(exists(h, "sys/bus/pci/drivers/bochs-drm/" GPU));
        assert_false(exists(h, "sys/bus/pci/drivers/snd_hda_intel/" AUDIO));
        assert_int_equal(unload(h, "bochs"), 0);
        assert_false(exists(h, "sys/module/bochs"));
        assert_false(exists(h, "sys/bus/pci/drivers/bochs-drm"));

        assert_int_equal(load(h, "vfio-pci"), 0);
        assert_string_equal(attr(h, "sys/module/vfio_pci/initstate"), "live");
        assert_string_equal(attr(h, "sys/module/vfio/refcnt"), "1");
        assert_true(exists(h, "sys/module/vfio/holders/vfio_pci"));
        assert_true(exists(h, "sys/bus/pci/drivers/vfio-pci/bind"));
        assert_true(exists(h, "sys/bus/pci/drivers/vfio-pci/module"));
        assert_true(exists(h, "dev/vfio/vfio"));
        assert_false(exists(h, "dev/vfio/3"));
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/driver_override", "vfio-pci\n"), 0);
        assert_string_equal(attr(h, "sys/bus/pci/devices/" AUDIO "/driver_override"), "vfio-pci");
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", AUDIO), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_string_equal(driver_of(h, AUDIO), "vfio-pci");
        assert_true(exists(h, "sys/bus/pci/drivers/vfio-pci/" GPU));
        assert_true(exists(h, "dev/vfio/3"));
        /* vfio-pci took the boot VGA device: the firmware framebuffer is gone for good */
        assert_false(exists(h, "sys/bus/platform/devices/efi-framebuffer.0"));
        assert_false(exists(h, "sys/devices/platform/efi-framebuffer.0"));

        /* reattach */
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_true(exists(h, "dev/vfio/3")); /* the audio function keeps the group open */
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", AUDIO), 0);
        assert_false(exists(h, "dev/vfio/3"));
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "\n"), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/driver_override", "\n"), 0);
        assert_string_equal(attr(h, "sys/bus/pci/devices/" GPU "/driver_override"), "(null)");
        assert_int_equal(unload(h, "vfio_pci"), 0);
        assert_int_equal(unload(h, "vfio"), 0);
        assert_false(exists(h, "dev/vfio"));
        assert_int_equal(load(h, "bochs"), 0);
        assert_string_equal(driver_of(h, GPU), "bochs-drm"); /* the reload gave it back */
        assert_string_equal(driver_of(h, AUDIO), "");
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", AUDIO), 0);
        assert_string_equal(driver_of(h, AUDIO), "snd_hda_intel");
        assert_int_equal(w(h, "sys/bus/platform/drivers/efi-framebuffer/bind", "efi-framebuffer.0"),
                         -ENODEV);
        assert_int_equal(w(h, "sys/class/vtconsole/vtcon1/bind", "1"), 0);
        assert_string_equal(attr(h, "sys/class/vtconsole/vtcon0/bind"), "0");
        assert_int_equal(kmodel_ops_count(h->m), 20);

        /* as before, but for the firmware framebuffer */
        after = snap(h);
        diff = snapshot_diff(before, after);
        assert_string_equal(
            diff,
            "-l sys/bus/platform/devices/efi-framebuffer.0 -> ../../../devices/platform/efi-framebuffer.0\n"
            "-l sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0 -> "
            "../../../../devices/platform/efi-framebuffer.0\n"
            "-d sys/devices/platform/efi-framebuffer.0 0755\n"
            "-l sys/devices/platform/efi-framebuffer.0/driver -> "
            "../../../bus/platform/drivers/efi-framebuffer\n");
        free(diff);
        free(after);
        free(before);
        host_free(h);
}

static void test_nvidia_cycle(void **state)
{
        struct host *h = host_new(NVIDIA_HOST);
        char *before = snap(h);

        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/unbind", GPU), 0);
        assert_int_equal(unload(h, "nvidia"), -EBUSY); /* holders first */
        assert_int_equal(unload(h, "nvidia_modeset"), -EBUSY);
        assert_true(exists(h, "sys/module/nvidia"));
        assert_int_equal(unload(h, "nvidia_drm"), 0);
        assert_string_equal(attr(h, "sys/module/nvidia_modeset/refcnt"), "0");
        assert_false(exists(h, "sys/module/nvidia_modeset/holders/nvidia_drm"));
        assert_int_equal(unload(h, "nvidia_modeset"), 0);
        assert_string_equal(attr(h, "sys/module/nvidia/refcnt"), "1");
        assert_int_equal(unload(h, "nvidia"), -EBUSY); /* nvidia_uvm still holds it */
        assert_int_equal(unload(h, "nvidia_uvm"), 0);
        assert_string_equal(attr(h, "sys/module/nvidia/refcnt"), "0");
        assert_int_equal(unload(h, "nvidia"), 0);
        assert_false(exists(h, "sys/bus/pci/drivers/nvidia"));
        assert_false(exists(h, "sys/module/nvidia"));
        assert_string_equal(attr(h, "proc/modules"), "vfio 16384 1 vfio_pci, Live 0x0000000000000000\n"
                                                     "vfio_pci 16384 0 - Live 0x0000000000000000\n"
                                                     "snd_hda_intel 16384 0 - Live 0x0000000000000000");

        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", AUDIO), 0);
        assert_true(exists(h, "dev/vfio/1"));
        assert_string_equal(driver_of(h, "0000:00:01.0"), "pcieport");

        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", AUDIO), 0);
        assert_false(exists(h, "dev/vfio/1"));
        assert_true(exists(h, "dev/vfio/vfio")); /* vfio stays loaded */
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "\n"), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/driver_override", "\n"), 0);
        /* modprobe nvidia_drm loads nvidia and nvidia_modeset first; nvidia takes the GPU */
        assert_int_equal(load(h, "nvidia-drm"), 0);
        assert_string_equal(driver_of(h, GPU), "nvidia");
        assert_string_equal(attr(h, "sys/module/nvidia/refcnt"), "1");
        assert_string_equal(attr(h, "sys/module/nvidia_modeset/refcnt"), "1");
        assert_true(exists(h, "sys/module/nvidia_modeset/holders/nvidia_drm"));
        assert_false(exists(h, "sys/module/nvidia/holders/nvidia_drm")); /* only what it held */
        assert_int_equal(load(h, "nvidia_uvm"), 0);
        assert_int_equal(load(h, "nvidia_uvm"), 0); /* loaded: nothing to do */
        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/bind", AUDIO), 0);

        assert_same_tree(before, h);
        free(before);
        host_free(h);
}

/* ---- refusals ---- */

static void test_unload_refused(void **state)
{
        struct host *h = host_new(TESTBED_HOST "module kvm loaded refcnt=1\n"
                                               "module i2c_core builtin\n");
        char *before = snap(h);

        assert_int_equal(unload(h, "bochs"), -EBUSY); /* the GPU is bound to bochs-drm */
        assert_int_equal(unload(h, "kvm"), -EBUSY);   /* a user beyond its holders */
        assert_int_equal(unload(h, "vfio_pci"), -ENOENT);
        assert_int_equal(unload(h, "i2c_core"), -ENOENT);
        assert_int_equal(unload(h, "no_such_module"), -ENOENT);
        assert_int_equal(load(h, "no_such_module"), -ENOENT);
        assert_int_equal(load(h, "i2c_core"), 0);
        assert_same_tree(before, h);
        assert_string_equal(kmodel_log(h->m), "unload:bochs = -EBUSY\n"
                                              "unload:kvm = -EBUSY\n"
                                              "unload:vfio_pci = -ENOENT\n"
                                              "unload:i2c_core = -ENOENT\n"
                                              "unload:no_such_module = -ENOENT\n"
                                              "load:no_such_module = -ENOENT\n"
                                              "load:i2c_core\n");

        /* the kernel's own behaviour: driver_unregister() unbinds */
        kmodel_set_unload_unbinds(h->m, true);
        assert_int_equal(unload(h, "bochs"), 0);
        assert_string_equal(driver_of(h, GPU), "");
        assert_false(exists(h, "sys/bus/pci/drivers/bochs-drm"));
        assert_int_equal(load(h, "bochs"), 0);
        assert_same_tree(before, h);
        free(before);
        host_free(h);
}

static void test_bind_rules(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        char *before = snap(h);

        assert_int_equal(load(h, "vfio_pci"), 0);
        free(before);
        before = snap(h);
        /* vfio-pci has no ID table: without driver_override it matches nothing */
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/bind", GPU), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/bind", GPU), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/bind", "0000:07:00.0"), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/bind", GPU), -EBUSY);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", AUDIO), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/unbind", GPU), -ENOENT);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", "0000:07:00.0"), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0); /* bound: nothing to do */
        assert_int_equal(w(h, "sys/bus/platform/drivers/efi-framebuffer/bind", "efi-framebuffer.0"), -EBUSY);
        assert_int_equal(w(h, "sys/bus/platform/drivers/efi-framebuffer/unbind", "nope.0"), -ENODEV);
        assert_same_tree(before, h);

        /* the test bed's bind-while-bound: EBUSY with the override set */
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/bind", GPU), -EBUSY);
        assert_string_equal(driver_of(h, GPU), "bochs-drm");
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), 0);
        /* the override keeps the native driver away */
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/bind", GPU), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/bind", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_true(exists(h, "dev/vfio/3"));
        assert_int_equal(w(h, "/sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", ""), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/bind", GPU), 0);
        /* the firmware framebuffer went with vfio-pci's bind */
        assert_false(exists(h, "sys/bus/platform/devices/efi-framebuffer.0"));
        assert_int_equal(w(h, "sys/bus/platform/drivers/efi-framebuffer/unbind", "efi-framebuffer.0"),
                         -ENODEV);
        free(before);
        host_free(h);
}

static void test_probe_honours_override(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        char *before = snap(h);

        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), 0);
        /* vfio-pci is not loaded: nothing matches, the device stays free, the write succeeds */
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "");
        /* registering vfio-pci binds what its override names */
        assert_int_equal(load(h, "vfio_pci"), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_string_equal(driver_of(h, AUDIO), "snd_hda_intel");
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "\n"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "bochs-drm");
        assert_int_equal(unload(h, "vfio_pci"), 0);
        assert_int_equal(unload(h, "vfio"), 0);
        /* vfio-pci had the boot VGA device */
        assert_false(exists(h, "sys/devices/platform/efi-framebuffer.0"));
        free(before);
        host_free(h);
}

static void test_vfio_without_group(void **state)
{
        struct host *h = host_new("module vfio_pci loaded\n"
                                  "pci 0000:01:00.0 10de:2204 class=0x030000 driver=nvidia\n"
                                  "module nvidia loaded\n");

        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/unbind", GPU), 0);
        /* vfio_pci_core fails the probe: drivers_probe ignores it, bind reports it */
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "");
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/bind", GPU), -EINVAL);
        assert_string_equal(driver_of(h, GPU), "");
        assert_false(exists(h, "dev/vfio"));
        host_free(h);
}

static void test_held_device(void **state)
{
        struct host *h = host_new(NVIDIA_HOST);

        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_int_equal(kmodel_hold_vfio(h->m, GPU, true), 0);
        assert_int_equal(kmodel_hold_vfio(h->m, "0000:09:00.0", true), -ENODEV);

        /* the write would block: the seam reports -ETIMEDOUT, nothing changes */
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), -ETIMEDOUT);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_true(exists(h, "dev/vfio/1"));
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/remove", "1"), -ETIMEDOUT);
        kmodel_set_hold_error(h->m, -EINTR);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), -EINTR);
        /* the group's DMA belongs to user space: the audio function cannot go to a host driver */
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", AUDIO), -EINVAL);
        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/bind", AUDIO), -EINVAL);
        assert_string_equal(driver_of(h, AUDIO), "");
        /* also with the real kernel's unload: vfio_pci cannot go while it has the device */
        kmodel_set_unload_unbinds(h->m, true);
        assert_int_equal(unload(h, "vfio_pci"), -EINTR);
        assert_true(exists(h, "sys/module/vfio_pci"));

        assert_int_equal(kmodel_hold_vfio(h->m, GPU, false), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_false(exists(h, "dev/vfio/1"));
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", AUDIO), 0);
        assert_string_equal(driver_of(h, AUDIO), "snd_hda_intel");
        host_free(h);
}

static void test_remove_rescan_reset(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        char *before = snap(h);

        /* the GPU lists "bus", but its audio function shares the bus: ENOTTY, as the testbed's
         * kernel answers (testbed.md §5) */
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/reset", "1"), -ENOTTY);
        assert_int_equal(w(h, "sys/bus/pci/devices/" AUDIO "/reset", "1"), -ENOTTY);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/remove", "1"), 0);
        assert_false(exists(h, "sys/bus/pci/devices/" GPU));
        assert_false(exists(h, "sys/devices/pci0000:00/0000:00:1c.0/" GPU));
        assert_false(exists(h, "sys/kernel/iommu_groups/3/devices/" GPU));
        assert_false(exists(h, "sys/bus/pci/drivers/bochs-drm/" GPU));
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/remove", "1"), -ENOENT);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/devices/0000:00:1c.0/remove", "1"), -EOPNOTSUPP);
        /* a new device: no override, probed to its driver */
        assert_int_equal(w(h, "sys/bus/pci/rescan", "1"), 0);
        assert_string_equal(driver_of(h, GPU), "bochs-drm");
        assert_same_tree(before, h);
        free(before);
        host_free(h);
}

static void test_new_id(void **state)
{
        struct host *h = host_new(TESTBED_HOST);

        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), 0);
        assert_int_equal(unload(h, "bochs"), 0);
        assert_int_equal(load(h, "vfio_pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/new_id", "1234 1111"), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_string_equal(driver_of(h, AUDIO), "snd_hda_intel");
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/new_id", "1234 1111"), -EEXIST);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/new_id", "zz"), -EINVAL);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/remove_id", "1234 1111"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/remove_id", "1234 1111"), -ENODEV);
        assert_int_equal(w(h, "sys/bus/pci/drivers/vfio-pci/unbind", GPU), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "");
        assert_int_equal(kmodel_set_native_driver(h->m, GPU, "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "vfio-pci");
        host_free(h);
}

static void test_plain_attributes(void **state)
{
        struct host *h = host_new(TESTBED_HOST);

        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/vendor", "0x10de"), -EACCES);
        assert_string_equal(attr(h, "sys/bus/pci/devices/" GPU "/vendor"), "0x1234");
        assert_int_equal(w(h, "sys/kernel/no_such_file", "1"), -ENOENT);
        assert_int_equal(w(h, "sys/no/such/dir/file", "1"), -ENOENT);
        assert_int_equal(w(h, "sys/kernel/mm", "1"), -EISDIR);
        host_free(h);
}

/* room.h: hugepage pools, compaction, cgroup cpusets, stopped processes. */
#define POOL "sys/kernel/mm/hugepages/hugepages-2048kB/"
#define NODE0 "sys/devices/system/node/node0/hugepages/hugepages-2048kB/"

static void test_room_hugepages(void **state)
{
        struct host *h = host_new(TESTBED_HOST "file " POOL "free_hugepages 0\n");

        assert_int_equal(w(h, POOL "nr_hugepages", "512"), 0);
        assert_string_equal(attr(h, POOL "nr_hugepages"), "512");
        assert_string_equal(attr(h, POOL "free_hugepages"), "512");
        assert_int_equal(w(h, POOL "nr_hugepages", "many"), -EINVAL);
        /* short of memory: fewer pages, and still no error; compaction finds more */
        assert_int_equal(kmodel_hugepage_limit(h->m, 2048, 600, 700), 0);
        assert_int_equal(w(h, POOL "nr_hugepages", "1000"), 0);
        assert_string_equal(attr(h, POOL "nr_hugepages"), "600");
        assert_int_equal(w(h, "proc/sys/vm/compact_memory", "1"), -ENOENT); /* not in this tree */
        host_free(h);

        h = host_new(TESTBED_HOST "file " POOL "free_hugepages 0\n"
                                  "file proc/sys/vm/compact_memory\n"
                                  "file " NODE0 "nr_hugepages 0\n"
                                  "file " NODE0 "free_hugepages 0\n");
        assert_int_equal(kmodel_hugepage_limit(h->m, 2048, 600, 700), 0);
        assert_int_equal(w(h, NODE0 "nr_hugepages", "1000"), 0);
        assert_string_equal(attr(h, NODE0 "nr_hugepages"), "600");
        assert_string_equal(attr(h, POOL "nr_hugepages"), "600"); /* the sum of the nodes */
        assert_int_equal(w(h, "proc/sys/vm/compact_memory", "1"), 0);
        assert_int_equal(w(h, POOL "nr_hugepages", "1000"), 0);
        assert_string_equal(attr(h, NODE0 "nr_hugepages"), "700");
        assert_string_equal(attr(h, POOL "nr_hugepages"), "700");
        assert_int_equal(w(h, POOL "nr_hugepages", "0"), 0); /* shrinking always works */
        assert_string_equal(attr(h, NODE0 "free_hugepages"), "0");
        host_free(h);
}

static void test_room_cpusets(void **state)
{
        struct host *h = host_new(TESTBED_HOST "file sys/devices/system/cpu/online 0-3\n"
                                                "file sys/fs/cgroup/cgroup.controllers cpuset memory\n"
                                                "file sys/fs/cgroup/cgroup.subtree_control memory\n"
                                                "file sys/fs/cgroup/a.slice/cgroup.subtree_control\n"
                                                "file sys/fs/cgroup/b.slice/cgroup.subtree_control\n");

        assert_int_equal(w(h, "sys/fs/cgroup/a.slice/cpuset.cpus", "0"), -ENOENT);
        assert_int_equal(w(h, "sys/fs/cgroup/cgroup.subtree_control", "+cpuset"), 0);
        assert_string_equal(attr(h, "sys/fs/cgroup/cgroup.subtree_control"), "cpuset memory");
        assert_string_equal(attr(h, "sys/fs/cgroup/b.slice/cpuset.cpus"), "");
        assert_string_equal(attr(h, "sys/fs/cgroup/b.slice/cpuset.cpus.effective"), "0-3");
        assert_int_equal(w(h, "sys/fs/cgroup/a.slice/cpuset.cpus", "4"), -EINVAL); /* not online */
        assert_int_equal(w(h, "sys/fs/cgroup/a.slice/cpuset.cpus", "x"), -EINVAL);
        assert_int_equal(w(h, "sys/fs/cgroup/a.slice/cpuset.cpus", "1,0"), 0);
        assert_string_equal(attr(h, "sys/fs/cgroup/a.slice/cpuset.cpus"), "0-1");
        assert_int_equal(w(h, "sys/fs/cgroup/a.slice/cgroup.subtree_control", "+cpuset"), -ENOENT);
        assert_int_equal(w(h, "sys/fs/cgroup/cgroup.subtree_control", "-cpuset"), 0);
        assert_false(exists(h, "sys/fs/cgroup/a.slice/cpuset.cpus"));
        assert_string_equal(attr(h, "sys/fs/cgroup/cgroup.subtree_control"), "memory");
        host_free(h);
}

static void test_room_stopped_process(void **state)
{
        struct host *h = host_new(TESTBED_HOST "file proc/888/stat 888 (heavy) S 1 888 888 0 -1 4194560 100 0 0 0 1 "
                                                "1 0 0 20 0 1 0 6000 1000 100\n");
        struct kernel k = kmodel_kernel(h->m);
        struct process_id id = {888, 6000}, other = {888, 6001};

        assert_int_equal(kernel_signal_process(&k, &other, SIGSTOP), -ESRCH); /* another process */
        assert_int_equal(kernel_signal_process(&k, &id, SIGSTOP), 0);
        assert_non_null(strstr(attr(h, "proc/888/stat"), "(heavy) T 1"));
        assert_int_equal(kernel_signal_process(&k, &id, SIGSTOP), 0);
        assert_int_equal(kernel_signal_process(&k, &id, SIGCONT), 0);
        assert_non_null(strstr(attr(h, "proc/888/stat"), "(heavy) S 1"));
        assert_int_equal(kernel_signal_process(&k, &id, SIGCONT), 0); /* running: nothing happens */
        assert_non_null(strstr(attr(h, "proc/888/stat"), "(heavy) S 1"));
        host_free(h);
}

static void test_refuses_real_root(void **state)
{
        struct sysroot *sr = NULL;
        struct kmodel *m = (struct kmodel *)0x1;

        assert_int_equal(sysroot_open("/", &sr), 0);
        assert_int_equal(kmodel_new(sr, &m), -EPERM);
        assert_ptr_equal(m, (struct kmodel *)0x1);
        sysroot_free(sr);
}

static void test_sparse_fixture(void **state)
{
        /* as tests/unit/test-plan.c writes them: no platform bind files, no driver back link, and
         * a module whose driver only the driver's module link names */
        struct host *h = host_new("module foo_drm loaded\n"
                                  "pci 0000:01:00.0 1af4:1050 class=0x030000 group=1 driver=foo_drm\n"
                                  "file sys/class/vtconsole/vtcon1/name (M) frame buffer device\n"
                                  "file sys/class/vtconsole/vtcon1/bind 1\n"
                                  "dir sys/devices/platform/simple-framebuffer.0\n"
                                  "dir sys/bus/platform/drivers/simple-framebuffer\n"
                                  "symlink sys/bus/platform/devices/simple-framebuffer.0 "
                                  "../../../devices/platform/simple-framebuffer.0\n"
                                  "symlink sys/devices/platform/simple-framebuffer.0/driver "
                                  "../../../bus/platform/drivers/simple-framebuffer\n");
        char *before = snap(h);

        assert_int_equal(w(h, "sys/class/vtconsole/vtcon1/bind", "0"), 0);
        assert_int_equal(w(h, "sys/bus/platform/drivers/simple-framebuffer/unbind", "simple-framebuffer.0"), 0);
        assert_false(exists(h, "sys/devices/platform/simple-framebuffer.0/driver"));
        assert_int_equal(w(h, "sys/bus/platform/drivers/nope/unbind", "simple-framebuffer.0"), -ENOENT);
        assert_int_equal(unload(h, "foo_drm"), -EBUSY);
        assert_int_equal(w(h, "sys/bus/pci/drivers/foo_drm/unbind", GPU), 0);
        assert_int_equal(unload(h, "foo_drm"), 0);
        assert_false(exists(h, "sys/bus/pci/drivers/foo_drm"));
        assert_int_equal(load(h, "foo-drm"), 0);
        assert_string_equal(driver_of(h, GPU), "foo_drm");
        assert_int_equal(w(h, "sys/bus/platform/drivers/simple-framebuffer/bind", "simple-framebuffer.0"), 0);
        assert_int_equal(w(h, "sys/class/vtconsole/vtcon1/bind", "1"), 0);
        assert_same_tree(before, h);
        free(before);
        host_free(h);
}

/* ---- failure injection and the operation hook ---- */

static void test_fail_injection(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        char *before;

        /* the second unbind fails, changing nothing; later ones work again */
        assert_int_equal(kmodel_fail(h->m, "write:*/unbind=*", -EIO, 2), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), 0);
        before = snap(h);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), -EIO);
        assert_same_tree(before, h);
        free(before);
        assert_int_equal(w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "");

        /* nth 0: every match; a dependency's load is matched too */
        kmodel_fail_clear(h->m);
        assert_int_equal(kmodel_fail(h->m, "load:vfio", -ENOMEM, 0), 0);
        before = snap(h);
        assert_int_equal(load(h, "vfio_pci"), -ENOMEM);
        assert_int_equal(load(h, "vfio_pci"), -ENOMEM);
        assert_same_tree(before, h);
        free(before);
        kmodel_fail_clear(h->m);
        assert_int_equal(kmodel_fail(h->m, "unload:*", -EBUSY, 1), 0);
        assert_int_equal(kmodel_fail(h->m, "load:vfio?pci", -ENOENT, 1), 0);
        assert_int_equal(load(h, "vfio_pci"), -ENOENT);
        assert_int_equal(load(h, "vfio_pci"), 0);
        assert_int_equal(unload(h, "bochs"), -EBUSY);
        assert_int_equal(unload(h, "bochs"), 0);
        /* a positive error is taken as its negative */
        assert_int_equal(kmodel_fail(h->m, "write:sys/bus/pci/devices/*/driver_override=", EPERM, 0), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"), 0);
        assert_int_equal(w(h, "sys/bus/pci/devices/" GPU "/driver_override", "\n"), -EPERM);
        assert_string_equal(attr(h, "sys/bus/pci/devices/" GPU "/driver_override"), "vfio-pci");

        assert_string_equal(kmodel_log(h->m),
                            "write:sys/bus/pci/drivers/snd_hda_intel/unbind=0000:01:00.1\n"
                            "write:sys/bus/pci/drivers/bochs-drm/unbind=0000:01:00.0 = -EIO\n"
                            "write:sys/bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                            "load:vfio_pci = -ENOMEM\n"
                            "load:vfio_pci = -ENOMEM\n"
                            "load:vfio_pci = -ENOENT\n"
                            "load:vfio_pci\n"
                            "unload:bochs = -EBUSY\n"
                            "unload:bochs\n"
                            "write:sys/bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                            "write:sys/bus/pci/devices/0000:01:00.0/driver_override= = -EPERM\n");
        assert_int_equal(kmodel_ops_count(h->m), 11);
        kmodel_log_clear(h->m);
        assert_string_equal(kmodel_log(h->m), "");
        host_free(h);
}

struct op_record {
        unsigned calls;
        unsigned fail_at;
        char ops[1024];
};

static int record_op(const char *op, unsigned n, void *userdata)
{
        struct op_record *rec = userdata;

        rec->calls++;
        assert_int_equal(n, rec->calls);
        snprintf(rec->ops + strlen(rec->ops), sizeof(rec->ops) - strlen(rec->ops), "%u %s\n", n, op);
        return n == rec->fail_at ? -EAGAIN : 0;
}

static void test_on_op(void **state)
{
        struct host *h = host_new(NVIDIA_HOST);
        struct op_record rec = {.fail_at = 3};

        kmodel_on_op(h->m, record_op, &rec);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/unbind", GPU "\n"), 0);
        assert_int_equal(unload(h, "nvidia_drm"), 0);
        assert_int_equal(unload(h, "nvidia_modeset"), -EAGAIN); /* the hook failed it */
        assert_true(exists(h, "sys/module/nvidia_modeset"));
        assert_int_equal(load(h, "nvidia_drm"), 0);
        assert_int_equal(rec.calls, 4);
        assert_int_equal(kmodel_ops_count(h->m), 4);
        assert_string_equal(rec.ops, "1 write:sys/bus/pci/drivers/nvidia/unbind=0000:01:00.0\n"
                                     "2 unload:nvidia_drm\n"
                                     "3 unload:nvidia_modeset\n"
                                     "4 load:nvidia_drm\n");
        kmodel_on_op(h->m, NULL, NULL);
        assert_int_equal(w(h, "sys/bus/pci/drivers/nvidia/bind", GPU), 0);
        assert_int_equal(rec.calls, 4);
        assert_int_equal(kmodel_ops_count(h->m), 5);
        host_free(h);
}

static int die_at_3(const char *op, unsigned n, void *userdata)
{
        if (n == 3)
                _exit(42);
        return 0;
}

static void test_killed_at_op(void **state)
{
        struct host *h = host_new(TESTBED_HOST);
        int status = 0;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* "the process" dies before its third operation */
                kmodel_on_op(h->m, die_at_3, NULL);
                (void)w(h, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO);
                (void)w(h, "sys/bus/pci/drivers/bochs-drm/unbind", GPU);
                (void)unload(h, "bochs");
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 42);
        assert_string_equal(driver_of(h, AUDIO), "");
        assert_string_equal(driver_of(h, GPU), "");
        assert_true(exists(h, "sys/module/bochs"));
        /* a model made now reads the tree as the dead process left it */
        kmodel_free(h->m);
        assert_int_equal(kmodel_new(h->sr, &h->m), 0);
        assert_int_equal(unload(h, "bochs"), 0);
        assert_int_equal(load(h, "bochs"), 0);
        assert_string_equal(driver_of(h, GPU), ""); /* its native driver is unknown now */
        assert_int_equal(kmodel_set_native_driver(h->m, GPU, "bochs-drm"), 0);
        assert_int_equal(w(h, "sys/bus/pci/drivers_probe", GPU), 0);
        assert_string_equal(driver_of(h, GPU), "bochs-drm");
        host_free(h);
}

/* ---- every fixture: take everything apart, put it back, the tree is as before ---- */

static int compare_names(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* The sorted entries of a directory. */
static void list_of(struct host *h, const char *dir, char names[][64], size_t *n, size_t max)
{
        DIR *d;
        struct dirent *de;

        *n = 0;
        assert_int_equal(sysroot_opendir(h->sr, dir, &d), 0);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        assert_true(*n < max && strlen(de->d_name) < 64);
                        memcpy(names[(*n)++], de->d_name, strlen(de->d_name) + 1);
                }
        closedir(d);
        qsort(names, *n, 64, compare_names);
}

static void round_trip(const char *file)
{
        static char devs[512][64], mods[256][64], unloaded[256][64];
        size_t n_devs, n_mods, n_unloaded = 0;
        struct host *h = host_build(NULL, file);
        char *before = snap(h), path[160];
        bool progress = true;

        list_of(h, "sys/bus/pci/devices", devs, &n_devs, 512);
        for (size_t i = 0; i < n_devs; i++) {
                char drv[64];

                snprintf(drv, sizeof(drv), "%s", driver_of(h, devs[i]));
                if (!drv[0])
                        continue;
                snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", drv);
                assert_int_equal(w(h, path, devs[i]), 0);
                assert_string_equal(driver_of(h, devs[i]), "");
        }
        /* unload what can go, holders first, as often as something goes */
        list_of(h, "sys/module", mods, &n_mods, 256);
        while (progress) {
                progress = false;
                for (size_t i = 0; i < n_mods; i++) {
                        snprintf(path, sizeof(path), "sys/module/%s/initstate", mods[i]);
                        if (exists(h, path) && unload(h, mods[i]) == 0) {
                                snprintf(unloaded[n_unloaded++], 64, "%s", mods[i]);
                                progress = true;
                        }
                }
        }
        if (getenv("KMODEL_VERBOSE"))
                fprintf(stderr, "# %s: %zu devices, %zu of %zu modules unloaded\n", file, n_devs, n_unloaded,
                        n_mods);
        for (size_t i = n_unloaded; i > 0; i--)
                assert_int_equal(load(h, unloaded[i - 1]), 0);
        for (size_t i = 0; i < n_devs; i++)
                assert_int_equal(w(h, "sys/bus/pci/drivers_probe", devs[i]), 0);
        assert_same_tree(before, h);
        free(before);
        host_free(h);
}

static void test_fixture_round_trips(void **state)
{
        static const char *const files[] = {
            "single-nvidia.host", "igpu-nvidia.host",  "dual-amd-switch.host", "rx7900xtx.host",
            "rtx5090.host",       "shared-group.host", "rtx2080ti.host",       "vtd-off.host",
            "virt-off.host",      "server-4gpu.host",
        };
        char path[512];

        if (!hosts_dir)
                skip();
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", hosts_dir, files[i]);
                round_trip(path);
        }
        /* broken entries everywhere: the model still reads the tree */
        snprintf(path, sizeof(path), "%s/bad-sysfs.host", hosts_dir);
        host_free(host_build(NULL, path));
}

/* ---- snapshots ---- */

static void test_snapshot(void **state)
{
        char dir[256], path[300];
        const char *tmp = getenv("TMPDIR");
        const char *exclude[] = {"run/gpu-handoff/*", "skip", NULL};
        char *a, *b, *d;
        int fd;

        snprintf(dir, sizeof(dir), "%s/test-kmodel.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
#define P(x) (snprintf(path, sizeof(path), "%s/%s", dir, x), path)
        assert_int_equal(mkdir(P("run"), 0755), 0);
        assert_int_equal(mkdir(P("run/gpu-handoff"), 0700), 0);
        assert_int_equal(mkdir(P("skip"), 0755), 0);
        assert_int_equal(mkdir(P("skip/inner"), 0755), 0);
        assert_int_equal(mkdir(P("sys"), 0755), 0);
        fd = open(P("run/gpu-handoff/journal"), O_WRONLY | O_CREAT, 0600);
        assert_true(fd >= 0);
        close(fd);
        fd = open(P("sys/a b"), O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "0x10de\n\\", 8), 8);
        close(fd);
        assert_int_equal(fchmodat(AT_FDCWD, path, 0444, 0), 0);
        assert_int_equal(symlink("../x", P("sys/link")), 0);

        a = tree_snapshot(dir, exclude);
        assert_non_null(a);
        assert_string_equal(a, "d run 0755\n"
                               "d run/gpu-handoff 0700\n"
                               "d sys 0755\n"
                               "f sys/a\\x20b 0444 0x10de\\x0a\\x5c\n"
                               "l sys/link -> ../x\n");

        assert_int_equal(unlink(P("sys/link")), 0);
        assert_int_equal(symlink("../y", P("sys/link")), 0);
        assert_int_equal(mkdir(P("sys/new"), 0755), 0);
        b = tree_snapshot(dir, exclude);
        assert_non_null(b);
        d = snapshot_diff(a, b);
        assert_string_equal(d, "-l sys/link -> ../x\n"
                               "+l sys/link -> ../y\n"
                               "+d sys/new 0755\n");
        free(d);
        d = snapshot_diff(b, b);
        assert_string_equal(d, "");
        free(d);
        d = snapshot_diff("", "d x 0755\n");
        assert_string_equal(d, "+d x 0755\n");
        free(d);
        free(a);
        free(b);
        assert_null(tree_snapshot(P("no-such-dir"), NULL));
        tree_remove(dir);
#undef P
}

int main(int argc, char *argv[])
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_testbed_cycle, free_live_hosts),
            cmocka_unit_test_teardown(test_nvidia_cycle, free_live_hosts),
            cmocka_unit_test_teardown(test_unload_refused, free_live_hosts),
            cmocka_unit_test_teardown(test_bind_rules, free_live_hosts),
            cmocka_unit_test_teardown(test_probe_honours_override, free_live_hosts),
            cmocka_unit_test_teardown(test_vfio_without_group, free_live_hosts),
            cmocka_unit_test_teardown(test_held_device, free_live_hosts),
            cmocka_unit_test_teardown(test_remove_rescan_reset, free_live_hosts),
            cmocka_unit_test_teardown(test_new_id, free_live_hosts),
            cmocka_unit_test_teardown(test_plain_attributes, free_live_hosts),
            cmocka_unit_test_teardown(test_refuses_real_root, free_live_hosts),
            cmocka_unit_test_teardown(test_sparse_fixture, free_live_hosts),
            cmocka_unit_test_teardown(test_fail_injection, free_live_hosts),
            cmocka_unit_test_teardown(test_on_op, free_live_hosts),
            cmocka_unit_test_teardown(test_killed_at_op, free_live_hosts),
            cmocka_unit_test_teardown(test_fixture_round_trips, free_live_hosts),
            cmocka_unit_test_teardown(test_snapshot, free_live_hosts),
            cmocka_unit_test_teardown(test_room_hugepages, free_live_hosts),
            cmocka_unit_test_teardown(test_room_cpusets, free_live_hosts),
            cmocka_unit_test_teardown(test_room_stopped_process, free_live_hosts),
        };
        hosts_dir = argc > 1 ? argv[1] : NULL;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
