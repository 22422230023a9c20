/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The room a domain asks for (src/libvirt/settings.c): hugepages and the CPUs the host keeps
 * come from the domain XML unless a configuration file says otherwise. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/bitmap.h"
#include "basic/parse.h"
#include "libvirt/settings.h"

static const char pinned[] =
        "<domain type='kvm'><name>win11</name>"
        "<memory unit='GiB'>16</memory>"
        "<memoryBacking><hugepages><page size='1' unit='G' nodeset='0'/></hugepages></memoryBacking>"
        "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/>"
        "<vcpupin vcpu='2' cpuset='10-11'/><emulatorpin cpuset='0-1'/></cputune>"
        "</domain>";

static struct domain *parse(const char *xml)
{
        struct domain *d = NULL;
        char *error = NULL;

        if (domain_parse(xml, strlen(xml), &d, &error) < 0)
                fail_msg("%s", error);
        return d;
}

static struct config *config_with(const char *text)
{
        struct config *c = NULL;
        char *error = NULL;

        assert_int_equal(config_new_default(&c), 0);
        if (text && config_parse(c, text, strlen(text), "/etc/gpu-handoff/vm.d/win11.conf", NULL, NULL, &error) < 0)
                fail_msg("%s", error);
        return c;
}

/* The online CPUs list names, as cpu_online_read() gives them. */
static const uint64_t *online(const char *list)
{
        static uint64_t set[BITMAP_WORDS(CPULIST_BITS)];

        assert_int_equal(cpulist_parse(list, set, CPULIST_BITS), 0);
        return set;
}

static void test_from_domain(void **state)
{
        struct domain *d = parse(pinned);
        struct config *c = config_with(NULL);
        char *error = NULL;

        assert_int_equal(domain_settings_apply(d, online("0-15"), c, &error), 0);
        assert_int_equal(c->hugepages, UINT64_C(16) << 30);
        assert_int_equal(c->hugepage_size, UINT64_C(1) << 30);
        assert_int_equal(c->hugepage_node, 0);
        assert_string_equal(c->housekeeping, "0-1,4-9,12-15"); /* the emulator's CPUs stay the host's */
        config_free(c);

        /* without knowing the online CPUs, the pinning cannot be turned around */
        c = config_with(NULL);
        assert_int_equal(domain_settings_apply(d, NULL, c, &error), -EINVAL);
        assert_string_equal(error, "cannot tell which CPUs the host keeps besides the vCPUs' 2-3,10-11");
        free(error);
        config_free(c);
        domain_free(d);
}

static void test_files_win(void **state)
{
        struct domain *d = parse(pinned);
        struct config *c = config_with("[Memory]\nHugepages=8G\nHugepageNode=all\n[CPU]\nHousekeeping=0\n");

        assert_int_equal(domain_settings_apply(d, online("0-15"), c, NULL), 0);
        assert_int_equal(c->hugepages, UINT64_C(8) << 30);
        assert_int_equal(c->hugepage_size, UINT64_C(2) << 20);
        assert_int_equal(c->hugepage_node, -1);
        assert_string_equal(c->housekeeping, "0");
        config_free(c);
        domain_free(d);
}

static void test_every_cpu_pinned(void **state)
{
        struct domain *d = parse("<domain><name>all</name><cputune><vcpupin vcpu='0' cpuset='0-3'/></cputune></domain>");
        struct config *c = config_with(NULL);

        assert_int_equal(domain_settings_apply(d, online("0-3"), c, NULL), 0);
        assert_null(c->housekeeping); /* nothing left for the host: no isolation rather than none */
        assert_int_equal(c->hugepages, 0);
        config_free(c);
        domain_free(d);
}

static void test_odd_page_size(void **state)
{
        struct domain *d = parse("<domain><name>x</name><memory unit='MiB'>512</memory><memoryBacking><hugepages>"
                                 "<page size='64' unit='KiB'/></hugepages></memoryBacking></domain>");
        struct config *c = config_with(NULL);
        char *error = NULL;

        assert_int_equal(domain_settings_apply(d, online("0-3"), c, &error), -EINVAL);
        assert_string_equal(error, "hugepages of 64 KiB: expected 2 MiB or 1 GiB pages");
        free(error);
        config_free(c);
        domain_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_from_domain),
                cmocka_unit_test(test_files_win),
                cmocka_unit_test(test_every_cpu_pinned),
                cmocka_unit_test(test_odd_page_size),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
