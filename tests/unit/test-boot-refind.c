/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the rEFInd backend (src/setup/boot-refind.c) on refind_linux.conf as mkrlconf
 * (refind 0.13.2) writes it and on hand-written ones:
 * - only the options of the FIRST non-comment line change, argument by argument; comments, the
 *   label, the spacing between the fields and every later line are kept byte for byte;
 * - `""` inside quotes is a quote: the field is edited as the kernel sees it and quoted back;
 * - no command; a note names the default line and the way back (the other lines);
 * - idempotence; arguments already present are not added; a conflict refuses; removal;
 * - refusals with the line number: an unquoted label, a missing or unterminated options field,
 *   no boot line, no file; a very long line. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot-test.h"

#define S(x) ((char *)(x))
#define CONF "/boot/refind_linux.conf"

static struct boot_facts facts(void)
{
        return (struct boot_facts){
            .cmdline = S("root=UUID=0a1b ro quiet splash"),
            .efi = true,
            .refind_conf = S(CONF),
            .refind_on_esp = true,
        };
}

static void test_first_line_only(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-refind");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "boot/refind_linux.conf",
                        "# written by mkrlconf\n\n"
                        "\"Boot with standard options\"  "
                        "\"root=UUID=0a1b ro quiet splash\"\n"
                        "\"Boot to single-user mode\"    \"root=UUID=0a1b ro quiet "
                        "splash single\"\n"
                        "\"Boot with minimal options\"   \"ro root=UUID=0a1b\"\n");
        bt_plan(boot_refind_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(
            &p, 0, CONF, SETUP_FILE_MODIFY,
            "# written by mkrlconf\n\n"
            "\"Boot with standard options\"  \"root=UUID=0a1b ro quiet splash intel_iommu=on iommu=pt\"\n"
            "\"Boot to single-user mode\"    \"root=UUID=0a1b ro quiet splash single\"\n"
            "\"Boot with minimal options\"   \"ro root=UUID=0a1b\"\n");
        assert_int_equal(p.n_commands, 0);
        assert_int_equal(p.n_checks, 0);
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on iommu=pt");
        assert_string_equal(
            bt_notes(&p),
            "rEFInd boots the first line of " CONF " (\"Boot with standard options\") by default: "
            "it gains intel_iommu=on iommu=pt; the other lines are unchanged: to boot once "
            "without the arguments, press F2 (or Insert) on the entry at the rEFInd menu and "
            "pick one of them (\"Boot with minimal options\" where refind-install wrote it)");

        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_refind_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* `""` is a quote inside the field: the kernel sees "acpi_osi=Windows 2015" as one argument. */
static void test_escaped_quotes(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-refind");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(
            t, "boot/refind_linux.conf",
            "\"Boot \"\"default\"\"\"\t\"root=/dev/sda2 \"\"acpi_osi=Windows 2015\"\" rw\"  # mine\n");
        bt_plan(boot_refind_plan, &in, &p);
        assert_null(p.refused);
        assert_file(
            &p, 0, CONF, SETUP_FILE_MODIFY,
            "\"Boot \"\"default\"\"\"\t\"root=/dev/sda2 \"\"acpi_osi=Windows 2015\"\" rw iommu=pt\"  "
            "# mine\n");
        /* one line only: the way back is the editor */
        assert_string_equal(
            bt_notes(&p),
            "rEFInd boots the first line of " CONF " (\"Boot \"default\"\") by default: it gains "
            "iommu=pt; to boot once without the arguments, press F2 (or Insert) on the entry at "
            "the rEFInd menu, then F2 again to edit its options and delete them");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_refind_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_present_conflict_remove(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-refind");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "boot/refind_linux.conf",
                        "\"Default\" \"iommu=pt root=/dev/sda2\"\n\"Other\" \"x\"\n");
        bt_plan(boot_refind_plan, &in, &p);
        assert_file(&p, 0, CONF, SETUP_FILE_MODIFY,
                       "\"Default\" \"iommu=pt root=/dev/sda2 intel_iommu=on\"\n\"Other\" \"x\"\n");
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on");
        setup_plan_done(&p);

        test_tree_write(t, "boot/refind_linux.conf",
                        "\"Default\" \"intel_iommu=on iommu=pt root=/dev/sda2\"\n");
        bt_plan(boot_refind_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);

        test_tree_write(t, "boot/refind_linux.conf", "\"Default\" \"root=/dev/sda2 iommu=nopt\"\n");
        bt_plan(boot_refind_plan, &in, &p);
        assert_string_equal(p.refused,
                            CONF ":1: iommu=pt conflicts with iommu=nopt already on the command line");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        struct setup_inputs rm = bt_inputs(t, &f, NULL, BT_ARGS("iommu=nopt"));
        bt_plan(boot_refind_plan, &rm, &p);
        assert_file(&p, 0, CONF, SETUP_FILE_MODIFY, "\"Default\" \"root=/dev/sda2\"\n");
        assert_string_equal(bt_list(&p.args_remove), "iommu=nopt");
        setup_plan_done(&p);
        test_tree_free(t);
}

static void refused_with(struct test_tree *t, const char *content, const char *why)
{
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        if (content)
                test_tree_write(t, "boot/refind_linux.conf", content);
        else
                f.refind_conf = NULL;
        bt_plan(boot_refind_plan, &in, &p);
        assert_non_null(p.refused);
        assert_string_equal(p.refused, why);
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);
}

static void test_refusals(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-refind");

        refused_with(t, "# comment\nBoot root=/dev/sda2\n",
                       CONF ":2: cannot parse the default line: it does not start with a quoted label "
                            "(\"LABEL\" \"OPTIONS\")");
        refused_with(t, "\"Label only\"\n\"Other\" \"ro\"\n",
                       CONF
                       ":1: cannot parse the default line: its options are not one quoted field (\"LABEL\" "
                       "\"OPTIONS\", \"\" for a quote inside)");
        refused_with(t, "\n\n\"Label\" \"root=/dev/sda2 rw\n",
                       CONF
                       ":3: cannot parse the default line: its options are not one quoted field (\"LABEL\" "
                       "\"OPTIONS\", \"\" for a quote inside)");
        refused_with(t, "# nothing but comments\n   \n",
                       CONF " holds no boot line (\"LABEL\" \"OPTIONS\"); add one");
        refused_with(t, NULL,
                       "no refind_linux.conf found (rEFInd reads the kernel's options from "
                       "/boot/refind_linux.conf)");
        /* an open quote inside the field (a lone escaped quote) is the kernel's problem: refused */
        refused_with(t, "\"L\" \"root=/dev/sda2 \"\"quiet\"\n",
                       CONF
                       ":1: the command line ends inside a double quote; refusing to add iommu=pt to it");
        test_tree_free(t);
}

static void test_long_line(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-refind");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;
        size_t big = 300000, n;
        char *text = malloc(big + 64), *want = malloc(big + 96);

        if (!text || !want)
                fail();
        strcpy(text, "\"L\" \"root=/dev/sda2");
        n = strlen(text);
        while (n < big) {
                memcpy(text + n, " a=\"\"b c\"\"", 10);
                n += 10;
        }
        memcpy(want, text, n);
        strcpy(want + n, " iommu=pt\"\n");
        strcpy(text + n, "\"\n");
        test_tree_write(t, "boot/refind_linux.conf", text);
        bt_plan(boot_refind_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, CONF, SETUP_FILE_MODIFY, want);
        setup_plan_done(&p);
        free(text);
        free(want);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_first_line_only),
            cmocka_unit_test(test_escaped_quotes),
            cmocka_unit_test(test_present_conflict_remove),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_long_line),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
