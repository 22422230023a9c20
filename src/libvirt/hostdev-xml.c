/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "libvirt/hostdev-xml.h"

#define ROM_PATH_MAX 4095

/* The next UTF-8 character of s as a code point; 0 for a malformed, overlong or surrogate
 * sequence (a NUL never reaches here). *len gets its length in bytes. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
        uint32_t c = s[0], min;
        size_t n;

        if (c < 0x80) {
                *len = 1;
                return c;
        }
        if ((c & 0xe0) == 0xc0) {
                n = 2;
                c &= 0x1f;
                min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
                n = 3;
                c &= 0x0f;
                min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
                n = 4;
                c &= 0x07;
                min = 0x10000;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *len = n;
        return c;
}

const char *hostdev_rom_problem(const char *path, bool proxmox)
{
        const unsigned char *p = (const unsigned char *)path;
        bool elsewhere;

        if (!path || path[0] != '/')
                return "must be absolute (/usr/share/vgabios/gpu.rom)";
        if (strlen(path) > ROM_PATH_MAX)
                return "is too long";
        while (*p) {
                size_t len;
                uint32_t c = utf8_next(p, &len);
                if (c == 0)
                        return "is not valid UTF-8";
                /* C0 and C1 controls: XML cannot carry most, and terminals obey them. */
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfffe || c == 0xffff)
                        return "must not contain control characters";
                if (c == '\'' || c == '"' || c == '<' || c == '>')
                        return "must not contain quotes or angle brackets";
                if (proxmox && (c == ',' || c == ';'))
                        return "must not contain ',' or ';' for Proxmox (they separate its options)";
                p += len;
        }
        if (!hostdev_proxmox_romfile(path, &elsewhere))
                return "must end in a file name, not '/'";
        return NULL;
}

const char *hostdev_proxmox_romfile(const char *path, bool *ret_elsewhere)
{
        const char *name;

        if (!path || !*path || path[strlen(path) - 1] == '/')
                return NULL;
        name = path + strlen(HOSTDEV_PROXMOX_ROM_DIR);
        if (strncmp(path, HOSTDEV_PROXMOX_ROM_DIR, strlen(HOSTDEV_PROXMOX_ROM_DIR)) == 0 && !strchr(name, '/')) {
                *ret_elsewhere = false;
                return name;
        }
        *ret_elsewhere = true;
        return strrchr(path, '/') + 1;
}

/* For an attribute in single quotes; quotes are refused before, escaped anyway. */
static void put_escaped(FILE *f, const char *s)
{
        for (; *s; s++)
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '\'':
                        fputs("&apos;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

static int check_spec(const struct hostdev_spec *s, bool proxmox)
{
        if (s->n_functions == 0 || s->n_functions > HOSTDEV_MAX_FUNCTIONS)
                return -EINVAL;
        if (!proxmox && s->guest_bus == 0)
                return -EINVAL; /* bus 0 slot 0 is the host bridge */
        if (s->rom && hostdev_rom_problem(s->rom, proxmox))
                return -EINVAL;
        return 0;
}

/* Closes the stream and hands its text on. */
static int finish(FILE *f, char **buf, char **ret)
{
        bool failed = ferror(f);

        if (fclose(f) != 0 || failed || !*buf) {
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        *ret = TAKE_PTR(*buf);
        return 0;
}

/* The leading comment. It must never hold two hyphens in a row: XML forbids that in comments. */
static void put_comment(FILE *f, const struct hostdev_spec *s)
{
        char addr[PCI_ADDR_STRLEN];
        size_t n = s->n_functions - 1;
        const char *them = n ? "these functions" : "the GPU";

        fprintf(f, "<!-- gpu-handoff xml: GPU %s", pci_addr_format(&s->host[0], addr));
        if (n == 0)
                fputs(", function 0x0 of a guest slot.\n", f);
        else if (n == 1)
                fputs(" and its companion function,\n     functions 0x0 and 0x1 of one guest slot.\n", f);
        else
                fprintf(f, " and its %zu companion functions,\n     functions 0x0 to 0x%zx of one guest slot.\n", n, n);
        fputs("     Paste under <devices> (virsh edit DOMAIN), then check:\n", f);
        fprintf(f, "     - Bus 0x%02x: on q35 each guest bus is a pcie-root-port controller, bus 0x%02x being\n"
                   "       <controller type='pci' model='pcie-root-port' index='%u'/>. The domain needs one\n"
                   "       with that index (add it if there is none), and no other device may have an address\n"
                   "       with bus='0x%02x'; else choose a free bus with the guest-bus option.\n",
                s->guest_bus, s->guest_bus, s->guest_bus, s->guest_bus);
        if (s->managed)
                fprintf(f, "     - managed='yes': libvirt binds %s to vfio-pci when the VM starts and gives\n"
                           "       %s back when it stops; the gpu-handoff hook only frees the GPU from the host's\n"
                           "       desktop (display manager, consoles, framebuffer).\n",
                        them, n ? "them" : "it");
        else
                fprintf(f, "     - managed='no': the gpu-handoff hook binds %s to vfio-pci before the VM starts\n"
                           "       and gives %s back to the host after it stops; libvirt leaves the drivers alone.\n"
                           "       Without the hook, use managed='yes'.\n",
                        them, n ? "them" : "it");
        if (s->rom)
                fputs("     - QEMU must be able to read the ROM file: AppArmor or SELinux may confine it.\n", f);
        fputs("-->\n", f);
}

static void put_address(FILE *f, const char *prefix, const struct pci_addr *a, const char *suffix)
{
        fprintf(f, "%sdomain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'%s", prefix, a->domain, a->bus,
                a->slot, a->func & 7, suffix);
}

int hostdev_format_xml(const struct hostdev_spec *s, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r = check_spec(s, false);

        if (r < 0)
                return r;
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        put_comment(f, s);
        for (size_t i = 0; i < s->n_functions; i++) {
                struct pci_addr guest = {.bus = s->guest_bus, .slot = 0, .func = (uint8_t)i};

                fprintf(f, "<hostdev mode='subsystem' type='pci' managed='%s'>\n", s->managed ? "yes" : "no");
                put_address(f, "  <source>\n    <address ", &s->host[i], "/>\n  </source>\n");
                if (i == 0 && s->rom) {
                        fputs("  <rom file='", f);
                        put_escaped(f, s->rom);
                        fputs("'/>\n", f);
                }
                /* multifunction='on' on function 0 tells the guest to look for the others. */
                put_address(f, "  <address type='pci' ", &guest,
                            i == 0 && s->n_functions > 1 ? " multifunction='on'/>\n" : "/>\n");
                fputs("</hostdev>\n", f);
        }
        if (s->nvidia_legacy)
                fputs("\n"
                      "<!-- For NVIDIA drivers before R465 (2021), which stop with Code 43 when they find a\n"
                      "     hypervisor. This part goes under <domain>, not <devices>: merge it into the\n"
                      "     domain's <features>, the vendor_id into its <hyperv> element if it has one. -->\n"
                      "<features>\n"
                      "  <hyperv>\n"
                      "    <vendor_id state='on' value='" HOSTDEV_HYPERV_VENDOR_ID "'/>\n"
                      "  </hyperv>\n"
                      "  <kvm>\n"
                      "    <hidden state='on'/>\n"
                      "  </kvm>\n"
                      "</features>\n",
                      f);
        return finish(f, &buf, ret);
}

int hostdev_format_proxmox(const struct hostdev_spec *s, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        bool elsewhere;
        FILE *f;
        int r = check_spec(s, true);

        if (r < 0)
                return r;
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        /* qemu-server's own form: lower-case hex, the slot alone for all its functions, which
         * it then places as functions 0, 1, ... of one guest slot in the order given. Options
         * sorted by name, as qm writes them. */
        fputs("hostpci0: ", f);
        if (s->whole_slot && s->host[0].func == 0)
                fprintf(f, "%04x:%02x:%02x", s->host[0].domain, s->host[0].bus, s->host[0].slot);
        else
                for (size_t i = 0; i < s->n_functions; i++)
                        fprintf(f, "%s%04x:%02x:%02x.%x", i ? ";" : "", s->host[i].domain, s->host[i].bus,
                                s->host[i].slot, s->host[i].func & 7);
        fputs(",pcie=1", f);
        if (s->rom)
                fprintf(f, ",romfile=%s", hostdev_proxmox_romfile(s->rom, &elsewhere));
        if (s->vga)
                fputs(",x-vga=1", f);
        fputc('\n', f);
        if (s->nvidia_legacy)
                fputs("cpu: host,hidden=1,hv-vendor-id=" HOSTDEV_HYPERV_VENDOR_ID "\n", f);
        return finish(f, &buf, ret);
}
