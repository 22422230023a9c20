/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/looking-glass.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "setup/qemu-conf.h"

#define STATE_TAG "# gpu-handoff looking-glass "

static int write_file(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *text,
                      char **ret_error)
{
        int r = setup_plan_write(p, sr, path, text, strlen(text), 0644, ret_error);
        return r < 0 ? r : 0;
}

/* The line a file must hold, appended (with a newline before it where the last line has none). */
static int append_line(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *line,
                       char **ret_error)
{
        _cleanup_free_ char *now = NULL, *after = NULL;
        size_t len = 0, llen = strlen(line);
        int r = setup_plan_read(p, sr, path, &now, &len, ret_error);

        if (r == -ENOENT)
                len = 0;
        else if (r < 0)
                return r;
        for (const char *s = now; s && *s;) {
                const char *e = s + strcspn(s, "\n");
                const char *b = s + strspn(s, " \t");
                size_t n = (size_t)(e - b);
                while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
                        n--;
                if (n == llen && memcmp(b, line, llen) == 0)
                        return 0;
                s = *e ? e + 1 : e;
        }
        if (asprintf(&after, "%s%s%s\n", now ? now : "", len && now[len - 1] != '\n' ? "\n" : "", line) < 0)
                return -ENOMEM;
        return write_file(p, sr, path, after, ret_error);
}

enum lg_device_state looking_glass_device_state(const struct sysroot *sr, const char *path)
{
        struct stat st;
        int fd = sysroot_openat(sr, path[0] == '/' ? path + 1 : path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        enum lg_device_state s = LG_DEVICE_MISSING;

        if (fd < 0)
                return s;
        if (fstat(fd, &st) >= 0)
                s = S_ISCHR(st.st_mode) ? LG_DEVICE_CHAR : LG_DEVICE_FILE;
        close(fd);
        return s;
}

const char *lg_device_state_to_string(enum lg_device_state s)
{
        return s == LG_DEVICE_CHAR ? "char" : s == LG_DEVICE_FILE ? "file" : "missing";
}

bool looking_glass_apparmor_host(const struct sysroot *sr)
{
        char v[8];

        if (sysroot_read_attr(sr, "sys/module/apparmor/parameters/enabled", v, sizeof(v)) > 0 && v[0] == 'Y')
                return true;
        return sysroot_exists(sr, "etc/apparmor.d");
}

int looking_glass_kvmfr_installed(const struct sysroot *sr, const char *release)
{
        static const char *const places[] = {"updates/dkms", "extra", "updates", "kernel/drivers/misc"};
        static const char *const suffixes[] = {"", ".xz", ".zst", ".gz"};
        _cleanup_free_ char *dep = NULL;
        char path[512];

        if (!release || !*release || strchr(release, '/'))
                return -ENOENT;
        for (size_t i = 0; i < ELEMENTSOF(places); i++)
                for (size_t j = 0; j < ELEMENTSOF(suffixes); j++) {
                        snprintf(path, sizeof(path), "lib/modules/%s/%s/kvmfr.ko%s", release, places[i],
                                 suffixes[j]);
                        if (sysroot_exists(sr, path) || (snprintf(path, sizeof(path), "usr/lib/modules/%s/%s/kvmfr.ko%s",
                                                                  release, places[i], suffixes[j]),
                                                         sysroot_exists(sr, path)))
                                return 1;
                }
        snprintf(path, sizeof(path), "lib/modules/%s/modules.dep", release);
        if (sysroot_read_file(sr, path, 16u << 20, &dep, NULL) >= 0 &&
            (strstr(dep, "/kvmfr.ko:") || strstr(dep, "/kvmfr.ko.") || strncmp(dep, "kvmfr.ko", 8) == 0))
                return 1;
        return 0;
}

void looking_glass_state_read(const struct sysroot *sr, struct lg_setup_state *ret)
{
        _cleanup_free_ char *text = NULL;
        const char *p;

        *ret = (struct lg_setup_state){0};
        if (sysroot_read_file(sr, LG_MODPROBE_PATH + 1, 1u << 16, &text, NULL) < 0)
                return;
        p = strstr(text, "static_size_mb=");
        if (p) {
                unsigned long v = strtoul(p + strlen("static_size_mb="), NULL, 10);
                ret->size_mib = v <= LG_SIZE_MAX_MIB ? (uint32_t)v : 0;
        }
        p = strstr(text, STATE_TAG);
        if (p) {
                char mode[64] = "", version[16] = "";
                if (sscanf(p + strlen(STATE_TAG), "%63s %15s", mode, version) == 2 &&
                    lg_mode_parse(mode, &ret->mode, NULL) >= 0 && lg_version_from_string(version) >= 0)
                        ret->version = lg_version_from_string(version);
                else
                        ret->mode = (struct lg_mode){0};
        }
}

static const char *running_release(const struct sysroot *sr, char *buf, size_t size)
{
        return sysroot_read_attr(sr, "proc/sys/kernel/osrelease", buf, size) > 0 ? buf : NULL;
}

int looking_glass_plan(const struct sysroot *sr, const struct lg_request *req, struct setup_plan *p,
                       char **ret_error)
{
        uint32_t size = lg_size_mib(&req->mode, req->version);
        enum lg_version other = req->version == LG_VERSION_B7 ? LG_VERSION_CURRENT : LG_VERSION_B7;
        uint32_t other_size = lg_size_mib(&req->mode, other);
        char mode[64], release[256];
        _cleanup_free_ char *modprobe = NULL, *qemu = NULL, *qemu_new = NULL;
        int r;

        snprintf(mode, sizeof(mode), "%" PRIu32 "x%" PRIu32 "%s", req->mode.width, req->mode.height,
                 req->mode.hdr ? "@hdr" : "");
        if (!size)
                return error_setf(ret_error, -EINVAL, "--looking-glass %s needs more than %u MiB", mode,
                                  LG_SIZE_MAX_MIB);

        if (asprintf(&modprobe,
                     "# Looking Glass: one kvmfr device, " LG_DEVICE ", of %" PRIu32 " MiB for %s.\n"
                     "# Written by gpu-handoff setup --looking-glass; gpu-handoff setup undo removes it.\n"
                     STATE_TAG "%s %s\n"
                     "options kvmfr static_size_mb=%" PRIu32 "\n",
                     size, mode, mode, lg_version_to_string(req->version), size) < 0)
                return -ENOMEM;
        r = write_file(p, sr, LG_MODPROBE_PATH, modprobe, ret_error);
        if (r >= 0)
                r = write_file(p, sr, LG_MODULES_LOAD_PATH,
                               "# Looking Glass's kvmfr, loaded at boot before any VM starts (gpu-handoff setup "
                               "--looking-glass).\nkvmfr\n",
                               ret_error);
        if (r >= 0)
                r = write_file(p, sr, LG_UDEV_RULES_PATH,
                               "# Looking Glass: " LG_DEVICE " for the kvm group and the seat's user (gpu-handoff "
                               "setup --looking-glass).\n"
                               "# Its number sorts before 73-seat-late.rules, or uaccess does not apply.\n" LG_UDEV_RULE
                               "\n",
                               ret_error);
        if (r < 0)
                return r;

        /* qemu.conf: only where libvirt is installed (the file is its package's) */
        size_t qemu_len = 0;
        r = setup_plan_read(p, sr, QEMU_CONF_PATH, &qemu, &qemu_len, ret_error);
        if (r == -ENOENT)
                r = setup_plan_note(p, "%s is not there (libvirt is not installed?): add " LG_DEVICE
                                       " to its cgroup_device_acl once it is, then run setup again",
                                    QEMU_CONF_PATH);
        else if (r >= 0) {
                r = qemu_conf_acl_add(qemu, LG_DEVICE, &qemu_new, ret_error);
                if (r > 0)
                        r = write_file(p, sr, QEMU_CONF_PATH, qemu_new, ret_error);
        }
        if (r >= 0 && looking_glass_apparmor_host(sr)) {
                _cleanup_free_ char *abstraction = NULL;

                r = append_line(p, sr, LG_APPARMOR_PATH, LG_APPARMOR_RULE, ret_error);
                /* the local file counts only where the abstraction includes it (Debian 12 does) */
                if (r >= 0 &&
                    sysroot_read_file(sr, "etc/apparmor.d/abstractions/libvirt-qemu", 1u << 20, &abstraction, NULL) >= 0 &&
                    !strstr(abstraction, "local/abstractions/libvirt-qemu") &&
                    setup_plan_note(p, "/etc/apparmor.d/abstractions/libvirt-qemu does not include " LG_APPARMOR_PATH
                                       ": add \"#include <local/abstractions/libvirt-qemu>\" to it, or the rule "
                                       "is not used") < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                return r;

        r = setup_plan_note(p, "Looking Glass: %" PRIu32 " MiB of shared memory for %s (the formula of %s)", size,
                            mode,
                            req->version == LG_VERSION_B7 ? "Looking Glass B7 and earlier"
                                                          : "Looking Glass after B7, the IDD host");
        if (r >= 0 && other_size != size)
                r = setup_plan_note(p,
                                    "Looking Glass: %s needs %" PRIu32 " MiB instead (%s); "
                                    "--lg-version %s plans that",
                                    req->version == LG_VERSION_B7 ? "a host after B7" : "a B7 host", other_size,
                                    other == LG_VERSION_B7 ? "B7's formula" : "the IDD host's formula",
                                    lg_version_to_string(other));
        if (r >= 0)
                r = setup_plan_note(p, "restart libvirt for the cgroup and AppArmor changes: systemctl restart "
                                       "libvirtd (or virtqemud); the VMs get them at their next start");
        const char *rel = running_release(sr, release, sizeof(release));
        int installed = looking_glass_kvmfr_installed(sr, rel);
        if (r >= 0)
                r = installed > 0 ? setup_plan_note(p, "kvmfr is installed for the running kernel %s: modprobe "
                                                       "kvmfr loads it now, or reboot",
                                                    rel)
                    : installed == 0
                        ? setup_plan_note(p,
                                          "kvmfr is not installed for the running kernel %s: it comes from Looking "
                                          "Glass's source (module/, dkms install .) or your distribution's "
                                          "looking-glass DKMS package",
                                          rel)
                        : setup_plan_note(p, "cannot tell whether kvmfr is installed (no running kernel below the "
                                             "root): it comes from Looking Glass's DKMS package");
        if (r >= 0)
                r = setup_plan_note(p, "start no VM before kvmfr is loaded: QEMU would create " LG_DEVICE
                                       " as a plain file (remove it, then modprobe kvmfr)");
        return r < 0 ? -ENOMEM : 0;
}
