/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "host/cpu.h"

/* "key\t: value" -> value, or NULL when line is not that key. */
static const char *field(const char *line, const char *key)
{
        size_t n = strlen(key);
        const char *p;

        if (strncmp(line, key, n) != 0)
                return NULL;
        for (p = line + n; *p == ' ' || *p == '\t'; p++)
                ;
        if (*p != ':')
                return NULL;
        p++;
        while (*p == ' ')
                p++;
        return p;
}

int cpu_info_read(const struct sysroot *sr, struct cpu_info *ret)
{
        _cleanup_free_ char *text = NULL;
        struct cpu_info c = {.virtualization = UNKNOWN};
        char *line, *save = NULL;
        int r;

        r = sysroot_read_file(sr, "proc/cpuinfo", 64 << 20, &text, NULL);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *v;
                if (field(line, "processor"))
                        c.n_cpus++;
                else if (c.vendor == CPU_VENDOR_UNKNOWN && (v = field(line, "vendor_id"))) {
                        if (strcmp(v, "GenuineIntel") == 0)
                                c.vendor = CPU_VENDOR_INTEL;
                        else if (strcmp(v, "AuthenticAMD") == 0 || strcmp(v, "HygonGenuine") == 0)
                                c.vendor = CPU_VENDOR_AMD;
                } else if (!c.model[0] && (v = field(line, "model name")))
                        snprintf(c.model, sizeof(c.model), "%s", v);
                else if (c.virtualization == UNKNOWN && (v = field(line, "flags")))
                        c.virtualization = word_in_list(v, "vmx") || word_in_list(v, "svm") ? YES : NO;
        }
        *ret = c;
        return 0;
}

const char *cpu_vendor_to_string(enum cpu_vendor v)
{
        switch (v) {
        case CPU_VENDOR_INTEL:
                return "intel";
        case CPU_VENDOR_AMD:
                return "amd";
        default:
                return "unknown";
        }
}

const char *cpu_virtualization_name(enum cpu_vendor v)
{
        switch (v) {
        case CPU_VENDOR_INTEL:
                return "Intel VT-x";
        case CPU_VENDOR_AMD:
                return "AMD-V (SVM)";
        default:
                return "hardware virtualization";
        }
}

int cpu_online_read(const struct sysroot *sr, uint64_t *set)
{
        _cleanup_free_ char *text = NULL;
        int r;

        memset(set, 0, BITMAP_WORDS(CPULIST_BITS) * sizeof(uint64_t));
        r = sysroot_read_file(sr, "sys/devices/system/cpu/online", 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        r = cpulist_parse(text, set, CPULIST_BITS);
        if (r < 0) {
                memset(set, 0, BITMAP_WORDS(CPULIST_BITS) * sizeof(uint64_t));
                return -EINVAL;
        }
        return 0;
}
