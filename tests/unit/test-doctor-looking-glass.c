/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor --vm's Looking Glass checks on fake trees, one mistake at a time: the domain's kvmfr
 * block read in both syntaxes, a size that is not a power of two, too small for the resolution
 * setup was given, larger than the kvmfr device, /dev/kvmfr0 missing or a plain file, qemu.conf's
 * list without it (or libvirt's built-in one), AppArmor's rule missing or commented, a balloon. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "doctor/doctor.h"
#include "doctor/looking-glass.h"
#include "libvirt/domain.h"
#include "testtree.h"

#define JSON_ARGS(size)                                                                                     \
        "<qemu:commandline>"                                                                                \
        "<qemu:arg value='-device'/>"                                                                       \
        "<qemu:arg value=\"{'driver':'ivshmem-plain','id':'shmem0','memdev':'looking-glass'}\"/>"            \
        "<qemu:arg value='-object'/>"                                                                       \
        "<qemu:arg value=\"{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':'/dev/kvmfr0',"  \
        "'size':" size ",'share':true}\"/></qemu:commandline>"

static struct domain *parse(const char *devices, const char *tail)
{
        char xml[4096];
        struct domain *d = NULL;
        _cleanup_free_ char *error = NULL;

        snprintf(xml, sizeof(xml),
                 "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>lg</name>"
                 "<devices>%s</devices>%s</domain>",
                 devices, tail);
        if (domain_parse(xml, strlen(xml), &d, &error) < 0)
                fail_msg("domain_parse: %s", error ?: "");
        return d;
}

/* A host set up right: kvmfr 64 MiB for 2560x1440, the list, AppArmor's rule. /dev/kvmfr0 cannot
 * be a character device in a fake tree without privileges: it is left out (a warning). */
static struct test_tree *good_tree(void)
{
        struct test_tree *t = test_tree_new("doctor-lg");

        test_tree_write(t, "etc/modprobe.d/gpu-handoff-kvmfr.conf",
                        "# gpu-handoff looking-glass 2560x1440 current\noptions kvmfr static_size_mb=64\n");
        test_tree_write(t, "etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\", \"/dev/kvmfr0\" ]\n");
        test_tree_write(t, "etc/apparmor.d/local/abstractions/libvirt-qemu", "/dev/kvmfr0 rw,\n");
        return t;
}

static struct doctor_report *check(struct test_tree *t, const struct domain *d)
{
        struct doctor_report *r = calloc(1, sizeof(*r));

        assert_non_null(r);
        assert_int_equal(doctor_check_looking_glass(t->sr, d, r), 0);
        return r;
}

static bool has(const struct doctor_report *r, const char *id)
{
        for (size_t i = 0; i < r->n_findings; i++)
                if (strcmp(r->findings[i].id, id) == 0)
                        return true;
        return false;
}

static void test_domain_kvmfr(void **state)
{
        struct domain *d = parse("<memballoon model='none'/>", JSON_ARGS("67108864"));

        assert_true(d->kvmfr);
        assert_string_equal(d->kvmfr_path, "/dev/kvmfr0");
        assert_int_equal(d->kvmfr_bytes, 64u << 20);
        assert_true(d->memballoon_none);
        domain_free(d);
        d = parse("<memballoon model='virtio'/>",
                  "<qemu:commandline><qemu:arg value='-object'/><qemu:arg "
                  "value='memory-backend-file,id=looking-glass,mem-path=/dev/kvmfr1,size=1G,share=yes'/>"
                  "</qemu:commandline>");
        assert_true(d->kvmfr);
        assert_string_equal(d->kvmfr_path, "/dev/kvmfr1");
        assert_int_equal(d->kvmfr_bytes, 1u << 30);
        assert_false(d->memballoon_none);
        domain_free(d);
        /* a commandline element without the namespace is not libvirt's and not read */
        d = parse("", "<commandline><arg value='mem-path=/dev/kvmfr0,size=64M'/></commandline>");
        assert_false(d->kvmfr);
        domain_free(d);
}

static void test_good_host(void **state)
{
        struct test_tree *t = good_tree();
        struct domain *d = parse("<memballoon model='none'/>", JSON_ARGS("67108864"));
        struct doctor_report *r = check(t, d);

        assert_true(has(r, "vm-looking-glass"));
        assert_true(has(r, "vm-looking-glass-kvmfr-missing"));
        assert_int_equal(r->n_findings, 2);
        doctor_report_free(r);
        domain_free(d);
        test_tree_free(t);
}

static void test_each_mistake(void **state)
{
        struct test_tree *t = good_tree();
        struct domain *d = parse("<memballoon model='none'/>", JSON_ARGS("50331648")); /* 48 MiB */
        struct doctor_report *r = check(t, d);

        assert_true(has(r, "vm-looking-glass-size"));
        doctor_report_free(r);
        domain_free(d);

        d = parse("<memballoon model='none'/>", JSON_ARGS("33554432")); /* 32 MiB < 64 for 1440p */
        r = check(t, d);
        assert_true(has(r, "vm-looking-glass-size"));
        assert_non_null(strstr(r->findings[0].message, "2560x1440"));
        doctor_report_free(r);
        domain_free(d);

        d = parse("<memballoon model='none'/>", JSON_ARGS("134217728")); /* 128 MiB > the device's 64 */
        r = check(t, d);
        assert_true(has(r, "vm-looking-glass-size"));
        assert_non_null(strstr(r->findings[0].message, "kvmfr makes 64"));
        doctor_report_free(r);
        domain_free(d);

        /* a balloon; /dev/kvmfr0 a plain file */
        test_tree_write(t, "dev/kvmfr0", "");
        d = parse("", JSON_ARGS("67108864"));
        r = check(t, d);
        assert_true(has(r, "vm-looking-glass-memballoon"));
        assert_true(has(r, "vm-looking-glass-kvmfr-file"));
        assert_false(has(r, "vm-looking-glass-kvmfr-missing"));
        doctor_report_free(r);

        /* qemu.conf without a list (libvirt's built-in one), AppArmor's rule commented */
        test_tree_write(t, "etc/libvirt/qemu.conf", "#cgroup_device_acl = [ \"/dev/kvmfr0\" ]\n");
        test_tree_write(t, "etc/apparmor.d/local/abstractions/libvirt-qemu", "# /dev/kvmfr0 rw,\n");
        r = check(t, d);
        assert_true(has(r, "vm-looking-glass-acl"));
        assert_true(has(r, "vm-looking-glass-apparmor"));
        doctor_report_free(r);
        domain_free(d);

        /* the shmem method: no kvmfr checks */
        d = parse("<shmem name='looking-glass'><model type='ivshmem-plain'/><size unit='M'>16</size></shmem>"
                  "<memballoon model='none'/>",
                  "");
        r = check(t, d);
        assert_true(has(r, "vm-looking-glass-size"));
        assert_false(has(r, "vm-looking-glass-acl"));
        doctor_report_free(r);
        domain_free(d);

        /* no Looking Glass: nothing */
        d = parse("", "");
        r = check(t, d);
        assert_int_equal(r->n_findings, 0);
        doctor_report_free(r);
        domain_free(d);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_domain_kvmfr),
            cmocka_unit_test(test_good_host),
            cmocka_unit_test(test_each_mistake),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
