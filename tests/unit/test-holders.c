/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for naming who holds a GPU's device nodes: the node list a PCI function has (DRM,
 * sound, NVIDIA), and the scan of proc/PID/fd, on small trees built by hand. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testtree.h"

#include "basic/macro.h"
#include "host/holders.h"

#define FIELDS_4_TO_21 "1 2211 2211 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0"

static void fake_process(struct test_tree *t, int pid, const char *comm, uint64_t start, const char *cgroup)
{
        char rel[64], stat[512];

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(stat, sizeof(stat), "%d (%s) S " FIELDS_4_TO_21 " %" PRIu64 " 0 0\n", pid, comm, start);
        test_tree_write(t, rel, stat);
        snprintf(rel, sizeof(rel), "proc/%d/fd", pid);
        test_tree_mkdir(t, rel);
        if (cgroup) {
                snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
                test_tree_write(t, rel, cgroup);
        }
}

static void fake_fd(struct test_tree *t, int pid, int fd, const char *target)
{
        char rel[64];

        snprintf(rel, sizeof(rel), "proc/%d/fd/%d", pid, fd);
        test_tree_link(t, target, rel);
}

static struct pci_device fake_device(const char *address, const char *driver)
{
        struct pci_device d = { .driver = (char *)driver, .iommu_group = -1 };

        assert_int_equal(pci_addr_parse(address, &d.addr), 0);
        snprintf(d.address, sizeof(d.address), "%s", address);
        return d;
}

static void expect_nodes(struct test_tree *t, const struct pci_device *d, const char *const *expected,
                         size_t n_expected)
{
        char **paths = NULL;
        size_t n = 99;

        assert_int_equal(device_nodes_of(t->sr, d, &paths, &n), 0);
        assert_non_null(paths);
        for (size_t i = 0; i < n && i < n_expected; i++)
                if (strcmp(paths[i], expected[i]) != 0)
                        fail_msg("%s: node %zu is %s, expected %s", d->address, i, paths[i], expected[i]);
        if (n != n_expected)
                fail_msg("%s: %zu nodes, expected %zu", d->address, n, n_expected);
        assert_null(paths[n]);
        device_nodes_free(paths);
}

#define GPU "sys/bus/pci/devices/0000:01:00.0"
#define AUDIO "sys/bus/pci/devices/0000:01:00.1"

static void build_sysfs(struct test_tree *t)
{
        test_tree_mkdir(t, GPU "/drm/card1/card1-HDMI-A-1");
        test_tree_mkdir(t, GPU "/drm/renderD129");
        test_tree_write(t, GPU "/drm/version", "drm 1.1.0 20060810\n");
        test_tree_mkdir(t, GPU "/drm/controlD65x"); /* not a node name */
        test_tree_mkdir(t, AUDIO "/sound/card2/controlC2");
        test_tree_mkdir(t, AUDIO "/sound/card2/pcmC2D3p");
        test_tree_mkdir(t, AUDIO "/sound/card2/pcmC2D7p");
        test_tree_mkdir(t, AUDIO "/sound/card2/hwC2D0");
        test_tree_mkdir(t, AUDIO "/sound/card2/input15");
        test_tree_mkdir(t, AUDIO "/sound/card2/power");
        test_tree_write(t, AUDIO "/sound/card2/id", "NVidia\n");
        test_tree_mkdir(t, AUDIO "/sound/card2/pcmC2D8p");
        test_tree_mkdir(t, AUDIO "/sound/card2/pcmC"); /* no digit: not a node */
        test_tree_mkdir(t, AUDIO "/sound/card2/pcmC2D9p.x"); /* nor this */
        test_tree_mkdir(t, AUDIO "/sound/cardX/pcmC5D0p"); /* not a card */
        test_tree_mkdir(t, "sys/bus/pci/devices/0000:00:02.0");
}

static struct test_tree *tree_new(void)
{
        struct test_tree *t = test_tree_new("test-holders");
        test_tree_mkdir(t, "proc");
        return t;
}

static void test_nodes_drm_and_sound(void **state)
{
        static const char *const gpu[] = { "dev/dri/card1", "dev/dri/renderD129" };
        static const char *const audio[] = { "dev/snd/controlC2", "dev/snd/hwC2D0", "dev/snd/pcmC2D3p",
                                             "dev/snd/pcmC2D7p", "dev/snd/pcmC2D8p" };
        struct test_tree *t = tree_new();
        struct pci_device d = fake_device("0000:01:00.0", "amdgpu");
        struct pci_device a = fake_device("0000:01:00.1", "snd_hda_intel");
        struct pci_device none = fake_device("0000:00:02.0", NULL);
        struct pci_device missing = fake_device("0000:09:00.0", NULL);

        build_sysfs(t);
        expect_nodes(t, &d, gpu, ELEMENTSOF(gpu));
        expect_nodes(t, &a, audio, ELEMENTSOF(audio));
        expect_nodes(t, &none, NULL, 0);
        expect_nodes(t, &missing, NULL, 0);
        test_tree_free(t);
}

static void test_nodes_nvidia(void **state)
{
        static const char *const with_minor[] = {
                "dev/dri/card1",        "dev/dri/renderD129", "dev/nvidia-modeset", "dev/nvidia-uvm",
                "dev/nvidia-uvm-tools", "dev/nvidia1",        "dev/nvidiactl",
        };
        static const char *const without_minor[] = {
                "dev/dri/card1",  "dev/dri/renderD129",   "dev/nvidia-modeset",
                "dev/nvidia-uvm", "dev/nvidia-uvm-tools", "dev/nvidiactl",
        };
        struct test_tree *t = tree_new();
        struct pci_device d = fake_device("0000:01:00.0", "nvidia");

        build_sysfs(t);
        /* no information file: the shared nodes only */
        expect_nodes(t, &d, without_minor, ELEMENTSOF(without_minor));

        test_tree_write(t, "proc/driver/nvidia/gpus/0000:01:00.0/information",
                   "Model: \t\t NVIDIA GeForce RTX 2080 Ti\n"
                   "IRQ:   \t\t 139\n"
                   "GPU UUID: \t GPU-6a1f0c3e-0000-0000-0000-000000000000\n"
                   "Video BIOS: \t 90.02.0b.00.0f\n"
                   "Bus Type: \t PCIe\n"
                   "DMA Size: \t 47 bits\n"
                   "DMA Mask: \t 0x7fffffffffff\n"
                   "Bus Location: \t 0000:01:00.0\n"
                   "Device Minor: \t 1\n"
                   "GPU Excluded:\t No\n");
        expect_nodes(t, &d, with_minor, ELEMENTSOF(with_minor));

        /* malformed minors are left out, not guessed */
        test_tree_write(t, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Device Minor: \t one\n");
        expect_nodes(t, &d, without_minor, ELEMENTSOF(without_minor));
        test_tree_write(t, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Device Minor: 255\n");
        expect_nodes(t, &d, without_minor, ELEMENTSOF(without_minor));
        test_tree_write(t, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Device Minor: 3x\n");
        expect_nodes(t, &d, without_minor, ELEMENTSOF(without_minor));
        test_tree_write(t, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Device Minor:\n");
        expect_nodes(t, &d, without_minor, ELEMENTSOF(without_minor));

        /* the same tree, another driver: no NVIDIA nodes */
        d.driver = (char *)"vfio-pci";
        expect_nodes(t, &d, with_minor, 2);
        test_tree_free(t);
}

static void build_processes(struct test_tree *t)
{
        /* created out of pid order: readdir order must not decide the result order */
        fake_process(t, 1500, "nvidia-persiste", 300, "0::/system.slice/nvidia-persistenced.service\n");
        fake_fd(t, 1500, 4, "/dev/nvidiactl");
        fake_fd(t, 1500, 5, "/dev/nvidia1");

        /* kwin holds the card twice and the render node; reported once per node */
        fake_process(t, 2211, "kwin_wayland", 4567,
                     "0::/user.slice/user-1000.slice/user@1000.service/session.slice/"
                     "plasma-kwin_wayland.service\n");
        fake_fd(t, 2211, 0, "/dev/null");
        fake_fd(t, 2211, 3, "/dev/dri/card1");
        fake_fd(t, 2211, 17, "/dev/dri/renderD129");
        fake_fd(t, 2211, 18, "/dev/dri/card1");
        fake_fd(t, 2211, 19, "socket:[12345]");
        fake_fd(t, 2211, 20, "/dev/dri/card10"); /* another card: not a prefix match */

        /* no cgroup file: no unit, still named */
        fake_process(t, 600, "pipewire", 900, NULL);
        fake_fd(t, 600, 30, "/dev/snd/controlC2");

        fake_process(t, 300, "bash", 50, "0::/user.slice/user-1000.slice/session-2.scope\n");
        fake_fd(t, 300, 0, "/dev/pts/0");

        /* gone during the scan: fds still listed, stat already gone */
        test_tree_mkdir(t, "proc/500/fd");
        fake_fd(t, 500, 3, "/dev/dri/card1");

        /* fds that cannot be read: root reads any mode, so make fd something else than a dir */
        test_tree_write(t, "proc/400/stat", "400 (Xorg) S " FIELDS_4_TO_21 " 60 0 0\n");
        test_tree_write(t, "proc/400/fd", "");

        test_tree_link(t, "2211", "proc/self");
        test_tree_mkdir(t, "proc/sys");
        test_tree_write(t, "proc/cmdline", "root=/dev/sda1\n");
}

static void test_scan(void **state)
{
        char *nodes[] = { (char *)"dev/dri/card1", (char *)"dev/dri/renderD129", (char *)"dev/nvidia1",
                          (char *)"dev/nvidiactl", (char *)"/dev/snd/controlC2" };
        struct test_tree *t = tree_new();
        struct holder *h = NULL;
        size_t n = 0, unreadable = 99;

        build_processes(t);
        assert_int_equal(holders_scan(t->sr, nodes, ELEMENTSOF(nodes), &h, &n, &unreadable), 0);
        assert_int_equal(n, 5);
        assert_int_equal(unreadable, 1);

        /* in pid order, then in the order of nodes */
        assert_int_equal(h[0].id.pid, 600);
        assert_int_equal(h[0].id.start_time, 900);
        assert_string_equal(h[0].comm, "pipewire");
        assert_null(h[0].unit);
        assert_string_equal(h[0].node, "/dev/snd/controlC2");

        assert_int_equal(h[1].id.pid, 1500);
        assert_string_equal(h[1].comm, "nvidia-persiste");
        assert_string_equal(h[1].unit, "nvidia-persistenced.service");
        assert_string_equal(h[1].node, "dev/nvidia1");
        assert_int_equal(h[2].id.pid, 1500);
        assert_string_equal(h[2].node, "dev/nvidiactl");

        assert_int_equal(h[3].id.pid, 2211);
        assert_int_equal(h[3].id.start_time, 4567);
        assert_string_equal(h[3].comm, "kwin_wayland");
        assert_string_equal(h[3].unit, "plasma-kwin_wayland.service");
        assert_string_equal(h[3].node, "dev/dri/card1");
        assert_int_equal(h[4].id.pid, 2211);
        assert_string_equal(h[4].node, "dev/dri/renderD129");
        holders_free(h, n);

        /* the same node twice (with and without '/'): still one entry per process and node */
        {
                char *twice[] = { (char *)"/dev/dri/card1", (char *)"dev/dri/card1" };
                assert_int_equal(holders_scan(t->sr, twice, 2, &h, &n, NULL), 0);
                assert_int_equal(n, 1);
                assert_int_equal(h[0].id.pid, 2211);
                assert_string_equal(h[0].node, "/dev/dri/card1");
                holders_free(h, n);
        }

        /* nobody holds it; nothing to look for */
        {
                char *other[] = { (char *)"dev/dri/card0" };
                h = (struct holder *)0x1;
                assert_int_equal(holders_scan(t->sr, other, 1, &h, &n, NULL), 0);
                assert_int_equal(n, 0);
                holders_free(h, n);
                assert_int_equal(holders_scan(t->sr, NULL, 0, &h, &n, NULL), 0);
                assert_int_equal(n, 0);
                holders_free(h, n);
        }
        test_tree_free(t);
}

/* Another user's process, as an unprivileged caller sees it. Root reads any mode, so as root
 * the scan runs in a child that has dropped to nobody; it answers with its exit status. */
static void test_scan_permission_denied(void **state)
{
        char *nodes[] = { (char *)"dev/dri/card1" };
        struct test_tree *t = tree_new();
        struct holder *h = NULL;
        size_t n = 0, unreadable = 0;
        char path[512];
        int status;
        pid_t child;

        fake_process(t, 700, "steam", 10, NULL);
        fake_fd(t, 700, 3, "/dev/dri/card1");
        fake_process(t, 701, "kwin_x11", 11, NULL);
        fake_fd(t, 701, 3, "/dev/dri/card1");
        snprintf(path, sizeof(path), "%s/proc/700/fd", t->dir);
        assert_int_equal(chmod(path, 0), 0);
        if (geteuid() != 0) {
                assert_int_equal(holders_scan(t->sr, nodes, 1, &h, &n, &unreadable), 0);
                status = (int)(n * 10 + unreadable);
                holders_free(h, n);
        } else {
                assert_int_equal(chmod(t->dir, 0755), 0);
                child = fork();
                assert_true(child >= 0);
                if (child == 0) {
                        int r;
                        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                            setresuid(65534, 65534, 65534) < 0)
                                _exit(100);
                        r = holders_scan(t->sr, nodes, 1, &h, &n, &unreadable);
                        _exit(r < 0 ? 101 : (int)((n > 9 ? 9 : n) * 10 + (unreadable > 9 ? 9 : unreadable)));
                }
                assert_int_equal(waitpid(child, &status, 0), child);
                assert_true(WIFEXITED(status));
                status = WEXITSTATUS(status);
        }
        /* one holder named (701), one process unreadable (700) */
        assert_int_equal(status, 11);
        assert_int_equal(chmod(path, 0755), 0);
        test_tree_free(t);
}

static void test_scan_no_proc(void **state)
{
        char *nodes[] = { (char *)"dev/dri/card1" };
        struct test_tree *t = tree_new();
        struct holder *h = (struct holder *)0x1;
        size_t n = 77, unreadable = 77;
        char path[512];

        snprintf(path, sizeof(path), "%s/proc", t->dir);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(holders_scan(t->sr, nodes, 1, &h, &n, &unreadable), -ENOENT);
        assert_ptr_equal(h, (struct holder *)0x1);
        assert_int_equal(n, 77);
        assert_int_equal(unreadable, 77);
        test_tree_free(t);
}

static void test_describe(void **state)
{
        struct holder h = { .id = { .pid = 2211, .start_time = 4567 }, .comm = "kwin_wayland",
                            .unit = (char *)"user@1000.service", .node = (char *)"dev/dri/card0" };
        char *s;

        s = holder_describe(&h);
        assert_string_equal(s, "pid 2211 kwin_wayland (user@1000.service) holds /dev/dri/card0");
        free(s);

        h.unit = NULL;
        h.node = (char *)"/dev/nvidiactl";
        s = holder_describe(&h);
        assert_string_equal(s, "pid 2211 kwin_wayland holds /dev/nvidiactl");
        free(s);

        /* a process names itself: no terminal escapes or line breaks reach the user */
        snprintf(h.comm, sizeof(h.comm), "\x1b[31mx\ny\x7f");
        s = holder_describe(&h);
        assert_string_equal(s, "pid 2211 ?[31mx?y? holds /dev/nvidiactl");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nodes_drm_and_sound),
                cmocka_unit_test(test_nodes_nvidia),
                cmocka_unit_test(test_scan),
                cmocka_unit_test(test_scan_permission_denied),
                cmocka_unit_test(test_scan_no_proc),
                cmocka_unit_test(test_describe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
