/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "libvirt/looking-glass-xml.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "libvirt/hook-install.h"

#define JSON_FROM_QEMU 6002000ul
#define JSON_FROM_LIBVIRT 7009000ul

int lg_xml_syntax_from_string(const char *s)
{
        static const char *const names[] = {"json", "legacy", "shm"};

        for (size_t i = 0; s && i < ELEMENTSOF(names); i++)
                if (strcmp(s, names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *lg_xml_syntax_to_string(enum lg_xml_syntax s)
{
        return s == LG_XML_JSON ? "json" : s == LG_XML_LEGACY ? "legacy" : "shm";
}

/* "<version>7002000</version>" in one of libvirt's capability cache files: the newest. */
static unsigned long qemu_from_caps(const struct sysroot *sr)
{
        static const char dir[] = "var/cache/libvirt/qemu/capabilities";
        unsigned long best = 0;
        DIR *d = NULL;

        if (sysroot_opendir(sr, dir, &d) < 0)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                char path[sizeof(dir) + 1 + sizeof(de->d_name)];
                _cleanup_free_ char *text = NULL;
                const char *v;
                size_t n = strlen(de->d_name);

                if (n < 5 || strcmp(de->d_name + n - 4, ".xml") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (sysroot_read_file(sr, path, 4u << 20, &text, NULL) < 0)
                        continue;
                v = strstr(text, "<version>");
                if (v) {
                        unsigned long x = strtoul(v + strlen("<version>"), NULL, 10);
                        if (x > best && x < 100000000ul)
                                best = x;
                }
        }
        closedir(d);
        return best;
}

/* dpkg's "Version: 1:7.2+dfsg-7+deb12u6" of qemu-system-x86. */
static unsigned long qemu_from_dpkg(const struct sysroot *sr)
{
        _cleanup_free_ char *text = NULL;
        const char *p;

        if (sysroot_read_file(sr, "var/lib/dpkg/status", 64u << 20, &text, NULL) < 0)
                return 0;
        for (p = text; (p = strstr(p, "Package: qemu-system-x86")); p++) {
                const char *end = strstr(p, "\n\n"), *v = strstr(p, "\nVersion: ");
                const char *name_end = p + strlen("Package: qemu-system-x86");
                unsigned major = 0, minor = 0, micro = 0;

                if (*name_end != '\n' || !v || (end && v > end))
                        continue;
                v += strlen("\nVersion: ");
                if (strchr(v, ':') && strchr(v, ':') < strchr(v, '\n'))
                        v = strchr(v, ':') + 1;
                if (sscanf(v, "%u.%u.%u", &major, &minor, &micro) >= 2)
                        return major * 1000000ul + minor * 1000ul + micro;
        }
        return 0;
}

void lg_versions_find(const struct sysroot *sr, struct lg_versions *ret)
{
        struct libvirt_version lv;

        *ret = (struct lg_versions){0};
        ret->qemu = qemu_from_caps(sr);
        if (!ret->qemu)
                ret->qemu = qemu_from_dpkg(sr);
        if (libvirt_version_find(sr, &lv) >= 0)
                ret->libvirt = lv.major * 1000000ul + lv.minor * 1000ul + lv.micro;
}

enum lg_xml_syntax lg_xml_syntax_for(const struct lg_versions *v)
{
        if ((v->qemu && v->qemu < JSON_FROM_QEMU) || (v->libvirt && v->libvirt < JSON_FROM_LIBVIRT))
                return LG_XML_LEGACY;
        return LG_XML_JSON;
}

static void version_text(FILE *f, const char *what, unsigned long v)
{
        if (v)
                fprintf(f, "%s %lu.%lu.%lu", what, v / 1000000, v / 1000 % 1000, v % 1000);
        else
                fprintf(f, "%s (version not found)", what);
}

int lg_xml_format(enum lg_xml_syntax s, uint32_t size_mib, const struct lg_versions *v, char **ret)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        uint64_t bytes = (uint64_t)size_mib << 20;

        if (!f)
                return -ENOMEM;
        if (s == LG_XML_SHM) {
                fprintf(f,
                        "<!-- Looking Glass over /dev/shm (no kvmfr, so no DMA-BUF import on the host): %" PRIu32
                        " MiB.\n"
                        "     Paste under <devices>. Let your user read it: /etc/tmpfiles.d/10-looking-glass.conf\n"
                        "     with \"f /dev/shm/looking-glass 0660 USER kvm -\". Also <memballoon model='none'/>. -->\n"
                        "<shmem name='looking-glass'>\n"
                        "  <model type='ivshmem-plain'/>\n"
                        "  <size unit='M'>%" PRIu32 "</size>\n"
                        "</shmem>\n",
                        size_mib, size_mib);
        } else {
                fprintf(f, "<!-- Looking Glass with kvmfr: /dev/kvmfr0 of %" PRIu32 " MiB (kvmfr's static_size_mb must be "
                           "the same:\n     gpu-handoff setup --looking-glass). ",
                        size_mib);
                version_text(f, "QEMU", v->qemu);
                version_text(f, ", libvirt", v->libvirt);
                fprintf(f, ": the %s syntax.\n", s == LG_XML_JSON ? "JSON" : "legacy");
                fprintf(f, "     Add the namespace to <domain> in the same edit as the block, or libvirt rejects "
                           "it;\n"
                           "     the block goes after </devices>. Also <memballoon model='none'/> under <devices>. -->\n"
                           "<domain type='kvm' xmlns:qemu='" LG_QEMU_NAMESPACE "'>\n"
                           "<qemu:commandline>\n"
                           "  <qemu:arg value='-device'/>\n");
                if (s == LG_XML_JSON)
                        fprintf(f, "  <qemu:arg value=\"{'driver':'ivshmem-plain','id':'shmem0','memdev':'looking-glass'}\"/>\n"
                                   "  <qemu:arg value='-object'/>\n"
                                   "  <qemu:arg value=\"{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':"
                                   "'/dev/kvmfr0','size':%" PRIu64 ",'share':true}\"/>\n",
                                bytes);
                else
                        fprintf(f, "  <qemu:arg value='ivshmem-plain,id=shmem0,memdev=looking-glass'/>\n"
                                   "  <qemu:arg value='-object'/>\n"
                                   "  <qemu:arg value='memory-backend-file,id=looking-glass,mem-path=/dev/kvmfr0,size=%" PRIu32
                                   "M,share=yes'/>\n",
                                size_mib);
                fprintf(f, "</qemu:commandline>\n");
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}
