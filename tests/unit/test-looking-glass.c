/* SPDX-License-Identifier: GPL-2.0-or-later */
/* setup --looking-glass: the two size formulas against Looking Glass's published tables, the
 * resolution's parser, the qemu.conf cgroup_device_acl edit (Debian 12's real qemu.conf, a
 * user's own list, the user's edits around ours), and the plan applied and undone byte for byte
 * on a fake tree, a changed file refused by undo. */

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
#include "change/engine.h"
#include "fake-commands.h"
#include "setup/looking-glass.h"
#include "setup/qemu-conf.h"
#include "setup/setup.h"
#include "snapshot.h"
#include "testtree.h"

/* ---- sizes ---- */

static uint32_t size_of(const char *mode, enum lg_version v)
{
        struct lg_mode m;
        _cleanup_free_ char *error = NULL;

        if (lg_mode_parse(mode, &m, &error) < 0)
                fail_msg("%s: %s", mode, error ?: "");
        return lg_size_mib(&m, v);
}

static void test_size_b7(void **state)
{
        /* install_libvirt.rst at B7: 1080p/1200p 32 (HDR 64), 1440p 64 (128), 2160p 128 (256) */
        assert_int_equal(size_of("1920x1080", LG_VERSION_B7), 32);
        assert_int_equal(size_of("1920x1200", LG_VERSION_B7), 32);
        assert_int_equal(size_of("2560x1440", LG_VERSION_B7), 64);
        assert_int_equal(size_of("3840x2160", LG_VERSION_B7), 128);
        assert_int_equal(size_of("1920x1080@hdr", LG_VERSION_B7), 64);
        assert_int_equal(size_of("1920x1200@hdr", LG_VERSION_B7), 64);
        assert_int_equal(size_of("2560x1440@hdr", LG_VERSION_B7), 128);
        assert_int_equal(size_of("3840x2160@hdr", LG_VERSION_B7), 256);
}

static void test_size_current(void **state)
{
        /* master's table: 1080p 32, 1200p 32, 1440p 64, 3440x1440 64, 4K 128, 5120x1440 128,
         * 5K 256, 8K 512; HDR the same */
        assert_int_equal(size_of("1920x1080", LG_VERSION_CURRENT), 32);
        assert_int_equal(size_of("1920x1200", LG_VERSION_CURRENT), 32);
        assert_int_equal(size_of("2560x1440", LG_VERSION_CURRENT), 64);
        assert_int_equal(size_of("3440x1440", LG_VERSION_CURRENT), 64);
        assert_int_equal(size_of("3840x2160", LG_VERSION_CURRENT), 128);
        assert_int_equal(size_of("5120x1440", LG_VERSION_CURRENT), 128);
        assert_int_equal(size_of("5120x2880", LG_VERSION_CURRENT), 256);
        assert_int_equal(size_of("7680x4320", LG_VERSION_CURRENT), 512);
        assert_int_equal(size_of("3840x2160@hdr", LG_VERSION_CURRENT), 128);
        assert_int_equal(size_of("7680x4320@HDR", LG_VERSION_CURRENT), 512);
        assert_int_equal(size_of("1280x720", LG_VERSION_CURRENT), 16);
        /* the stride is rounded up to 256 bytes: 1473 x 4 = 5892 -> 6144, 16.3 MiB, not 15.8 */
        assert_int_equal(size_of("1473x700", LG_VERSION_CURRENT), 32);
        /* B7's for the same modes */
        assert_int_equal(size_of("3440x1440", LG_VERSION_B7), 64);
        assert_int_equal(size_of("5120x2880", LG_VERSION_B7), 128);
        assert_int_equal(size_of("1280x720", LG_VERSION_B7), 32);
}

static void test_mode_parse(void **state)
{
        static const char *const bad[] = {
            "", "x", "1920", "1920x", "x1080", "0x1080", "1920x0", "1920x1080@sdr", "1920x1080 ",
            "-1920x1080", "1920x1080@hdrx", "99999999999999999999x1080", "16385x1080", "1920*1080",
            "1920x1080x2",
        };
        struct lg_mode m;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *error = NULL;
                if (lg_mode_parse(bad[i], &m, &error) != -EINVAL)
                        fail_msg("\"%s\" was taken", bad[i]);
                assert_non_null(error);
                assert_null(strchr(error, '\n'));
        }
        assert_int_equal(lg_mode_parse("3840X2160@hdr", &m, NULL), 0);
        assert_int_equal(m.width, 3840);
        assert_int_equal(m.height, 2160);
        assert_true(m.hdr);
        assert_int_equal(lg_version_from_string("b7"), LG_VERSION_B7);
        assert_int_equal(lg_version_from_string("current"), LG_VERSION_CURRENT);
        assert_int_equal(lg_version_from_string("B6"), -EINVAL);
}

/* ---- qemu.conf ---- */

static char *fixture_file(const char *name)
{
        char path[512];
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/../files/%s", getenv("GPU_HANDOFF_HOSTS"), name);
        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s", path);
        assert_true(getdelim(&text, &len, '\0', f) > 0);
        fclose(f);
        return text;
}

static char *added(const char *text)
{
        char *out = NULL;
        _cleanup_free_ char *error = NULL;
        int r = qemu_conf_acl_add(text, LG_DEVICE, &out, &error);

        if (r < 0)
                fail_msg("qemu_conf_acl_add: %d %s", r, error ?: "");
        return out;
}

static void test_qemu_conf_debian_sample(void **state)
{
        _cleanup_free_ char *text = fixture_file("debian12-qemu.conf"), *out = added(text), *again = NULL;
        static const char *const want = "cgroup_device_acl = [\n"
                                        "    \"/dev/null\", \"/dev/full\", \"/dev/zero\",\n"
                                        "    \"/dev/random\", \"/dev/urandom\",\n"
                                        "    \"/dev/ptmx\", \"/dev/kvm\",\n"
                                        "    \"/dev/kvmfr0\"\n"
                                        "]\n#\n# RDMA migration";
        const char *at;

        assert_int_equal(qemu_conf_acl_has(text, LG_DEVICE), -ENOENT);
        assert_non_null(out);
        at = strstr(out, want);
        assert_non_null(at);
        /* everything before and after the sample as it was */
        const char *sample = strstr(text, "#cgroup_device_acl = [");
        assert_memory_equal(out, text, (size_t)(sample - text));
        assert_int_equal(strlen(out), strlen(text) - 5 + strlen("    \"/dev/kvmfr0\"\n") + 1);
        assert_int_equal(qemu_conf_acl_has(out, LG_DEVICE), 1);
        assert_int_equal(qemu_conf_acl_has(out, "/dev/kvm"), 1);
        /* twice: nothing */
        assert_int_equal(qemu_conf_acl_add(out, LG_DEVICE, &again, NULL), 0);
        assert_null(again);
}

static void test_qemu_conf_user_lists(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            /* the user's own list, one line */
            {"user = \"qemu\"\ncgroup_device_acl = [ \"/dev/null\", \"/dev/kvm\" ]\n# mine\n",
             "user = \"qemu\"\ncgroup_device_acl = [ \"/dev/null\", \"/dev/kvm\", \"/dev/kvmfr0\" ]\n# mine\n"},
            /* several lines with a trailing comma and a comment, tabs */
            {"cgroup_device_acl = [\n\t\"/dev/null\", # the bit bucket\n\t\"/dev/input/by-id/kbd\",\n]\n",
             "cgroup_device_acl = [\n\t\"/dev/null\", # the bit bucket\n\t\"/dev/input/by-id/kbd\",\n\t\"/dev/kvmfr0\",\n]\n"},
            /* an empty list */
            {"cgroup_device_acl=[]\n", "cgroup_device_acl=[ \"/dev/kvmfr0\" ]\n"},
            /* the active list wins over a commented one */
            {"#cgroup_device_acl = [\n#  \"/dev/null\"\n#]\ncgroup_device_acl = [ '/dev/kvm' ]\n",
             "#cgroup_device_acl = [\n#  \"/dev/null\"\n#]\ncgroup_device_acl = [ '/dev/kvm', \"/dev/kvmfr0\" ]\n"},
            /* neither: libvirt's defaults appended, with ours */
            {"user = \"qemu\"",
             "user = \"qemu\"\n\n# Looking Glass (gpu-handoff setup --looking-glass): libvirt's default devices and "
             "kvmfr\ncgroup_device_acl = [\n" QEMU_CONF_DEFAULT_ACL ",\n    \"/dev/kvmfr0\"\n]\n"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = added(cases[i].in);
                if (!out || strcmp(out, cases[i].out) != 0)
                        fail_msg("case %zu:\n%s\nwanted:\n%s", i, out ?: "(no change)", cases[i].out);
        }
        _cleanup_free_ char *none = NULL, *error = NULL;
        assert_int_equal(qemu_conf_acl_add("cgroup_device_acl = [ \"/dev/null\",\n", LG_DEVICE, &none, &error),
                         -EINVAL);
        assert_non_null(error);
        assert_int_equal(qemu_conf_acl_has("cgroup_device_acl = [ \"/dev/kvmfr0\" ]", LG_DEVICE), 1);
        assert_int_equal(qemu_conf_acl_has("cgroup_device_acl = [ \"/dev/kvmfr00\" ]", LG_DEVICE), 0);
}

/* ---- the plan on a fake tree ---- */

static const char *const not_state[] = {"var/lib/gpu-handoff", NULL};

static struct test_tree *lg_tree(const char *qemu_conf, bool apparmor)
{
        struct test_tree *t = test_tree_new("looking-glass");

        test_tree_mkdir(t, "var/lib");
        test_tree_mkdir(t, "etc/modprobe.d");
        test_tree_mkdir(t, "dev");
        if (qemu_conf)
                test_tree_write(t, "etc/libvirt/qemu.conf", qemu_conf);
        if (apparmor)
                test_tree_write(t, "etc/apparmor.d/abstractions/libvirt-qemu",
                                "  #include <local/abstractions/libvirt-qemu>\n");
        test_tree_write(t, "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
        return t;
}

static const char *sysroot_path_or_fail(struct test_tree *t, const char *rel)
{
        static char path[512];

        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        return path;
}

static int lg_plan(struct test_tree *t, const char *mode, enum lg_version v, struct setup_plan *p)
{
        struct lg_request lg = {.version = v};
        struct setup_request req = {.looking_glass = &lg};
        _cleanup_free_ char *error = NULL;

        assert_int_equal(lg_mode_parse(mode, &lg.mode, NULL), 0);
        *p = (struct setup_plan){0};
        int r = setup_plan_make(t->sr, NULL, &req, p, &error);
        if (r < 0)
                fail_msg("setup_plan_make: %s", error ?: "");
        return r;
}

static const struct setup_file *planned(const struct setup_plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_files; i++)
                if (strcmp(p->files[i].path, path) == 0)
                        return &p->files[i];
        return NULL;
}

static int apply(struct test_tree *t, struct fake_commands *f, const struct setup_plan *p)
{
        _cleanup_free_ char *error = NULL;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r = setup_apply(t->sr, &f->commands, p, &run, &steps, &n, &error);

        engine_run_free(run);
        steps_free(steps, n);
        return r;
}

static int undo(struct test_tree *t, struct fake_commands *f)
{
        _cleanup_free_ char *error = NULL;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r = setup_undo(t->sr, &f->commands, "undo", &run, &steps, &n, &error);

        engine_run_free(run);
        steps_free(steps, n);
        return r;
}

static void test_plan_files(void **state)
{
        _cleanup_free_ char *conf = fixture_file("debian12-qemu.conf");
        struct test_tree *t = lg_tree(conf, true);
        struct setup_plan p;
        const struct setup_file *f;

        assert_int_equal(lg_plan(t, "3440x1440", LG_VERSION_B7, &p), 0);
        assert_null(p.refused);
        assert_int_equal(p.args_add.n, 0); /* alone: no kernel argument, no bootloader */
        assert_int_equal(p.n_commands, 0);
        assert_int_equal(p.bootloader, BOOTLOADER_NONE);
        assert_int_equal(p.n_files, 5);
        f = planned(&p, LG_MODPROBE_PATH);
        assert_non_null(f);
        assert_non_null(strstr(f->after, "\noptions kvmfr static_size_mb=64\n"));
        f = planned(&p, LG_MODULES_LOAD_PATH);
        assert_non_null(f);
        assert_non_null(strstr(f->after, "\nkvmfr\n"));
        f = planned(&p, LG_UDEV_RULES_PATH);
        assert_non_null(f);
        assert_true(strcmp("70-kvmfr.rules", "73-seat-late.rules") < 0);
        assert_non_null(strstr(f->after, "\n" LG_UDEV_RULE "\n"));
        f = planned(&p, LG_APPARMOR_PATH);
        assert_non_null(f);
        assert_int_equal(f->action, SETUP_FILE_CREATE);
        assert_string_equal(f->after, LG_APPARMOR_RULE "\n");
        f = planned(&p, QEMU_CONF_PATH);
        assert_non_null(f);
        assert_int_equal(qemu_conf_acl_has(f->after, LG_DEVICE), 1);
        /* both sizes said: 64 on B7... and the IDD host's */
        bool both = false;
        for (size_t i = 0; i < p.notes.n; i++)
                both |= strstr(p.notes.v[i], "a host after B7") != NULL;
        assert_false(both); /* 3440x1440 is 64 on either */
        setup_plan_done(&p);

        assert_int_equal(lg_plan(t, "3840x2160@hdr", LG_VERSION_CURRENT, &p), 0);
        for (size_t i = 0; i < p.notes.n; i++)
                both |= strstr(p.notes.v[i], "a B7 host needs 256 MiB") != NULL;
        assert_true(both);
        setup_plan_done(&p);

        /* an abstraction without the local include: said */
        test_tree_write(t, "etc/apparmor.d/abstractions/libvirt-qemu", "  /dev/kvm rw,\n");
        assert_int_equal(lg_plan(t, "1920x1080", LG_VERSION_CURRENT, &p), 0);
        both = false;
        for (size_t i = 0; i < p.notes.n; i++)
                both |= strstr(p.notes.v[i], "does not include /etc/apparmor.d/local") != NULL;
        assert_true(both);
        setup_plan_done(&p);
        test_tree_free(t);

        /* no AppArmor, no libvirt: three files, and a note */
        t = lg_tree(NULL, false);
        assert_int_equal(lg_plan(t, "1920x1080", LG_VERSION_CURRENT, &p), 0);
        assert_int_equal(p.n_files, 3);
        assert_null(planned(&p, LG_APPARMOR_PATH));
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_kvmfr_installed(void **state)
{
        struct test_tree *t = lg_tree(NULL, false);

        assert_int_equal(looking_glass_kvmfr_installed(t->sr, "6.1.0-28-amd64"), 0);
        assert_int_equal(looking_glass_kvmfr_installed(t->sr, NULL), -ENOENT);
        test_tree_write(t, "lib/modules/6.1.0-28-amd64/updates/dkms/kvmfr.ko.xz", "");
        assert_int_equal(looking_glass_kvmfr_installed(t->sr, "6.1.0-28-amd64"), 1);
        assert_int_equal(looking_glass_kvmfr_installed(t->sr, "6.1.0-27-amd64"), 0);
        test_tree_write(t, "lib/modules/6.1.0-27-amd64/modules.dep", "extra/kvmfr.ko: \n");
        assert_int_equal(looking_glass_kvmfr_installed(t->sr, "6.1.0-27-amd64"), 1);
        test_tree_free(t);
}

/* The user's qemu.conf with their own list, and their edits around ours while it is applied:
 * undo puts back exactly what was there before; a file changed since is not overwritten. */
static void test_apply_undo_exact(void **state)
{
        static const char *const conf = "# my qemu.conf\nuser = \"qemu\"\n"
                                        "cgroup_device_acl = [\n    \"/dev/null\", \"/dev/kvm\",\n"
                                        "    \"/dev/input/by-id/usb-kbd-event-kbd\"\n]\nsecurity_driver = \"none\"\n";
        struct test_tree *t = lg_tree(conf, true);
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *before = NULL, *after = NULL, *now = NULL, *error = NULL;
        struct setup_plan p;
        struct setup_status st = {0};

        test_tree_write(t, "etc/apparmor.d/local/abstractions/libvirt-qemu", "# mine\n/dev/input/* r,");
        before = tree_snapshot(t->dir, not_state);
        assert_int_equal(lg_plan(t, "2560x1440", LG_VERSION_CURRENT, &p), 0);
        assert_int_equal(apply(t, f, &p), 0);
        setup_plan_done(&p);
        assert_int_equal(sysroot_read_file(t->sr, "etc/libvirt/qemu.conf", 1 << 20, &now, NULL), 0);
        assert_string_equal(now, "# my qemu.conf\nuser = \"qemu\"\n"
                                 "cgroup_device_acl = [\n    \"/dev/null\", \"/dev/kvm\",\n"
                                 "    \"/dev/input/by-id/usb-kbd-event-kbd\",\n    \"/dev/kvmfr0\"\n]\n"
                                 "security_driver = \"none\"\n");
        free(now);
        now = NULL;
        assert_int_equal(sysroot_read_file(t->sr, LG_APPARMOR_PATH + 1, 1 << 20, &now, NULL), 0);
        assert_string_equal(now, "# mine\n/dev/input/* r,\n/dev/kvmfr0 rw,\n");

        /* status lists the files; setup again plans nothing */
        assert_int_equal(setup_status_read(t->sr, &st, &error), 0);
        assert_int_equal(st.state, SETUP_STATE_APPLIED);
        assert_int_equal(st.files.n, 5);
        assert_int_equal(st.drifted.n, 0);
        assert_false(st.iommu_off);
        setup_status_done(&st);
        assert_int_equal(lg_plan(t, "2560x1440", LG_VERSION_CURRENT, &p), 0);
        assert_false(setup_plan_changes(&p));
        setup_plan_done(&p);
        struct lg_setup_state lg;
        looking_glass_state_read(t->sr, &lg);
        assert_int_equal(lg.size_mib, 64);
        assert_int_equal(lg.mode.width, 2560);
        assert_int_equal(lg.version, LG_VERSION_CURRENT);
        assert_int_equal(looking_glass_device_state(t->sr, LG_DEVICE), LG_DEVICE_MISSING);
        test_tree_write(t, "dev/kvmfr0", "");
        assert_int_equal(looking_glass_device_state(t->sr, LG_DEVICE), LG_DEVICE_FILE);
        assert_string_equal(lg_device_state_to_string(LG_DEVICE_FILE), "file");
        assert_int_equal(unlink(sysroot_path_or_fail(t, "dev/kvmfr0")), 0);

        assert_int_equal(undo(t, f), 0);
        after = tree_snapshot(t->dir, not_state);
        if (strcmp(before, after) != 0)
                fail_msg("undo left the tree different:\n%s", snapshot_diff(before, after));

        /* drift: the user edits qemu.conf after setup; undo stops there and keeps their file */
        assert_int_equal(lg_plan(t, "2560x1440", LG_VERSION_CURRENT, &p), 0);
        assert_int_equal(apply(t, f, &p), 0);
        setup_plan_done(&p);
        free(now);
        now = NULL;
        assert_int_equal(sysroot_read_file(t->sr, "etc/libvirt/qemu.conf", 1 << 20, &now, NULL), 0);
        _cleanup_free_ char *edited = NULL;
        assert_true(asprintf(&edited, "%s# the user's own line\n", now) > 0);
        test_tree_write(t, "etc/libvirt/qemu.conf", edited);
        assert_int_equal(setup_status_read(t->sr, &st, &error), 0);
        assert_int_equal(st.drifted.n, 1);
        assert_string_equal(st.drifted.v[0], QEMU_CONF_PATH);
        setup_status_done(&st);
        assert_int_equal(undo(t, f), -ESTALE);
        free(now);
        now = NULL;
        assert_int_equal(sysroot_read_file(t->sr, "etc/libvirt/qemu.conf", 1 << 20, &now, NULL), 0);
        assert_string_equal(now, edited);

        fake_commands_free(f);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_size_b7),
            cmocka_unit_test(test_size_current),
            cmocka_unit_test(test_mode_parse),
            cmocka_unit_test(test_qemu_conf_debian_sample),
            cmocka_unit_test(test_qemu_conf_user_lists),
            cmocka_unit_test(test_plan_files),
            cmocka_unit_test(test_kvmfr_installed),
            cmocka_unit_test(test_apply_undo_exact),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
