/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the attach plan (src/handoff/plan.c): the rules that decide which steps a host
 * gets, on small fake hosts described inline. The full plans are golden-tested. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testtree.h"
#include "handoff/plan.h"

static struct test_host *machine_new(const char *description)
{
        return test_host_new("test-plan", description);
}

/* The steps of one kind, as "arg0 arg1" strings joined by "; ". */
static char *steps_of(const struct plan *p, enum step_kind kind)
{
        static char buf[1024];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < p->n_steps; i++) {
                const struct step *s = &p->steps[i];
                if (s->kind != kind)
                        continue;
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s", len ? "; " : "");
                for (size_t j = 0; j < s->n_args; j++)
                        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", j ? " " : "", s->args[j]);
                if (s->skip)
                        len += (size_t)snprintf(buf + len, sizeof(buf) - len, " (skipped)");
        }
        return buf;
}

#define CONSOLE_AND_EFIFB                                                                                    \
        "file sys/class/vtconsole/vtcon1/name (M) frame buffer device\n"                                     \
        "file sys/class/vtconsole/vtcon1/bind 1\n"                                                           \
        "dir sys/devices/platform/efi-framebuffer.0\n"                                                       \
        "dir sys/bus/platform/drivers/efi-framebuffer\n"                                                     \
        "symlink sys/bus/platform/devices/efi-framebuffer.0 ../../../devices/platform/efi-framebuffer.0\n"   \
        "symlink sys/devices/platform/efi-framebuffer.0/driver ../../../bus/platform/drivers/efi-framebuffer\n"

static void test_keep_efifb_quirk(void **state)
{
        /* RX 6800 XT (Navi 21) as the only GPU: fbcon is unbound, efifb is kept. */
        struct test_host *m = machine_new("module vfio_pci available\n"
                                        "pci 0000:00:01.1 1022:1483 class=0x060400 group=1 driver=pcieport\n"
                                        "pci 0000:09:00.0 1002:73bf class=0x030000 parent=0000:00:01.1 group=1 "
                                        "boot_vga=1 driver=amdgpu\n" CONSOLE_AND_EFIFB);
        struct plan_options opts = {.yes = true};
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, &opts, &p, NULL), 0);
        assert_string_equal(steps_of(p, STEP_UNBIND_VTCON), "vtcon1");
        assert_string_equal(steps_of(p, STEP_UNBIND_FRAMEBUFFER), "efi-framebuffer.0 efi-framebuffer (skipped)");
        plan_free(p);
        test_host_free(m);
}

/* libvirt binds managed='yes' hostdevs itself: the plan frees them but does not bind them, and
 * cannot wait for their group; the others it still binds. */
static void test_caller_binds(void **state)
{
        struct test_host *m = machine_new("module vfio_pci available\n"
                                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport pcie\n"
                                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 "
                                        "boot_vga=0 driver=nvidia\n"
                                        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 "
                                        "driver=snd_hda_intel\n");
        char *managed[] = {(char *)"0000:01:00.0"};
        struct plan_options opts = {0};
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, &opts, &p, NULL), 0);
        assert_string_equal(steps_of(p, STEP_BIND_VFIO), "0000:01:00.0; 0000:01:00.1");
        assert_string_equal(steps_of(p, STEP_WAIT_VFIO_GROUP), "1");
        plan_free(p);
        opts.caller_binds = managed;
        opts.n_caller_binds = 1;
        assert_int_equal(plan_attach(m->h, NULL, 0, &opts, &p, NULL), 0);
        assert_string_equal(steps_of(p, STEP_UNBIND_DRIVER), "0000:01:00.1 snd_hda_intel; 0000:01:00.0 nvidia");
        assert_string_equal(steps_of(p, STEP_BIND_VFIO), "0000:01:00.1");
        assert_string_equal(steps_of(p, STEP_WAIT_VFIO_GROUP), "");
        plan_free(p);
        test_host_free(m);
}

static void test_secondary_gpu_leaves_console(void **state)
{
        /* The iGPU drives the console; lending the dGPU must not touch fbcon or efifb. */
        struct test_host *m = machine_new("module vfio_pci available\n"
                                        "pci 0000:00:02.0 8086:3e92 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 "
                                        "boot_vga=0 driver=nouveau\n" CONSOLE_AND_EFIFB);
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, NULL, &p, NULL), 0);
        assert_int_equal(p->n_devices, 1);
        assert_string_equal(p->devices[0]->address, "0000:01:00.0");
        assert_string_equal(steps_of(p, STEP_UNBIND_VTCON), "");
        assert_string_equal(steps_of(p, STEP_UNBIND_FRAMEBUFFER), "");
        assert_string_equal(steps_of(p, STEP_STOP_UNIT), "");
        assert_string_equal(steps_of(p, STEP_UNBIND_DRIVER), "0000:01:00.0 nouveau");
        assert_string_equal(steps_of(p, STEP_LOAD_MODULE), "vfio_pci");
        plan_free(p);
        test_host_free(m);
}

static void test_module_stack(void **state)
{
        /* nvidia's holders are unloaded first; a stack that also drives a host GPU stays. */
        const char *modules = "module vfio_pci loaded\n"
                              "module nvidia loaded holders=nvidia_modeset,nvidia_uvm\n"
                              "module nvidia_uvm loaded deps=nvidia\n"
                              "module nvidia_modeset loaded deps=nvidia holders=nvidia_drm\n"
                              "module nvidia_drm loaded deps=nvidia_modeset,nvidia\n"
                              "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                              "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 "
                              "boot_vga=0 driver=nvidia\n";
        char desc[2048];
        struct test_host *m = machine_new(modules);
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, NULL, &p, NULL), 0);
        assert_string_equal(steps_of(p, STEP_UNLOAD_MODULE), "nvidia_drm; nvidia_modeset; nvidia_uvm; nvidia");
        assert_string_equal(steps_of(p, STEP_LOAD_MODULE), ""); /* vfio_pci is loaded */
        plan_free(p);
        test_host_free(m);

        snprintf(desc, sizeof(desc), "%s%s", modules,
                 "pci 0000:00:01.1 8086:1905 class=0x060400 group=2 driver=pcieport\n"
                 "pci 0000:02:00.0 10de:1c03 class=0x030000 parent=0000:00:01.1 group=2 boot_vga=1 driver=nvidia\n");
        m = machine_new(desc);
        assert_int_equal(plan_attach(m->h, (char *[]){(char *)"01:00.0"}, 1, NULL, &p, NULL), 0);
        assert_string_equal(steps_of(p, STEP_UNLOAD_MODULE), "");
        assert_string_equal(steps_of(p, STEP_UNBIND_DRIVER), "0000:01:00.0 nvidia");
        assert_int_equal(p->notes.n, 1);
        assert_non_null(strstr(p->notes.v[0], "0000:02:00.0"));
        plan_free(p);
        test_host_free(m);
}

/* A domain may pass any number of hostdevs, and one of them twice: no fixed limit, each device
 * once in the plan. */
static void test_many_names(void **state)
{
        char description[4096] = "module vfio_pci available\n";
        char *names[40];
        char addresses[20][16];
        struct plan_options opts = {.force = true};
        struct plan *p = NULL;
        char *error = NULL;
        struct test_host *m;

        for (int i = 0; i < 20; i++) {
                size_t len = strlen(description);
                snprintf(description + len, sizeof(description) - len,
                         "pci 0000:%02x:00.0 1912:0014 class=0x0c0330 group=%d\n", i + 1, i + 1);
                snprintf(addresses[i], sizeof(addresses[i]), "%02x:00.0", i + 1);
                names[i] = names[20 + i] = addresses[i];
        }
        m = machine_new(description);
        if (plan_attach(m->h, names, 40, &opts, &p, &error) < 0)
                fail_msg("plan: %s", error);
        assert_int_equal(p->n_devices, 20);
        assert_string_equal(p->devices[19]->address, "0000:14:00.0");
        plan_free(p);
        test_host_free(m);
}

/* A step holds STEP_MAX_ARGS arguments, a lend set has no limit: every device on a host driver
 * has its holders checked and every group is waited for, however many (it was 7 addresses and
 * 64 groups, the rest silently left out). */
static void test_many_devices_all_checked(void **state)
{
        enum { N = 70 };
        char description[N * 96] = "module vfio_pci available\n";
        char *names[N];
        char addresses[N][16];
        struct plan_options opts = {.force = true};
        struct plan *p = NULL;
        char *error = NULL;
        size_t n_waits = 0;
        struct test_host *m;

        for (int i = 0; i < N; i++) {
                size_t len = strlen(description);
                snprintf(description + len, sizeof(description) - len,
                         "pci 0000:%02x:00.0 1912:0014 class=0x0c0330 group=%d driver=xhci_hcd\n", i + 1, i + 1);
                snprintf(addresses[i], sizeof(addresses[i]), "0000:%02x:00.0", i + 1);
                names[i] = addresses[i];
        }
        m = machine_new(description);
        if (plan_attach(m->h, names, N, &opts, &p, &error) < 0)
                fail_msg("plan: %s", error);
        assert_int_equal(p->n_devices, N);
        for (int i = 0; i < N; i++) {
                size_t seen = 0;
                for (size_t j = 0; j < p->n_steps; j++) {
                        const struct step *s = &p->steps[j];
                        if (s->kind != STEP_CHECK_HOLDERS)
                                continue;
                        assert_true(s->n_args >= 2 && s->n_args <= STEP_MAX_ARGS);
                        assert_string_equal(s->args[0], "refuse");
                        for (size_t k = 1; k < s->n_args; k++)
                                seen += strcmp(s->args[k], addresses[i]) == 0;
                }
                if (seen != 1)
                        fail_msg("%s is checked for holders %zu times", addresses[i], seen);
        }
        for (size_t j = 0; j < p->n_steps; j++)
                n_waits += p->steps[j].kind == STEP_WAIT_VFIO_GROUP;
        assert_int_equal(n_waits, N);
        assert_string_equal(p->steps[p->n_steps - 1].args[0], "70");
        plan_free(p);
        test_host_free(m);
}

/* The load-module step names every module the vfio_pci load brings in, so that release unloads
 * exactly those; a set beyond a step's arguments is refused, never cut. */
static void test_vfio_load_set_beyond_a_step(void **state)
{
        struct test_host *m = machine_new("module m1 available\nmodule m2 available\nmodule m3 available\n"
                                        "module m4 available\nmodule m5 available\nmodule m6 available\n"
                                        "module m7 available\nmodule m8 available\n"
                                        "module vfio_pci available deps=m1,m2,m3,m4,m5,m6,m7,m8\n"
                                        "pci 0000:01:00.0 1912:0014 class=0x0c0330 group=1\n");
        struct plan_options opts = {.force = true};
        char *names[] = {(char *)"01:00.0"};
        struct plan *p = NULL;
        char *error = NULL;

        assert_int_equal(plan_attach(m->h, names, 1, &opts, &p, &error), -E2BIG);
        assert_null(p);
        assert_string_equal(error, "loading vfio_pci brings in 9 modules; gpu-handoff can record at most 8");
        free(error);
        test_host_free(m);
}

static int add_step(struct plan *p, enum step_kind kind, ...)
{
        va_list ap;
        int r;

        va_start(ap, kind);
        r = plan_add_stepv(p, kind, NULL, ap);
        va_end(ap);
        return r;
}

/* A step takes STEP_MAX_ARGS arguments: one more is an error, never silently left out. */
static void test_step_arguments_never_cut(void **state)
{
        struct plan *p = calloc(1, sizeof(*p));

        assert_non_null(p);
        assert_int_equal(add_step(p, STEP_LOAD_MODULE, "1", "2", "3", "4", "5", "6", "7", "8", NULL), 0);
        assert_int_equal(p->steps[0].n_args, 8);
        assert_int_equal(add_step(p, STEP_LOAD_MODULE, "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL), -E2BIG);
        plan_free(p);
}

static void test_refusals_change_nothing(void **state)
{
        struct test_host *m = machine_new(
                                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 "
                                        "boot_vga=0 driver=nvidia\n");
        struct plan *p = (struct plan *)0x1;
        char *error = NULL;

        /* vfio_pci is not even available: refused with a reason, *ret untouched. */
        assert_int_equal(plan_attach(m->h, NULL, 0, NULL, &p, &error), -ENOENT);
        assert_ptr_equal(p, (struct plan *)0x1);
        assert_non_null(strstr(error, "vfio-pci is not available"));
        free(error);
        test_host_free(m);
}

/* Refused with a message holding each of the words (NULL-terminated). */
static void assert_refused(struct test_host *m, char **names, size_t n, const struct plan_options *opts, int error,
                           ...)
{
        struct plan *p = NULL;
        char *message = NULL;
        const char *word;
        va_list ap;

        assert_int_equal(plan_attach(m->h, names, n, opts, &p, &message), error);
        assert_null(p);
        assert_non_null(message);
        va_start(ap, error);
        while ((word = va_arg(ap, const char *)))
                if (!strstr(message, word))
                        fail_msg("\"%s\" not in \"%s\"", word, message);
        va_end(ap);
        free(message);
}

/* Z97: both cards behind the CPU's root ports, one group. Lending the second card's group takes
 * the card that drives the display too: consent is asked, as when it is named. */
static void test_display_gpu_in_group_needs_consent(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci available\n"
                "pci 0000:00:01.0 8086:0c01 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:00:01.1 8086:0c05 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:13c2 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=1 "
                "drm=0 connected=DP-1\n"
                "pci 0000:02:00.0 10de:1b81 class=0x030000 parent=0000:00:01.1 group=1 driver=nvidia boot_vga=0\n");
        char *names[] = {(char *)"02:00.0"};
        struct plan_options opts = {.with_group = true};
        struct plan *p = NULL;

        assert_refused(m, names, 1, &opts, -EPERM, "0000:01:00.0, which drives the host's display", "DP-1",
                       "--yes", NULL);
        opts.consent = "set SingleGPU=yes";
        assert_refused(m, names, 1, &opts, -EPERM, "set SingleGPU=yes", NULL);
        opts.yes = true;
        assert_int_equal(plan_attach(m->h, names, 1, &opts, &p, NULL), 0);
        assert_int_equal(p->n_devices, 2);
        plan_free(p);
        test_host_free(m);
}

/* The boot GPU is on vfio-pci since boot, the desktop on the other card: the default is the
 * reserved one, the desktop card needs consent, and lending the reserved one leaves fbcon be. */
static void test_boot_gpu_on_vfio(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci loaded\n"
                "pci 0000:00:03.1 1022:1483 class=0x060400 group=2 driver=pcieport\n"
                "pci 0000:00:03.2 1022:1483 class=0x060400 group=3 driver=pcieport\n"
                "pci 0000:0b:00.0 10de:2206 class=0x030000 parent=0000:00:03.1 group=20 driver=vfio-pci boot_vga=1\n"
                "pci 0000:0c:00.0 10de:1f82 class=0x030000 parent=0000:00:03.2 group=21 driver=nvidia boot_vga=0 "
                "drm=0 fbdev\n" CONSOLE_AND_EFIFB);
        char *names[] = {(char *)"0c:00.0"};
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, NULL, &p, NULL), 0);
        assert_int_equal(p->n_devices, 1);
        assert_string_equal(p->devices[0]->address, "0000:0b:00.0");
        assert_true(plan_already_lent(p));
        assert_string_equal(steps_of(p, STEP_UNBIND_VTCON), "");
        assert_string_equal(steps_of(p, STEP_STOP_UNIT), "");
        plan_free(p);
        assert_refused(m, names, 1, NULL, -EPERM, "0000:0c:00.0 drives the host's display",
                       "the text console is drawn on it", NULL);
        test_host_free(m);
}

/* What the host runs on never goes, whatever brought it into the lend set: the hook names an
 * unmanaged non-GPU hostdev with force (libvirt/lend-set.c's lend_set_names()), --with-group takes a
 * group. */
#define HOST_NVME                                                                                            \
        "module vfio_pci available\n"                                                                        \
        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"                                \
        "pci 0000:00:01.1 8086:1905 class=0x060400 group=1 driver=pcieport\n"                                \
        "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"                         \
        "pci 0000:01:00.0 10de:1f91 class=0x030200 parent=0000:00:01.0 group=1 driver=nvidia\n"              \
        "pci 0000:02:00.0 144d:a808 class=0x010802 parent=0000:00:01.1 group=1 driver=nvme\n"                \
        "file sys/devices/pci0000:00/0000:00:01.1/0000:02:00.0/nvme/nvme0/nvme0n1/dev 259:0\n"              \
        "file sys/devices/pci0000:00/0000:00:01.1/0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p2/partition 2\n"  \
        "file sys/devices/pci0000:00/0000:00:01.1/0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p2/dev 259:2\n"    \
        "symlink sys/block/nvme0n1 ../devices/pci0000:00/0000:00:01.1/0000:02:00.0/nvme/nvme0/nvme0n1\n"     \
        "file proc/self/mountinfo 21 1 259:2 / / rw - ext4 /dev/nvme0n1p2 rw\n"

static void test_host_storage_never_lent(void **state)
{
        struct test_host *m = machine_new(HOST_NVME);
        char *hook_names[] = {(char *)"0000:01:00.0", (char *)"0000:02:00.0"};
        struct plan_options hook = {.force = true, .with_group = false};
        struct plan_options group = {.with_group = true, .yes = true, .force = true};

        /* the hook: the GPU and a managed='no' hostdev that names the host's NVMe */
        assert_refused(m, hook_names, 2, &hook, -EPERM, "0000:02:00.0", "nvme0n1p2 mounted on /", "leave it out",
                       NULL);
        assert_refused(m, hook_names + 1, 1, &hook, -EPERM, "nvme0n1p2 mounted on /", NULL);
        /* --with-group: the NVMe comes with the GPU's group */
        assert_refused(m, NULL, 0, &group, -EPERM, "0000:02:00.0 (nvme0n1p2 mounted on /)",
                       "cannot go to a VM as a whole", NULL);
        test_host_free(m);
}

/* A device whose class cannot be read may be a GPU: no default is picked past it. */
static void test_default_not_past_unreadable_class(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci available\n"
                "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia raw.class=\n");

        assert_refused(m, NULL, 0, NULL, -EPERM, "class of PCI device 0000:01:00.0 cannot be read", NULL);
        test_host_free(m);
}

/* Intel Arc: the audio behind the card's second switch port comes along, with its own group. */
static void test_arc_audio_in_own_group(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci available\n"
                "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                "pci 0000:00:01.1 1022:14db class=0x060400 group=3 driver=pcieport\n"
                "pci 0000:07:00.0 8086:4fa1 class=0x060400 parent=0000:00:01.1 group=15 driver=pcieport\n"
                "pci 0000:08:01.0 8086:4fa4 class=0x060400 parent=0000:07:00.0 group=15 driver=pcieport\n"
                "pci 0000:08:04.0 8086:4fa4 class=0x060400 parent=0000:07:00.0 group=15 driver=pcieport\n"
                "pci 0000:09:00.0 8086:56a0 class=0x030000 parent=0000:08:01.0 group=16 driver=i915 boot_vga=0\n"
                "pci 0000:0a:00.0 8086:4f92 class=0x040300 parent=0000:08:04.0 group=17 driver=snd_hda_intel\n");
        struct plan *p = NULL;

        assert_int_equal(plan_attach(m->h, NULL, 0, NULL, &p, NULL), 0);
        assert_int_equal(p->n_devices, 2);
        assert_string_equal(p->devices[1]->address, "0000:0a:00.0");
        assert_string_equal(steps_of(p, STEP_WAIT_VFIO_GROUP), "16; 17");
        plan_free(p);
        test_host_free(m);
}

/* A monitor on the iGPU and one on the only discrete card: the card is still the one to lend,
 * and it needs consent (before, boot_vga=0 made it lendable without asking). */
static void test_monitor_on_both(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci available\n"
                "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1 drm=0 connected=HDMI-A-1\n"
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=0 "
                "drm=1 connected=DP-1\n");
        struct plan_options opts = {.yes = true};
        struct plan *p = NULL;

        assert_refused(m, NULL, 0, NULL, -EPERM, "0000:01:00.0 drives the host's display", "DP-1", NULL);
        assert_int_equal(plan_attach(m->h, NULL, 0, &opts, &p, NULL), 0);
        assert_string_equal(p->devices[0]->address, "0000:01:00.0");
        assert_string_equal(steps_of(p, STEP_STOP_UNIT), "display-manager.service (skipped); "
                                                         "nvidia-persistenced.service if active (skipped); "
                                                         "nvidia-powerd.service if active (skipped)");
        plan_free(p);
        test_host_free(m);
}

/* The plan says which GPU it is for: the default pick, which is not simply its first device (a
 * shared group brings another GPU along), or the first named device that is a GPU. */
static void test_records_its_gpu(void **state)
{
        struct test_host *m = machine_new(
                "module vfio_pci loaded\n"
                "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1 drm=0 connected=HDMI-A-1\n"
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=0\n"
                "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n"
                "pci 0000:00:01.1 8086:1905 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:02:00.0 10de:1b80 class=0x030000 parent=0000:00:01.1 group=1 driver=vfio-pci\n");
        struct plan_options opts = {.with_group = true, .force = true};
        struct plan *p = NULL;
        char *error = NULL;

        /* the one on vfio-pci (reserved for VMs), its group taken whole */
        if (plan_attach(m->h, NULL, 0, &opts, &p, &error) < 0)
                fail_msg("%s", error);
        assert_int_equal(p->n_devices, 3);
        assert_string_equal(p->devices[0]->address, "0000:01:00.0");
        assert_non_null(p->gpu);
        assert_string_equal(p->gpu->dev->address, "0000:02:00.0");
        plan_free(p);
        /* named: the first GPU among the names */
        assert_int_equal(plan_attach(m->h, (char *[]){(char *)"01:00.1", (char *)"01:00.0"}, 2, &opts, &p, NULL), 0);
        assert_non_null(p->gpu);
        assert_string_equal(p->gpu->dev->address, "0000:01:00.0");
        plan_free(p);
        /* none of the names is a GPU */
        assert_int_equal(plan_attach(m->h, (char *[]){(char *)"01:00.1"}, 1, &opts, &p, NULL), 0);
        assert_null(p->gpu);
        plan_free(p);
        test_host_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keep_efifb_quirk),
                cmocka_unit_test(test_caller_binds),
                cmocka_unit_test(test_secondary_gpu_leaves_console),
                cmocka_unit_test(test_module_stack),
                cmocka_unit_test(test_many_names),
                cmocka_unit_test(test_many_devices_all_checked),
                cmocka_unit_test(test_vfio_load_set_beyond_a_step),
                cmocka_unit_test(test_step_arguments_never_cut),
                cmocka_unit_test(test_refusals_change_nothing),
                cmocka_unit_test(test_display_gpu_in_group_needs_consent),
                cmocka_unit_test(test_boot_gpu_on_vfio),
                cmocka_unit_test(test_host_storage_never_lent),
                cmocka_unit_test(test_default_not_past_unreadable_class),
                cmocka_unit_test(test_arc_audio_in_own_group),
                cmocka_unit_test(test_monitor_on_both),
                cmocka_unit_test(test_records_its_gpu),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
