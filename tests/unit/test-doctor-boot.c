/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for doctor's boot lint (src/doctor/boot.c) where the golden fake hosts cannot reach: a
 * parameter the module does not have needs the module's modinfo, and fakehost's .ko stubs are
 * empty. Here the stub of a module is replaced by a small ELF file with a .modinfo section, which
 * libkmod reads as it reads a real module. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>

#include <cmocka.h>

#include "doctor/boot.h"
#include "doctor/doctor.h"
#include "host/modules.h"
#include "testtree.h"

/* Writes an ELF64 relocatable file whose .modinfo holds the NUL-separated strings of modinfo
 * (given with '\n' between them), as modpost leaves them in a .ko. */
static void write_ko(struct test_host *m, const char *rel, const char *modinfo)
{
        static const char shstrtab[] = "\0.modinfo\0.shstrtab";
        size_t info_len = strlen(modinfo) + 1, off_info = sizeof(Elf64_Ehdr), off_str = off_info + info_len,
               off_sh = (off_str + sizeof(shstrtab) + 7) & ~(size_t)7;
        Elf64_Ehdr eh = {
                .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT},
                .e_type = ET_REL,
                .e_machine = EM_X86_64,
                .e_version = EV_CURRENT,
                .e_shoff = off_sh,
                .e_ehsize = sizeof(Elf64_Ehdr),
                .e_shentsize = sizeof(Elf64_Shdr),
                .e_shnum = 3,
                .e_shstrndx = 2,
        };
        Elf64_Shdr sh[3] = {
                {0},
                {.sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_offset = off_info,
                 .sh_size = info_len, .sh_addralign = 1},
                {.sh_name = 10, .sh_type = SHT_STRTAB, .sh_offset = off_str, .sh_size = sizeof(shstrtab),
                 .sh_addralign = 1},
        };
        char path[512], *info = strdup(modinfo);
        static const char zeros[8];
        FILE *f;

        assert_non_null(info);
        for (char *p = info; *p; p++)
                if (*p == '\n')
                        *p = '\0';
        snprintf(path, sizeof(path), "%s/%s", m->tree->dir, rel);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(&eh, sizeof(eh), 1, f), 1);
        assert_int_equal(fwrite(info, info_len, 1, f), 1);
        assert_int_equal(fwrite(shstrtab, sizeof(shstrtab), 1, f), 1);
        assert_int_equal(fwrite(zeros, off_sh - off_str - sizeof(shstrtab), 1, f) <= 1, 1);
        assert_int_equal(fwrite(sh, sizeof(sh), 1, f), 1);
        assert_int_equal(fclose(f), 0);
        free(info);
}

#define KERNEL "6.1.0-28-amd64"
#define MODDIR "lib/modules/" KERNEL "/"

/* vfio_pci as Debian builds it: no CONFIG_VFIO_PCI_VGA, so no disable_vga; ids has permission
 * 0 (never in sysfs); disable_idle_d3 is 0644 and shows in sysfs. kvm with its real pair. */
#define VFIO_PCI_MODINFO                                                                                     \
        "license=GPL v2\n"                                                                                   \
        "parm=ids:Initial PCI IDs to add to the vfio driver\n"                                               \
        "parmtype=ids:string\n"                                                                              \
        "parm=nointxmask:Disable support for PCI 2.3 style INTx masking.\n"                                  \
        "parmtype=nointxmask:bool\n"                                                                         \
        "parmtype=disable_idle_d3:bool\n"                                                                    \
        "parmtype=enable_sriov:bool\n"                                                                       \
        "parmtype=disable_denylist:bool\n"                                                                   \
        "name=vfio_pci"
#define KVM_MODINFO "parmtype=ignore_msrs:bool\nparmtype=report_ignored_msrs:bool\nname=kvm"

static struct test_host *machine(const char *cmdline, const char *modprobe_conf)
{
        char description[2048];
        struct test_host *m;

        snprintf(description, sizeof(description),
                 "cpu intel vmx\nkvm\niommu intel enabled\nkernel " KERNEL "\ncmdline %s\n"
                 "module kvm loaded path=kernel/arch/x86/kvm/kvm.ko\n"
                 "module vfio_pci loaded path=kernel/drivers/vfio/pci/vfio-pci.ko param.disable_idle_d3=N\n"
                 "module nvidia available\n"
                 "pci 0000:01:00.0 10de:2206 class=0x030000 group=1 driver=vfio-pci boot_vga=1\n"
                 "pci 0000:02:00.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=0\n"
                 "file etc/modprobe.d/vfio.conf %s\n",
                 cmdline, modprobe_conf);
        m = test_host_new("test-doctor-boot", description);
        write_ko(m, MODDIR "kernel/arch/x86/kvm/kvm.ko", KVM_MODINFO);
        write_ko(m, MODDIR "kernel/drivers/vfio/pci/vfio-pci.ko", VFIO_PCI_MODINFO);
        return m;
}

static struct doctor_report *lint(struct test_host *m)
{
        struct doctor_report *r = calloc(1, sizeof(*r));

        assert_non_null(r);
        assert_int_equal(boot_doctor(m->h, r), 0);
        return r;
}

static size_t count(const struct doctor_report *r, const char *id)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n_findings; i++)
                n += strcmp(r->findings[i].id, id) == 0;
        return n;
}

static const struct finding *must_find(const struct doctor_report *r, const char *id)
{
        for (size_t i = 0; i < r->n_findings; i++)
                if (strcmp(r->findings[i].id, id) == 0)
                        return &r->findings[i];
        fail_msg("no finding %s", id);
        abort(); /* not reached */
}

/* The parameter list comes from modinfo, with the permission-0 ones sysfs never shows. */
static void test_module_parameters(void **state)
{
        struct test_host *m = machine("root=/dev/sda1", "");
        struct module_index *mi = NULL;
        char **params = NULL;

        assert_int_equal(module_index_open(m->h->sr, KERNEL, &mi), 0);
        assert_int_equal(module_parameters(mi, "vfio-pci", &params), 1);
        assert_string_equal(params[0], "disable_denylist");
        assert_string_equal(params[1], "disable_idle_d3");
        assert_string_equal(params[2], "enable_sriov");
        assert_string_equal(params[3], "ids");
        assert_string_equal(params[4], "nointxmask");
        assert_null(params[5]);
        strv_free_null(params);
        params = NULL;
        /* An empty stub has no modinfo, a module that is not there none either: unknown. */
        assert_int_equal(module_parameters(mi, "nvidia", &params), 0);
        assert_int_equal(module_parameters(mi, "no_such_module", &params), 0);
        assert_null(params);
        module_index_free(mi);
        test_host_free(m);
}

static void test_options_unknown_parameter(void **state)
{
        struct test_host *m = machine("root=/dev/sda1",
                                      "options vfio-pci ids=10de:2206 disable_vga=1 disable-idle-d3=1\\n"
                                      "options kvm ignore_msrs=1 report_ignored_msrs=0 ignore_msr=1\\n"
                                      "options nvidia NVreg_Whatever=1");
        struct doctor_report *r = lint(m);
        const struct finding *f = must_find(r, "module-param-unknown");

        /* disable_vga and kvm's misspelt ignore_msr; not ids (hidden from sysfs), not the
         * dashed disable-idle-d3, not nvidia's (no modinfo: nothing can be said). */
        assert_int_equal(count(r, "module-param-unknown"), 2);
        assert_int_equal(r->n_findings, 2);
        assert_int_equal(f->severity, SEVERITY_WARNING);
        assert_string_equal(f->message, "/etc/modprobe.d/vfio.conf line 1: vfio-pci has no parameter \"disable_vga\", "
                                        "so the kernel ignores it (\"unknown parameter 'disable_vga' ignored\").");
        assert_string_equal(f->fix, "Remove disable_vga=1 from that line (modinfo -p vfio-pci lists the parameters "
                                    "vfio-pci has).");
        assert_non_null(strstr(r->findings[1].message, "line 2: kvm has no parameter \"ignore_msr\""));
        doctor_report_free(r);
        test_host_free(m);
}

static void test_cmdline_unknown_parameter(void **state)
{
        struct test_host *m = machine("root=/dev/sda1 vfio_pci.disable_vga=1 vfio-pci.disable_idle_d3=1 "
                                      "kvm.ignore_msrs=1 rd.lvm.lv=vg/root iommu.strict=1",
                                      "");
        struct doctor_report *r = lint(m);
        const struct finding *f = must_find(r, "module-param-unknown");

        assert_int_equal(r->n_findings, 1);
        assert_string_equal(f->message, "The kernel command line has vfio_pci.disable_vga=1, but this kernel's "
                                        "vfio_pci has no parameter \"disable_vga\": the kernel ignores it.");
        assert_string_equal(f->fix, "Remove vfio_pci.disable_vga=1 from the kernel command line.");
        doctor_report_free(r);
        test_host_free(m);
}

/* The dotted form names the module it belongs to, whatever that module has. */
static void test_dotted_parameter(void **state)
{
        struct test_host *m = machine("root=/dev/sda1", "options vfio_pci ids=10de:2206 kvm.ignore_msrs=1");
        struct doctor_report *r = lint(m);
        const struct finding *f = must_find(r, "modprobe-param-dotted");

        assert_int_equal(r->n_findings, 1);
        assert_string_equal(f->fix, "Write \"options kvm ignore_msrs=1\" on a line of its own (or "
                                    "kvm.ignore_msrs=1 on the kernel command line).");
        doctor_report_free(r);
        test_host_free(m);
}

/* ids= that match the host's own card: the iGPU here (8086:3e98) drives the display. */
static void test_ids_take_the_display(void **state)
{
        struct test_host *m = machine("root=/dev/sda1 vfio-pci.ids=8086:3e98:ffffffff:ffffffff", "");
        struct doctor_report *r = lint(m);
        const struct finding *f = must_find(r, "vfio-ids-host-device");

        assert_int_equal(r->n_findings, 1);
        assert_int_equal(f->severity, SEVERITY_ERROR);
        assert_string_equal(f->subject, "0000:02:00.0");
        assert_non_null(strstr(f->message, "(the host's display)"));
        assert_non_null(strstr(f->fix, "gpu-handoff setup --vfio ADDRESS"));
        doctor_report_free(r);
        test_host_free(m);

        /* A subsystem that no device has matches nothing: stale, not the host's. */
        m = machine("root=/dev/sda1 vfio-pci.ids=8086:3e98:1043:8694", "");
        r = lint(m);
        assert_int_equal(r->n_findings, 1);
        must_find(r, "vfio-config-stale");
        doctor_report_free(r);
        test_host_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_module_parameters),
                cmocka_unit_test(test_options_unknown_parameter),
                cmocka_unit_test(test_cmdline_unknown_parameter),
                cmocka_unit_test(test_dotted_parameter),
                cmocka_unit_test(test_ids_take_the_display),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
