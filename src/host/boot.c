/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How this machine boots: the evidence (boot_facts_read) and the decisions taken from it
 * (boot_detect_*). The running boot (the command line, the loader's EFI variables) outranks the
 * files on disk, and an installed program is never evidence on its own: quickpassthrough's
 * "which grub-mkconfig" picks GRUB on every Debian that boots systemd-boot
 * (research-setup.md §1.3). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/quote.h"
#include "basic/strv.h"
#include "host/boot.h"

/* The vendor GUID of the Boot Loader Interface (systemd.io/BOOT_LOADER_INTERFACE). */
#define LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
/* Configuration files are small; a larger one is not what we are looking for. */
#define CONF_MAX (1024 * 1024)
/* dpkg's status file grows with every installed package. */
#define DPKG_STATUS_MAX (64 * 1024 * 1024)

static const char *const bootloader_names[_BOOTLOADER_MAX] = {
    [BOOTLOADER_GRUB] = "grub",
    [BOOTLOADER_GRUB_BLS] = "grub-bls",
    [BOOTLOADER_GRUBBY] = "grubby",
    [BOOTLOADER_SYSTEMD_BOOT] = "systemd-boot",
    [BOOTLOADER_UKI] = "uki",
    [BOOTLOADER_KERNELSTUB] = "kernelstub",
    [BOOTLOADER_RPM_OSTREE] = "rpm-ostree",
    [BOOTLOADER_PROXMOX] = "proxmox",
    [BOOTLOADER_REFIND] = "refind",
    [BOOTLOADER_LIMINE] = "limine",
};

static const char *const initramfs_names[_INITRAMFS_MAX] = {
    [INITRAMFS_TOOLS] = "initramfs-tools",
    [INITRAMFS_DRACUT] = "dracut",
    [INITRAMFS_MKINITCPIO] = "mkinitcpio",
    [INITRAMFS_BOOSTER] = "booster",
};

const char *bootloader_to_string(enum bootloader_id b)
{
        return b > BOOTLOADER_NONE && b < _BOOTLOADER_MAX ? bootloader_names[b] : NULL;
}

int bootloader_from_string(const char *s)
{
        for (int b = BOOTLOADER_NONE + 1; s && b < _BOOTLOADER_MAX; b++)
                if (strcmp(s, bootloader_names[b]) == 0)
                        return b;
        return -EINVAL;
}

const char *initramfs_to_string(enum initramfs_id i)
{
        return i > INITRAMFS_NONE && i < _INITRAMFS_MAX ? initramfs_names[i] : NULL;
}

int initramfs_from_string(const char *s)
{
        for (int i = INITRAMFS_NONE + 1; s && i < _INITRAMFS_MAX; i++)
                if (strcmp(s, initramfs_names[i]) == 0)
                        return i;
        return -EINVAL;
}

/* ---- reading ---- */

/* A whole text file; -ENOENT (and the other errors) leave *ret NULL for the caller to treat as
 * absent. Only -ENOMEM is worth passing on. */
static int read_text(const struct sysroot *sr, const char *path, size_t max, char **ret)
{
        char *s = NULL;
        int r;

        *ret = NULL;
        r = sysroot_read_file(sr, path, max, &s, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                *ret = s;
        return 0;
}

static bool is_dir(const struct sysroot *sr, const char *path)
{
        _cleanup_close_ int fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);

        return fd >= 0;
}

static bool is_file(const struct sysroot *sr, const char *path)
{
        _cleanup_close_ int fd = sysroot_openat(sr, path, O_PATH);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* An EFI variable as efivarfs shows it: 4 bytes of attributes, then UTF-16LE text that ends at
 * a NUL (the loader interface's strings are NUL-terminated) or at the end of the file. */
static int read_efivar_string(const struct sysroot *sr, const char *name, char **ret)
{
        _cleanup_free_ char *path = NULL, *raw = NULL, *out = NULL;
        size_t len = 0, o = 0;
        int r;

        *ret = NULL;
        if (asprintf(&path, "sys/firmware/efi/efivars/%s-" LOADER_GUID, name) < 0)
                return -ENOMEM;
        r = sysroot_read_file(sr, path, 64 * 1024, &raw, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || len < 4)
                return 0;
        out = malloc((len - 4) / 2 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 4; i + 1 < len; i += 2) {
                unsigned c = (unsigned char)raw[i] | (unsigned)(unsigned char)raw[i + 1] << 8;

                if (c == 0)
                        break;
                /* a surrogate half is not text we can show; the loader names are ASCII */
                if (c >= 0xd800 && c <= 0xdfff)
                        c = '?';
                if (c < 0x80)
                        out[o++] = (char)c;
                else if (c < 0x800) {
                        out[o++] = (char)(0xc0 | c >> 6);
                        out[o++] = (char)(0x80 | (c & 0x3f));
                } else {
                        out[o++] = (char)(0xe0 | c >> 12);
                        out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
                        out[o++] = (char)(0x80 | (c & 0x3f));
                }
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* The value of the last "KEY=VALUE" line of a shell-like file (install.conf, /etc/default/grub),
 * one level of quotes removed; NULL when there is none. Good enough for plain assignments, which
 * is all these keys ever hold; the setup backends parse what they edit properly. */
static int shell_value(const char *text, const char *key, char **ret)
{
        size_t kl = strlen(key);
        const char *found = NULL;
        size_t found_len = 0;

        *ret = NULL;
        for (const char *line = text; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line + strspn(line, " \t"), *end;

                if (strncmp(p, "export ", 7) == 0)
                        p += 7 + strspn(p + 7, " \t");
                if (strncmp(p, key, kl) != 0 || p[kl] != '=')
                        continue;
                p += kl + 1;
                end = p + strcspn(p, "\n");
                if (end > p && (*p == '"' || *p == '\'')) {
                        const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));

                        p++;
                        end = close ? close : end;
                } else {
                        const char *hash = memchr(p, '#', (size_t)(end - p));

                        end = hash ? hash : end;
                        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                }
                found = p;
                found_len = (size_t)(end - p);
        }
        if (!found)
                return 0;
        *ret = strndup(found, found_len);
        return *ret ? 0 : -ENOMEM;
}

/* Sorted names in dir ending in suffix, as absolute paths ("/efi/EFI/Linux/x.efi") when absolute
 * is set, else bare names. *ret stays NULL when there are none. */
static int list_suffix(const struct sysroot *sr, const char *dir, const char *suffix, bool absolute,
                       char ***ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct strv v = {};
        struct dirent *de;
        size_t sl = strlen(suffix);
        int r;

        *ret = NULL;
        if (sysroot_opendir(sr, dir, &d) < 0)
                return 0;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);

                if (l <= sl || de->d_name[0] == '.' || strcmp(de->d_name + l - sl, suffix) != 0)
                        continue;
                r = absolute ? strv_addf(&v, "/%s/%s", dir, de->d_name) : strv_addf(&v, "%s", de->d_name);
                if (r < 0) {
                        strv_done(&v);
                        return -ENOMEM;
                }
        }
        if (v.n == 0)
                return 0;
        qsort(v.v, v.n, sizeof(char *), strv_compare);
        *ret = strv_take(&v);
        return *ret ? 0 : -ENOMEM;
}

static int version_compare(const void *a, const void *b)
{
        return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Installed kernels: a modules directory together with an image, in /boot (Debian, Fedora's
 * grub) or inside the modules directory (Arch, Fedora's kernel-install). A modules directory
 * alone is a kernel that was removed (its DKMS leftovers), not one to boot. */
static int read_kernels(const struct sysroot *sr, char ***ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct strv v = {};
        struct dirent *de;

        *ret = NULL;
        if (sysroot_opendir(sr, "lib/modules", &d) < 0)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *boot = NULL, *inside = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&boot, "boot/vmlinuz-%s", de->d_name) < 0 ||
                    asprintf(&inside, "lib/modules/%s/vmlinuz", de->d_name) < 0)
                        goto oom;
                if (!is_file(sr, boot) && !is_file(sr, inside))
                        continue;
                if (strv_addf(&v, "%s", de->d_name) < 0)
                        goto oom;
        }
        if (v.n == 0)
                return 0;
        qsort(v.v, v.n, sizeof(char *), version_compare);
        *ret = strv_take(&v);
        return *ret ? 0 : -ENOMEM;
oom:
        strv_done(&v);
        return -ENOMEM;
}

/* Does any line of text satisfy match? */
static bool any_line(const char *text, bool (*match)(const char *line, size_t len))
{
        for (const char *line = text; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (match(line, strcspn(line, "\n")))
                        return true;
        return false;
}

static bool is_uuid_line(const char *line, size_t len)
{
        size_t skip = strspn(line, " \t");

        return skip < len && line[skip] != '#';
}

/* modules.builtin names the module's path: "kernel/drivers/vfio/pci/vfio-pci.ko". */
static bool is_vfio_pci_builtin(const char *line, size_t len)
{
        static const char name[] = "/vfio-pci.ko";

        return len >= sizeof(name) - 1 &&
               memcmp(line + len - (sizeof(name) - 1), name, sizeof(name) - 1) == 0;
}

static bool is_intel_iommu_default_on(const char *line, size_t len)
{
        static const char set[] = "CONFIG_INTEL_IOMMU_DEFAULT_ON=y";

        return len == sizeof(set) - 1 && memcmp(line, set, len) == 0;
}

static bool is_machine_id_line(const char *line, size_t len)
{
        return len > 11 && strncmp(line, "machine-id", 10) == 0 && (line[10] == ' ' || line[10] == '\t');
}

/* dpkg's status file: the installed package whose Provides names linux-initramfs-tool. Debian
 * lets only one be installed (initramfs-tools, dracut and tiny-initramfs conflict). */
static int read_dpkg_initramfs(const struct sysroot *sr, char **ret)
{
        _cleanup_free_ char *status = NULL;
        int r;

        *ret = NULL;
        r = read_text(sr, "var/lib/dpkg/status", DPKG_STATUS_MAX, &status);
        if (r < 0 || !status)
                return r;
        for (char *para = status; para && *para;) {
                char *next = strstr(para, "\n\n"), *package = NULL;
                bool installed = false, provides = false;

                if (next)
                        *next = 0;
                for (char *line = para; line && *line;) {
                        char *nl = strchr(line, '\n');

                        if (nl)
                                *nl = 0;
                        if (strncmp(line, "Package:", 8) == 0)
                                package = line + 8 + strspn(line + 8, " \t");
                        else if (strncmp(line, "Status:", 7) == 0)
                                installed = strstr(line, " install ok installed") != NULL;
                        else if (strncmp(line, "Provides:", 9) == 0)
                                for (char *p = line + 9; (p = strstr(p, "linux-initramfs-tool")); p++) {
                                        char after = p[20];

                                        /* a whole name: "linux-initramfs-tool" or "(= 1)" after it */
                                        if ((p[-1] == ' ' || p[-1] == ',' || p[-1] == ':') &&
                                            (after == 0 || after == ',' || after == ' '))
                                                provides = true;
                                }
                        line = nl ? nl + 1 : NULL;
                }
                if (package && installed && provides) {
                        *ret = strdup(package);
                        return *ret ? 0 : -ENOMEM;
                }
                para = next ? next + 2 : NULL;
        }
        return 0;
}

/* The mount point that holds the loader: the ESP or XBOOTLDR, as bootctl looks for them. */
static int find_esp(const struct sysroot *sr, char **ret)
{
        static const char *const candidates[] = {"efi", "boot/efi", "boot"};
        char path[64];

        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                snprintf(path, sizeof(path), "%s/loader", candidates[i]);
                if (is_dir(sr, path))
                        goto found;
                snprintf(path, sizeof(path), "%s/EFI", candidates[i]);
                if (is_dir(sr, path))
                        goto found;
                continue;
        found:
                if (asprintf(ret, "/%s", candidates[i]) < 0) {
                        *ret = NULL;
                        return -ENOMEM;
                }
                return 0;
        }
        return 0;
}

static int read_entries(const struct sysroot *sr, struct boot_facts *f)
{
        _cleanup_free_ char *machine_id = NULL;
        char dirs[2][64];
        size_t n = 0;
        int r;

        if (f->esp)
                snprintf(dirs[n++], sizeof(dirs[0]), "%s/loader/entries", f->esp + 1);
        if (!f->esp || strcmp(f->esp, "/boot") != 0)
                snprintf(dirs[n++], sizeof(dirs[0]), "boot/loader/entries");
        for (size_t i = 0; i < n; i++) {
                r = list_suffix(sr, dirs[i], ".conf", false, &f->entries);
                if (r < 0)
                        return r;
                if (f->entries) {
                        if (asprintf(&f->entries_dir, "/%s", dirs[i]) < 0) {
                                f->entries_dir = NULL;
                                return -ENOMEM;
                        }
                        break;
                }
        }
        if (!f->entries)
                return 0;

        r = read_text(sr, "etc/machine-id", 256, &machine_id);
        if (r < 0)
                return r;
        if (machine_id)
                machine_id[strcspn(machine_id, " \t\n")] = 0;
        for (char **e = f->entries; *e && !f->entries_by_kernel_install; e++) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t ml = machine_id ? strlen(machine_id) : 0;

                if (ml == 32 && strncmp(*e, machine_id, ml) == 0 && (*e)[ml] == '-') {
                        f->entries_by_kernel_install = true;
                        break;
                }
                if (asprintf(&path, "%s/%s", f->entries_dir + 1, *e) < 0)
                        return -ENOMEM;
                r = read_text(sr, path, CONF_MAX, &text);
                if (r < 0)
                        return r;
                f->entries_by_kernel_install = any_line(text, is_machine_id_line);
        }
        /* An entry token other than the machine-id (/etc/kernel/entry-token: "debian") names the
         * entries TOKEN-VERSION.conf, without a machine-id line. */
        _cleanup_free_ char *token = NULL;
        r = read_text(sr, "etc/kernel/entry-token", 256, &token);
        if (r < 0)
                return r;
        if (token)
                token[strcspn(token, " \t\n")] = 0;
        for (char **e = f->entries; token && *token && *e && !f->entries_by_kernel_install; e++)
                f->entries_by_kernel_install = strncmp(*e, token, strlen(token)) == 0 && (*e)[strlen(token)] == '-';
        return 0;
}

static int read_ukis(const struct sysroot *sr, struct boot_facts *f)
{
        char dir[64];

        if (!f->esp)
                return 0;
        snprintf(dir, sizeof(dir), "%s/EFI/Linux", f->esp + 1);
        return list_suffix(sr, dir, ".efi", true, &f->ukis);
}

/* Limine's search order on the partition it booted from (CONFIG.md): its own directory (on
 * distributions EFI/BOOT or EFI/limine), then /boot/limine, /boot, /limine, the top. Inside the
 * root that partition is the ESP, or the root file system on a BIOS install. Limine < 8 read
 * limine.cfg from the same places: checked after, so a new file shadows an old leftover. */
static int find_limine(const struct sysroot *sr, struct boot_facts *f)
{
        static const char *const dirs[] = {"EFI/BOOT/", "EFI/limine/", "boot/limine/",
                                           "boot/",     "limine/",     ""};
        static const char *const names[] = {"limine.conf", "limine.cfg"};
        const char *parts[] = {f->esp ? f->esp + 1 : NULL, ""};

        for (size_t n = 0; n < ELEMENTSOF(names); n++)
                for (size_t p = 0; p < ELEMENTSOF(parts); p++)
                        for (size_t d = 0; parts[p] && d < ELEMENTSOF(dirs); d++) {
                                _cleanup_free_ char *path = NULL;

                                if (asprintf(&path, "%s%s%s%s", parts[p], *parts[p] ? "/" : "", dirs[d],
                                             names[n]) < 0)
                                        return -ENOMEM;
                                if (is_file(sr, path)) {
                                        if (asprintf(&f->limine_conf, "/%s", path) < 0) {
                                                f->limine_conf = NULL;
                                                return -ENOMEM;
                                        }
                                        return 0;
                                }
                        }
        return 0;
}

static int read_install_conf(const struct sysroot *sr, struct boot_facts *f)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_text(sr, "etc/kernel/install.conf", CONF_MAX, &text);
        if (r >= 0 && !text)
                r = read_text(sr, "usr/lib/kernel/install.conf", CONF_MAX, &text);
        if (r < 0 || !text)
                return r;
        r = shell_value(text, "layout", &f->install_layout);
        if (r >= 0)
                r = shell_value(text, "initrd_generator", &f->initrd_generator);
        if (r >= 0)
                r = shell_value(text, "uki_generator", &f->uki_generator);
        return r;
}

static int read_grub(const struct sysroot *sr, struct boot_facts *f)
{
        _cleanup_free_ char *text = NULL, *bls = NULL;
        int r;

        static const char *const cfgs[] = {"boot/grub/grub.cfg", "boot/grub2/grub.cfg"};

        for (size_t i = 0; i < ELEMENTSOF(cfgs) && !f->grub_cfg; i++)
                if (is_file(sr, cfgs[i]) && asprintf(&f->grub_cfg, "/%s", cfgs[i]) < 0) {
                        f->grub_cfg = NULL;
                        return -ENOMEM;
                }
        f->grub_default_d = is_dir(sr, "etc/default/grub.d");
        f->grubby = is_file(sr, "usr/sbin/grubby") || is_file(sr, "usr/bin/grubby");
        r = read_text(sr, "etc/default/grub", CONF_MAX, &text);
        if (r < 0 || !text)
                return r;
        f->grub_default = true;
        r = shell_value(text, "GRUB_ENABLE_BLSCFG", &bls);
        if (r < 0)
                return r;
        f->grub_bls = bls && strcmp(bls, "true") == 0;
        return 0;
}

static int read_running_kernel_files(const struct sysroot *sr, struct boot_facts *f)
{
        _cleanup_free_ char *builtin_path = NULL, *config_path = NULL, *builtin = NULL, *config = NULL;
        int r;

        if (!f->running_kernel || strchr(f->running_kernel, '/'))
                return 0;
        if (asprintf(&builtin_path, "lib/modules/%s/modules.builtin", f->running_kernel) < 0 ||
            asprintf(&config_path, "boot/config-%s", f->running_kernel) < 0)
                return -ENOMEM;
        r = read_text(sr, builtin_path, 4 * CONF_MAX, &builtin);
        if (r >= 0)
                r = read_text(sr, config_path, 4 * CONF_MAX, &config);
        if (r < 0)
                return r;
        f->vfio_pci_builtin = any_line(builtin, is_vfio_pci_builtin);
        f->intel_iommu_default_on = any_line(config, is_intel_iommu_default_on);
        return 0;
}

static int read_one_line(const struct sysroot *sr, const char *path, char **ret)
{
        int r = read_text(sr, path, 64 * 1024, ret);

        if (r >= 0 && *ret) {
                size_t n = strlen(*ret);

                while (n > 0 && ((*ret)[n - 1] == '\n' || (*ret)[n - 1] == ' '))
                        (*ret)[--n] = 0;
        }
        return r;
}

static int read_all(const struct sysroot *sr, struct boot_facts *f)
{
        _cleanup_free_ char *uuids = NULL;
        int r;

        r = read_one_line(sr, "proc/cmdline", &f->cmdline);
        if (r >= 0)
                r = read_one_line(sr, "proc/sys/kernel/osrelease", &f->running_kernel);
        if (r < 0)
                return r;
        f->efi = is_dir(sr, "sys/firmware/efi");
        r = read_efivar_string(sr, "LoaderInfo", &f->loader_info);
        if (r >= 0)
                r = read_efivar_string(sr, "LoaderEntrySelected", &f->loader_entry);
        if (r < 0)
                return r;
        f->ostree_booted = sysroot_exists(sr, "run/ostree-booted");

        r = read_text(sr, "etc/kernel/proxmox-boot-uuids", CONF_MAX, &uuids);
        if (r < 0)
                return r;
        f->proxmox = any_line(uuids, is_uuid_line);
        f->kernelstub = is_file(sr, "etc/kernelstub/configuration");
        f->kernel_cmdline = is_file(sr, "etc/kernel/cmdline");
        r = read_install_conf(sr, f);
        if (r >= 0)
                r = read_grub(sr, f);
        if (r >= 0)
                r = find_esp(sr, &f->esp);
        if (r >= 0)
                r = read_entries(sr, f);
        if (r >= 0)
                r = read_ukis(sr, f);
        if (r < 0)
                return r;
        f->ukify = is_file(sr, "usr/bin/ukify") || is_file(sr, "usr/lib/systemd/ukify");
        if (is_file(sr, "boot/refind_linux.conf")) {
                f->refind_conf = strdup("/boot/refind_linux.conf");
                if (!f->refind_conf)
                        return -ENOMEM;
        }
        if (f->esp) {
                _cleanup_free_ char *refind = NULL;

                if (asprintf(&refind, "%s/EFI/refind", f->esp + 1) < 0)
                        return -ENOMEM;
                f->refind_on_esp = is_dir(sr, refind);
        }
        r = find_limine(sr, f);
        if (r < 0)
                return r;
        f->limine_entry_tool = is_file(sr, "etc/default/limine");

        r = read_dpkg_initramfs(sr, &f->dpkg_initramfs);
        if (r < 0)
                return r;
        {
                char **presets = NULL;

                r = list_suffix(sr, "etc/mkinitcpio.d", ".preset", false, &presets);
                if (r < 0)
                        return r;
                f->mkinitcpio_presets = presets != NULL;
                strv_free_null(presets);
        }
        f->booster = is_file(sr, "etc/booster.yaml") || is_file(sr, "usr/lib/booster/regenerate_images");
        f->dracut = is_file(sr, "usr/bin/dracut") || is_file(sr, "usr/sbin/dracut");

        r = read_kernels(sr, &f->kernels);
        if (r >= 0)
                r = read_running_kernel_files(sr, f);
        if (r < 0)
                return r;
        /* The ACS override patch announces itself only in the kernel log, which a read-only
         * snapshot does not read; false means "not known". */
        f->acs_override_patch = false;
        r = cpu_info_read(sr, &f->cpu);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                f->cpu = (struct cpu_info){.virtualization = UNKNOWN};
        struct iommu_platform iommu;
        (void)iommu_platform_read(sr, 0, &iommu);
        f->iommu_firmware = iommu.firmware;
        return 0;
}

int boot_facts_read(const struct sysroot *sr, struct boot_facts *ret, char **ret_error)
{
        struct boot_facts f = {};
        int r;

        r = read_all(sr, &f);
        if (r < 0) {
                boot_facts_done(&f);
                return error_setf(ret_error, r, "cannot read how %s boots: %s", sr->path, strerror(-r));
        }
        *ret = f;
        return 0;
}

void boot_facts_done(struct boot_facts *f)
{
        if (!f)
                return;
        free(f->cmdline);
        free(f->running_kernel);
        free(f->loader_info);
        free(f->loader_entry);
        free(f->install_layout);
        free(f->initrd_generator);
        free(f->uki_generator);
        free(f->grub_cfg);
        free(f->esp);
        free(f->entries_dir);
        strv_free_null(f->entries);
        strv_free_null(f->ukis);
        free(f->refind_conf);
        free(f->limine_conf);
        free(f->dpkg_initramfs);
        strv_free_null(f->kernels);
        *f = (struct boot_facts){};
}

/* ---- deciding ---- */

/* Evidence for one answer: what it is and why, for the message when it is not the only one. */
struct evidence {
        int id;
        char why[256];
};

struct evidence_set {
        struct evidence v[8];
        size_t n;
};

_printf_(3, 4) static void evidence_add(struct evidence_set *s, int id, const char *fmt, ...)
{
        va_list ap;

        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].id == id)
                        return; /* the first reason is enough */
        if (s->n >= ELEMENTSOF(s->v))
                return;
        va_start(ap, fmt);
        vsnprintf(s->v[s->n].why, sizeof(s->v[s->n].why), fmt, ap);
        va_end(ap);
        s->v[s->n++].id = id;
}

/* "found A (why) and B (why); say --OPTION a or --OPTION b" */
static int ambiguous(const struct evidence_set *s, const char *option, const char *(*name)(int),
                     char **ret_error)
{
        _cleanup_free_ char *msg = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&msg, &len);

        if (!f)
                return -ENOMEM;
        fputs("found ", f);
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "%s%s (%s)",
                        i == 0          ? ""
                        : i + 1 == s->n ? " and "
                                        : ", ",
                        name(s->v[i].id), s->v[i].why);
        fputs("; say ", f);
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "%s--%s %s", i == 0 ? "" : " or ", option, name(s->v[i].id));
        if (fclose(f) != 0)
                return -ENOMEM;
        return error_setf(ret_error, -ENOTUNIQ, "%s", msg);
}

static const char *bootloader_name(int id)
{
        return bootloader_to_string((enum bootloader_id)id);
}

static const char *initramfs_name(int id)
{
        return initramfs_to_string((enum initramfs_id)id);
}

static bool has_word(const char *text, const char *prefix)
{
        size_t pl = strlen(prefix);

        for (const char *p = text; p && *p;) {
                p += strspn(p, " \t\n");
                if (strncmp(p, prefix, pl) == 0)
                        return true;
                p += strcspn(p, " \t\n");
        }
        return false;
}

static bool starts_with(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool loader_info_is_systemd_boot(const struct boot_facts *f)
{
        return starts_with(f->loader_info, "systemd-boot");
}

/* GRUB's own family: grub-mkconfig alone, GRUB reading BLS entries, or those entries through
 * grubby (Fedora's grub2-mkconfig rewrites BLS options, grubby keeps them; §1.2). BLS needs
 * entries in /boot/loader/entries, where GRUB's blscfg reads them. */
static enum bootloader_id grub_kind(const struct boot_facts *f)
{
        bool bls = f->grub_bls && f->entries && f->entries_dir &&
                   strcmp(f->entries_dir, "/boot/loader/entries") == 0;

        if (!bls)
                return BOOTLOADER_GRUB;
        return f->grubby ? BOOTLOADER_GRUBBY : BOOTLOADER_GRUB_BLS;
}

static bool uki_named(const struct boot_facts *f, const char *entry)
{
        for (char **u = f->ukis; u && *u; u++) {
                const char *base = strrchr(*u, '/') ? strrchr(*u, '/') + 1 : *u;

                if (strcmp(base, entry) == 0)
                        return true;
        }
        return false;
}

/* systemd-boot's family: kernelstub writes its entries, a UKI carries its own command line, or
 * plain entries. A UKI is what booted when the booted entry is one, or when there is nothing else
 * to boot; both kinds and no word on which booted is a question for the user. */
static int sdboot_kind(const struct boot_facts *f, enum bootloader_id *ret, char **ret_error)
{
        if (f->kernelstub) {
                *ret = BOOTLOADER_KERNELSTUB;
                return 0;
        }
        if (f->loader_entry) {
                *ret = uki_named(f, f->loader_entry) ? BOOTLOADER_UKI : BOOTLOADER_SYSTEMD_BOOT;
                return 0;
        }
        if (f->ukis && f->entries) {
                struct evidence_set s = {};

                evidence_add(&s, BOOTLOADER_SYSTEMD_BOOT, "entries in %s", f->entries_dir);
                char q[QUOTE_BUF];

                evidence_add(&s, BOOTLOADER_UKI, "%s, and no LoaderEntrySelected EFI variable",
                             quote(f->ukis[0], q));
                return ambiguous(&s, "bootloader", bootloader_name, ret_error);
        }
        *ret = f->ukis ? BOOTLOADER_UKI : BOOTLOADER_SYSTEMD_BOOT;
        return 0;
}

int boot_detect_bootloader(const struct boot_facts *f, enum bootloader_id *ret, char **ret_error)
{
        char q[QUOTE_BUF];
        struct evidence_set running = {}, files = {};
        enum bootloader_id sd = BOOTLOADER_SYSTEMD_BOOT;
        bool grub_running, sd_running;
        int r;

        /* ostree owns the entries, whatever loader reads them (§1.3, 1.) */
        if (f->ostree_booted) {
                *ret = BOOTLOADER_RPM_OSTREE;
                return 0;
        }
        /* proxmox-boot-tool drives systemd-boot or GRUB on its ESPs; GRUB mode is plain update-grub */
        if (f->proxmox) {
                *ret = !loader_info_is_systemd_boot(f) && f->grub_cfg ? BOOTLOADER_GRUB : BOOTLOADER_PROXMOX;
                return 0;
        }

        /* The running boot: the loader that started this kernel said so. */
        sd_running = loader_info_is_systemd_boot(f);
        grub_running = starts_with(f->loader_info, "GRUB") || has_word(f->cmdline, "BOOT_IMAGE=");
        if (sd_running) {
                r = sdboot_kind(f, &sd, ret_error);
                if (r < 0)
                        return r;
                evidence_add(&running, sd, "LoaderInfo \"%s\"", quote(f->loader_info, q));
        }
        if (grub_running) {
                if (starts_with(f->loader_info, "GRUB"))
                        evidence_add(&running, grub_kind(f), "LoaderInfo \"%s\"", quote(f->loader_info, q));
                else
                        evidence_add(&running, grub_kind(f), "BOOT_IMAGE= on the command line");
        }
        if (starts_with(f->loader_info, "rEFInd"))
                evidence_add(&running, BOOTLOADER_REFIND, "LoaderInfo \"%s\"", quote(f->loader_info, q));
        if (starts_with(f->loader_info, "Limine"))
                evidence_add(&running, BOOTLOADER_LIMINE, "LoaderInfo \"%s\"", quote(f->loader_info, q));
        if (running.n > 1)
                return ambiguous(&running, "bootloader", bootloader_name, ret_error);
        if (running.n == 1) {
                *ret = (enum bootloader_id)running.v[0].id;
                return 0;
        }

        /* Loaders that leave no mark on the running boot: their configuration decides. kernelstub
         * also boots the kernel's EFI stub straight from the firmware (setup_loader false). */
        if (f->kernelstub)
                evidence_add(&files, BOOTLOADER_KERNELSTUB, "/etc/kernelstub/configuration");
        if (f->refind_conf && f->refind_on_esp)
                evidence_add(&files, BOOTLOADER_REFIND, "%s and %s/EFI/refind", f->refind_conf, f->esp);
        if (f->limine_conf)
                evidence_add(&files, BOOTLOADER_LIMINE, "%s", f->limine_conf);
        else if (f->limine_entry_tool)
                evidence_add(&files, BOOTLOADER_LIMINE, "/etc/default/limine");
        if (files.n > 1)
                return ambiguous(&files, "bootloader", bootloader_name, ret_error);
        if (files.n == 1) {
                *ret = (enum bootloader_id)files.v[0].id;
                return 0;
        }

        return error_setf(
            ret_error, -EADDRNOTAVAIL,
            "found no bootloader: no BOOT_IMAGE= on the command line, %s, no /run/ostree-booted, "
            "no /etc/kernel/proxmox-boot-uuids, no refind_linux.conf with EFI/refind, no limine.conf; "
            "say --bootloader grub, grub-bls, grubby, systemd-boot, uki, kernelstub, rpm-ostree, "
            "proxmox, refind or limine",
            f->loader_info ? "an unknown LoaderInfo"
            : f->efi       ? "no LoaderInfo EFI variable"
                           : "no EFI (so no LoaderInfo)");
}

static int initramfs_from_generator(const char *name)
{
        /* kernel-install's names for the generators (KERNEL_INSTALL_INITRD_GENERATOR) */
        if (strcmp(name, "initramfs-tools") == 0 || strcmp(name, "update-initramfs") == 0)
                return INITRAMFS_TOOLS;
        return initramfs_from_string(name);
}

int boot_detect_initramfs(const struct boot_facts *f, enum bootloader_id loader, enum initramfs_id *ret,
                          char **ret_error)
{
        char q[QUOTE_BUF];
        struct evidence_set s = {};
        int id;

        /* rpm-ostree builds the initramfs on the server; kargs and initramfs-etc are its business */
        if (loader == BOOTLOADER_RPM_OSTREE || f->ostree_booted) {
                *ret = INITRAMFS_NONE;
                return 0;
        }

        if (f->dpkg_initramfs) {
                id = initramfs_from_generator(f->dpkg_initramfs);
                if (id < 0)
                        return error_setf(
                            ret_error, -EOPNOTSUPP,
                            "the initramfs is built by %s (the installed package providing "
                            "linux-initramfs-tool), which gpu-handoff cannot drive; say --initramfs "
                            "initramfs-tools, dracut, mkinitcpio or booster if one of them is in use",
                            quote(f->dpkg_initramfs, q));
                evidence_add(&s, id, "the installed package providing linux-initramfs-tool");
        }
        if (f->initrd_generator) {
                id = initramfs_from_generator(f->initrd_generator);
                if (id < 0)
                        return error_setf(
                            ret_error, -EOPNOTSUPP,
                            "install.conf names initrd_generator=%s, which gpu-handoff cannot drive; "
                            "say --initramfs initramfs-tools, dracut, mkinitcpio or booster if one of "
                            "them is in use",
                            quote(f->initrd_generator, q));
                evidence_add(&s, id, "initrd_generator=%s in install.conf", quote(f->initrd_generator, q));
        }
        if (f->mkinitcpio_presets)
                evidence_add(&s, INITRAMFS_MKINITCPIO, "presets in /etc/mkinitcpio.d");
        if (f->booster)
                evidence_add(&s, INITRAMFS_BOOSTER, "/etc/booster.yaml or /usr/lib/booster");
        if (s.n > 1)
                return ambiguous(&s, "initramfs", initramfs_name, ret_error);
        if (s.n == 1) {
                *ret = (enum initramfs_id)s.v[0].id;
                return 0;
        }
        /* dracut alone: Fedora configures nothing that names it, its kernel-install plugin calls it.
         * An installed dracut is evidence only when nothing else is. */
        if (f->dracut) {
                *ret = INITRAMFS_DRACUT;
                return 0;
        }
        return error_setf(
            ret_error, -EADDRNOTAVAIL,
            "found no initramfs generator: no package providing linux-initramfs-tool in "
            "/var/lib/dpkg/status, no initrd_generator= in install.conf, no /etc/mkinitcpio.d "
            "presets, no booster, no dracut; say --initramfs initramfs-tools, dracut, mkinitcpio "
            "or booster");
}
