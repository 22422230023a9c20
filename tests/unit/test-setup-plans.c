/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host setup over every distribution's boot setup in tests/fixtures/hosts/setup-*.host: the plan
 * setup makes there (or its refusal), the plan applied with the commands recorded, planned again
 * (nothing: setup twice changes nothing the second time), and undone (the tree byte for byte as
 * before). The plans' exact text is in the golden tests (tests/golden/cases, "setup-"). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "change/engine.h"
#include "fake-commands.h"
#include "faults.h"
#include "setup/plan.h"
#include "setup/setup.h"
#include "snapshot.h"
#include "testtree.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#else
static inline void __lsan_disable(void)
{
}
static inline void __lsan_enable(void)
{
}
#endif

struct plan_case {
        const char *fixture;
        const char *vfio; /* --vfio, or NULL */
        bool boot_gpu_ok; /* --yes */
        const char
            *refused; /* a part of the refusal (or of the error), or NULL: a plan that changes something */
};

static const struct plan_case cases[] = {
    {"setup-debian12-grub", NULL, false, NULL},
    {"setup-debian12-grub", "01:00.0", false, NULL},
    {"setup-debian12-sdboot-dracut", "2d:00.0", false, NULL},
    {"setup-ubuntu-cloud", "21:00.0", false, NULL},
    {"setup-fedora-grubby", "2d:00.0", false, NULL},
    {"setup-arch-sdboot-mkinitcpio", "2d:00.0", false, NULL},
    {"setup-arch-grub-booster", NULL, false, NULL},
    {"setup-endeavouros-sdboot-dracut", "2d:00.0", false, NULL},
    {"setup-popos-kernelstub", "01:00.0", false, NULL},
    {"setup-silverblue", "2d:00.0", false, NULL},
    {"setup-proxmox-zfs", "21:00.0", false, NULL},
    {"setup-uki", "01:00.0", false, NULL},
    {"setup-refind", "2d:00.0", false, NULL},
    {"setup-limine", "01:00.0", false, NULL},
    {"setup-twin-gpu", "2d:00.0", false, NULL},
    {"setup-amd-shared-audio", "2f:00.0", false, NULL},
    {"setup-single-gpu", "01:00.0", false, "boot"},
    {"setup-single-gpu", "01:00.0", true, NULL},
    {"setup-ambiguous", NULL, false, "--bootloader"},
};

static const char *const not_state[] = {"var/lib/gpu-handoff", NULL};

static char *description(const char *fixture)
{
        char path[512];
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.host", getenv("GPU_HANDOFF_HOSTS"), fixture);
        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s", path);
        assert_int_equal(getdelim(&text, &len, '\0', f) > 0, 1);
        fclose(f);
        return text;
}

static int plan(struct test_host *m, const struct plan_case *c, struct setup_plan *p, char **error)
{
        char *vfio[] = {(char *)c->vfio, NULL};
        struct setup_request req = {.vfio = c->vfio ? vfio : NULL, .boot_gpu_ok = c->boot_gpu_ok};

        *p = (struct setup_plan){0};
        return setup_plan_make(m->tree->sr, m->h, &req, p, error);
}

/* The checks read what the generators write; the recorded commands write nothing. */
static void drop_checks(struct setup_plan *p)
{
        for (size_t i = 0; i < p->n_checks; i++)
                setup_check_done(&p->checks[i]);
        p->n_checks = 0;
}

static void run_case(const struct plan_case *c)
{
        _cleanup_free_ char *text = description(c->fixture), *error = NULL, *before = NULL, *after = NULL;
        struct test_host *m = test_host_new(c->fixture, text);
        struct setup_plan p, again;
        int r = plan(m, c, &p, &error);

        if (r < 0 && c->refused && error && strstr(error, c->refused)) { /* ambiguous evidence, ... */
                test_host_free(m);
                return;
        }
        if (r < 0)
                fail_msg("%s: setup_plan_make: %d (%s)", c->fixture, r, error ?: "");
        if (c->refused) {
                if (!p.refused || !strstr(p.refused, c->refused))
                        fail_msg("%s: expected a refusal with \"%s\", got %s", c->fixture, c->refused,
                                 p.refused ?: "a plan");
                assert_int_equal(p.n_files, 0);
                assert_int_equal(p.n_commands, 0);
                setup_plan_done(&p);
                test_host_free(m);
                return;
        }
        if (p.refused)
                fail_msg("%s: refused: %s", c->fixture, p.refused);
        if (!setup_plan_changes(&p))
                fail_msg("%s: the plan changes nothing", c->fixture);
        test_tree_mkdir(m->tree, "var/lib"); /* every real host has it; the journal goes below it */
        before = tree_snapshot(m->tree->dir, not_state);
        assert_non_null(before);

        /* applied, as the steps do it */
        struct fake_commands *f = fake_commands_new();
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        drop_checks(&p);
        r = setup_apply(m->tree->sr, &f->commands, &p, &run, &steps, &n, &error);
        if (r < 0)
                fail_msg("%s: apply: %s", c->fixture, error ?: "");
        engine_run_free(run);
        steps_free(steps, n);
        for (size_t i = 0; i < p.n_files; i++) {
                _cleanup_free_ char *now = NULL;
                int rr = sysroot_read_file(m->tree->sr, p.files[i].path, 1 << 20, &now, NULL);
                if (p.files[i].action == SETUP_FILE_REMOVE)
                        assert_int_equal(rr, -ENOENT);
                else if (rr < 0 || strcmp(now, p.files[i].after) != 0)
                        fail_msg("%s: %s is not what the plan said", c->fixture, p.files[i].path);
        }

        /* setup twice: nothing the second time (a tool's command line, grubby's or kernelstub's,
         * is its own: the recording seam did not change it, so its command is planned again) */
        r = plan(m, c, &again, &error);
        assert_int_equal(r, 0);
        if (again.refused || again.n_files)
                fail_msg("%s: a second setup would change %s", c->fixture,
                         again.refused ?: again.files[0].path);
        for (size_t i = 0; i < again.n_commands; i++) {
                _cleanup_free_ char *second = strv_join(again.commands[i].argv, " ");
                bool same = false;
                for (size_t k = 0; k < p.n_commands && !same; k++) {
                        _cleanup_free_ char *first = strv_join(p.commands[k].argv, " ");
                        same = p.commands[k].kind == SETUP_COMMAND_TOOL && strcmp(first, second) == 0;
                }
                if (again.commands[i].kind == SETUP_COMMAND_TOOL && !same)
                        fail_msg("%s: a second setup would run %s, which the first did not", c->fixture,
                                 second);
        }
        setup_plan_done(&again);

        /* undone: as before, byte for byte */
        r = setup_undo(m->tree->sr, &f->commands, "undo", &run, &steps, &n, &error);
        if (r < 0)
                fail_msg("%s: undo: %s", c->fixture, error ?: "");
        engine_run_free(run);
        steps_free(steps, n);
        after = tree_snapshot(m->tree->dir, not_state);
        if (strcmp(before, after) != 0)
                fail_msg("%s: undo left the tree different:\n%s", c->fixture, snapshot_diff(before, after));

        fake_commands_free(f);
        setup_plan_done(&p);
        test_host_free(m);
}

/* ---- one real plan: status, drift, the three versions, failing and killed everywhere ---- */

static const struct plan_case debian = {"setup-debian12-grub", "01:00.0", false, NULL};

static struct test_host *debian_host(void)
{
        _cleanup_free_ char *text = description(debian.fixture);
        struct test_host *m = test_host_new(debian.fixture, text);

        test_tree_mkdir(m->tree, "var/lib");
        return m;
}

static int apply_debian(struct test_host *m, struct fake_commands *f)
{
        _cleanup_free_ char *error = NULL;
        struct setup_plan p;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r = plan(m, &debian, &p, &error);

        assert_int_equal(r, 0);
        drop_checks(&p);
        r = setup_apply(m->tree->sr, &f->commands, &p, &run, &steps, &n, &error);
        engine_run_free(run);
        steps_free(steps, n);
        setup_plan_done(&p);
        return r;
}

static int undo_debian(struct test_host *m, struct fake_commands *f, const char *phase)
{
        _cleanup_free_ char *error = NULL;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r = setup_undo(m->tree->sr, &f->commands, phase, &run, &steps, &n, &error);

        engine_run_free(run);
        steps_free(steps, n);
        return r;
}

static void test_status_drift_and_conflict(void **state)
{
        struct test_host *m = debian_host();
        struct fake_commands *f = fake_commands_new();
        struct setup_status st = {0};
        struct setup_conflict c = {0};
        struct setup_plan u = {0};
        _cleanup_free_ char *error = NULL;

        assert_int_equal(setup_status_read(m->tree->sr, &st, &error), 0);
        assert_int_equal(st.state, SETUP_STATE_NONE);
        setup_status_done(&st);

        assert_int_equal(apply_debian(m, f), 0);
        assert_int_equal(setup_status_read(m->tree->sr, &st, &error), 0);
        assert_int_equal(st.state, SETUP_STATE_APPLIED);
        assert_string_equal(st.args_added.v[0], "intel_iommu=on");
        assert_string_equal(st.vfio.v[0], "0000:01:00.0");
        assert_int_equal(st.files.n, 3); /* modprobe.d, the initramfs hook, the GRUB drop-in */
        assert_int_equal(st.drifted.n, 0);
        setup_status_done(&st);

        /* what undo would do: our three files removed, the generators run again */
        assert_int_equal(setup_undo_plan(m->tree->sr, &u, &error), 0);
        assert_int_equal(u.n_files, 3);
        for (size_t i = 0; i < u.n_files; i++)
                assert_int_equal(u.files[i].action, SETUP_FILE_REMOVE);
        assert_string_equal(u.commands[0].argv[0], "update-initramfs");
        assert_string_equal(u.commands[1].argv[0], "update-grub");
        assert_string_equal(u.args_remove.v[0], "intel_iommu=on");
        setup_plan_done(&u);

        /* someone edits our modprobe.d file: status says so, undo stops there and shows the versions */
        test_tree_write(m->tree, "etc/modprobe.d/gpu-handoff.conf", "options vfio-pci disable_vga=1\n");
        assert_int_equal(setup_status_read(m->tree->sr, &st, &error), 0);
        assert_int_equal(st.drifted.n, 1);
        assert_string_equal(st.drifted.v[0], "/etc/modprobe.d/gpu-handoff.conf");
        setup_status_done(&st);
        assert_int_equal(undo_debian(m, f, "undo"), -ESTALE);
        assert_int_equal(setup_conflict_read(m->tree->sr, &c, &error), 0);
        assert_string_equal(c.path, "/etc/modprobe.d/gpu-handoff.conf");
        assert_null(c.before); /* setup created it */
        assert_non_null(strstr(c.ours, "install vfio_pci"));
        assert_string_equal(c.now, "options vfio-pci disable_vga=1\n");
        setup_conflict_done(&c);
        /* the rest is still applied, and the edited file kept */
        assert_int_equal(setup_status_read(m->tree->sr, &st, &error), 0);
        assert_int_equal(st.state, SETUP_STATE_INTERRUPTED);
        setup_status_done(&st);

        fake_commands_free(f);
        test_host_free(m);
}

static unsigned count_operations(void)
{
        struct test_host *m = debian_host();
        struct fake_commands *f = fake_commands_new();
        unsigned n;

        faults_on(0, 0);
        assert_int_equal(apply_debian(m, f), 0);
        assert_int_equal(undo_debian(m, f, "undo"), 0);
        n = faults_seen();
        faults_off();
        fake_commands_free(f);
        test_host_free(m);
        return n;
}

/* Setup and its undo on a real plan, killed before every operation: what recover then does
 * leaves /etc and /boot as they were. */
static void test_kill_at_every_operation(void **state)
{
        unsigned n = count_operations();

        assert_true(n >= 20);
        for (unsigned k = 1; k <= n; k++) {
                struct test_host *volatile m = debian_host();
                struct fake_commands *volatile f = fake_commands_new();
                _cleanup_free_ char *before = tree_snapshot(m->tree->dir, not_state), *after = NULL;
                char when[64];
                int r;

                snprintf(when, sizeof(when), "killed before operation %u of %u", k, n);
                __lsan_disable();
                faults_on(0, k);
                if (setjmp(faults_killed) == 0) {
                        assert_int_equal(apply_debian(m, f), 0);
                        assert_int_equal(undo_debian(m, f, "undo"), 0);
                        fail_msg("%s: no such operation", when);
                }
                faults_off();
                __lsan_enable();
                r = undo_debian(m, f, "recover");
                if (r != 0 && r != -ENOENT)
                        fail_msg("%s: recover: %d", when, r);
                after = tree_snapshot(m->tree->dir, not_state);
                if (strcmp(before, after) != 0)
                        fail_msg("%s: the tree differs:\n%s", when, snapshot_diff(before, after));
                fake_commands_free(f);
                test_host_free(m);
        }
}

/* A refusal empties the plan, whatever the backends had added, and nothing is added after it. */
static void test_refusal_empties_the_plan(void **state)
{
        static const char *const argv[] = {"update-grub", NULL};
        static const char *const tokens[] = {"iommu=pt", NULL};
        struct setup_plan p = {.bootloader = BOOTLOADER_GRUB, .initramfs = INITRAMFS_TOOLS};

        assert_int_equal(setup_plan_add_file(&p, "/etc/x.conf", SETUP_FILE_CREATE, NULL, 0, "x\n", 2, 0644),
                         0);
        assert_int_equal(setup_plan_command(&p, SETUP_COMMAND_REGENERATE, argv, NULL), 0);
        assert_int_equal(setup_plan_check_lines(&p, "the menu", "/boot/grub/grub.cfg", "linux", tokens), 0);
        assert_int_equal(setup_plan_note(&p, "a note"), 0);
        assert_int_equal(strv_addf(&p.args_add, "iommu=pt"), 0);
        assert_true(setup_plan_changes(&p));

        assert_int_equal(setup_plan_refuse(&p, "no: %s", "why"), 0);
        assert_int_equal(setup_plan_refuse(&p, "a later reason"), 0);
        assert_string_equal(p.refused, "no: why");
        assert_int_equal(p.bootloader, BOOTLOADER_GRUB);
        assert_int_equal(p.initramfs, INITRAMFS_TOOLS);
        assert_int_equal(p.n_files + p.n_commands + p.n_checks + p.notes.n + p.args_add.n, 0);

        assert_int_equal(setup_plan_add_file(&p, "/etc/y.conf", SETUP_FILE_CREATE, NULL, 0, "y\n", 2, 0644),
                         0);
        assert_int_equal(setup_plan_command(&p, SETUP_COMMAND_REGENERATE, argv, NULL), 0);
        assert_int_equal(setup_plan_check_lines(&p, "the menu", "/boot/grub/grub.cfg", "linux", tokens), 0);
        assert_int_equal(p.n_files + p.n_commands + p.n_checks, 0);
        assert_false(setup_plan_changes(&p));
        setup_plan_done(&p);
}

/* text with the first "from" replaced by "to" (the fixture must hold it); malloc'd */
static char *replaced(const char *text, const char *from, const char *to)
{
        const char *at = strstr(text, from);
        char *out = NULL;

        if (!at)
                fail_msg("the fixture has no \"%s\"", from);
        assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
        return out;
}

static void assert_args(const struct strv *got, const char *const *want)
{
        size_t n = 0;

        for (; want[n]; n++)
                if (n >= got->n || strcmp(got->v[n], want[n]) != 0)
                        fail_msg("argument %zu: got \"%s\", want \"%s\"", n,
                                 n < got->n ? got->v[n] : "(none)", want[n]);
        assert_int_equal(got->n, n);
}

/* The firmware's ACPI table says which IOMMU there is, not the CPU: the boot suite's guest (an
 * emulated VT-d under TCG's AMD CPU model) got iommu=pt alone and its intel_iommu=off kept. */
static void test_iommu_kind_from_the_firmware(void **state)
{
        static const char *const vt_d_add[] = {"intel_iommu=on", "iommu=pt", NULL};
        static const char *const vt_d_remove[] = {"intel_iommu=off", NULL};
        static const char *const amd_vi_add[] = {"iommu=pt", NULL};
        static const char *const none[] = {NULL};
        _cleanup_free_ char *text = description("setup-debian12-grub"), *error = NULL;
        _cleanup_free_ char *amd_cpu = replaced(text, "cpu intel vmx", "cpu amd svm");
        _cleanup_free_ char *off = replaced(amd_cpu, "ro quiet\n", "ro quiet intel_iommu=off\n");
        _cleanup_free_ char *vt_d = replaced(off, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"",
                                             "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off\"");
        _cleanup_free_ char *amd_vi = replaced(text, "iommu intel enabled units=2", "iommu amd enabled");
        const struct plan_case c = {"setup-debian12-grub", NULL, false, NULL};
        struct test_host *m = test_host_new("vt-d-on-amd-cpu", vt_d);
        struct setup_plan p;

        assert_int_equal(plan(m, &c, &p, &error), 0);
        if (p.refused)
                fail_msg("refused: %s", p.refused);
        assert_args(&p.args_add, vt_d_add);
        assert_args(&p.args_remove, vt_d_remove);
        setup_plan_done(&p);
        test_host_free(m);

        m = test_host_new("amd-vi-on-intel-cpu", amd_vi);
        assert_int_equal(plan(m, &c, &p, &error), 0);
        assert_args(&p.args_add, amd_vi_add);
        assert_args(&p.args_remove, none);
        setup_plan_done(&p);
        test_host_free(m);
}

/* intel_iommu=off in /etc/kernel/cmdline (systemd-boot + kernel-install): taken out in the same
 * edit that adds intel_iommu=on, not refused as a conflict (the boot suite's sdboot disk). */
static void test_intel_iommu_off_in_kernel_cmdline(void **state)
{
        static const char *const add[] = {"intel_iommu=on", "iommu=pt", NULL};
        static const char *const remove[] = {"intel_iommu=off", NULL};
        _cleanup_free_ char *text = description("setup-debian12-sdboot-dracut"), *error = NULL;
        _cleanup_free_ char *vt_d = replaced(text, "iommu amd enabled", "iommu intel enabled units=1");
        _cleanup_free_ char *running =
            replaced(vt_d, "ro quiet systemd.machine_id", "ro quiet intel_iommu=off systemd.machine_id");
        _cleanup_free_ char *off = replaced(
            running, "file etc/kernel/cmdline root=UUID=3b1f4c2a-0d9e-4d61-9a53-6f0e2b7c1d88 ro quiet",
            "file etc/kernel/cmdline root=UUID=3b1f4c2a-0d9e-4d61-9a53-6f0e2b7c1d88 ro quiet "
            "intel_iommu=off");
        const struct plan_case c = {"setup-debian12-sdboot-dracut", NULL, false, NULL};
        struct test_host *m = test_host_new("sdboot-intel-iommu-off", off);
        struct setup_plan p;
        bool edited = false;

        assert_int_equal(plan(m, &c, &p, &error), 0);
        if (p.refused)
                fail_msg("refused: %s", p.refused);
        assert_args(&p.args_add, add);
        assert_args(&p.args_remove, remove);
        for (size_t i = 0; i < p.n_files; i++)
                if (strcmp(p.files[i].path, "/etc/kernel/cmdline") == 0) {
                        assert_non_null(strstr(p.files[i].after, "ro quiet intel_iommu=on iommu=pt"));
                        assert_null(strstr(p.files[i].after, "intel_iommu=off"));
                        edited = true;
                }
        assert_true(edited);
        setup_plan_done(&p);
        test_host_free(m);
}

static void test_every_fixture(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_refusal_empties_the_plan),
            cmocka_unit_test(test_every_fixture),
            cmocka_unit_test(test_iommu_kind_from_the_firmware),
            cmocka_unit_test(test_intel_iommu_off_in_kernel_cmdline),
            cmocka_unit_test(test_status_drift_and_conflict),
            cmocka_unit_test(test_kill_at_every_operation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
