/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "doctor/looking-glass.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "setup/looking-glass.h"
#include "setup/qemu-conf.h"

#define MIB (UINT64_C(1) << 20)

/* The largest common mode that fits size_mib under version's formula, or NULL. */
static const char *largest_mode(uint64_t size_mib, enum lg_version version)
{
        static const struct lg_mode modes[] = {
            {7680, 4320, false}, {5120, 2880, false}, {3840, 2160, false},
            {3440, 1440, false}, {2560, 1440, false}, {1920, 1080, false},
        };
        static const char *const names[] = {"7680x4320", "5120x2880", "3840x2160",
                                            "3440x1440", "2560x1440", "1920x1080"};

        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                uint32_t need = lg_size_mib(&modes[i], version);
                if (need && need <= size_mib)
                        return names[i];
        }
        return NULL;
}

static int check_size(const struct domain *d, uint64_t bytes, const struct lg_setup_state *st,
                      struct doctor_report *rep)
{
        uint64_t mib = bytes / MIB;

        if (!bytes)
                return doctor_report_add(rep, "vm-looking-glass-size", SEVERITY_WARNING, NULL,
                                         "give the memory-backend-file a size (gpu-handoff xml --looking-glass)",
                                         "%s's Looking Glass memory has no size that could be read", d->name);
        if (bytes & (bytes - 1) || bytes < MIB)
                return doctor_report_add(rep, "vm-looking-glass-size", SEVERITY_ERROR, NULL,
                                         "use a power of two MiB: gpu-handoff xml --looking-glass WIDTHxHEIGHT",
                                         "%s's Looking Glass memory is %" PRIu64 " KiB, not a power of two MiB: "
                                         "IVSHMEM refuses it",
                                         d->name, bytes >> 10);
        if (st->mode.width) {
                uint32_t need = lg_size_mib(&st->mode, st->version);
                if (need && mib < need)
                        return doctor_report_add(
                            rep, "vm-looking-glass-size", SEVERITY_ERROR, NULL,
                            "give the domain the size setup gave kvmfr: gpu-handoff xml --looking-glass auto",
                            "%s's Looking Glass memory is %" PRIu64 " MiB; %" PRIu32 "x%" PRIu32
                            "%s asked of setup --looking-glass needs %" PRIu32 " MiB (Looking Glass %s)",
                            d->name, mib, st->mode.width, st->mode.height, st->mode.hdr ? "@hdr" : "", need,
                            st->version == LG_VERSION_B7 ? "B7" : "after B7");
        }
        if (d->kvmfr && st->size_mib && mib > st->size_mib)
                return doctor_report_add(rep, "vm-looking-glass-size", SEVERITY_ERROR, NULL,
                                         "make them the same: gpu-handoff xml --looking-glass auto prints the block",
                                         "%s asks %" PRIu64 " MiB of %s, which kvmfr makes %" PRIu32
                                         " MiB (" LG_MODPROBE_PATH "): QEMU cannot map more than the device has",
                                         d->name, mib, d->kvmfr_path, st->size_mib);
        const char *now = largest_mode(mib, LG_VERSION_CURRENT), *b7 = largest_mode(mib, LG_VERSION_B7);
        if (!now)
                return doctor_report_add(rep, "vm-looking-glass-size", SEVERITY_ERROR, NULL,
                                         "use 32 MiB for 1080p, 64 MiB for 1440p, 128 MiB for 2160p",
                                         "%s's Looking Glass memory (%" PRIu64 " MiB) is too small even for "
                                         "1920x1080 (32 MiB)",
                                         d->name, mib);
        return doctor_report_add(rep, "vm-looking-glass", SEVERITY_INFO, NULL, NULL,
                                 "%s's Looking Glass memory (%" PRIu64 " MiB) is enough for %s (Looking Glass "
                                 "after B7; B7 and earlier: %s)",
                                 d->name, mib, now, b7 ? b7 : "less than 1920x1080");
}

/* /dev/kvmfrN: a character device once kvmfr is loaded. */
static int check_device(const struct sysroot *sr, const struct domain *d, struct doctor_report *rep)
{
        enum lg_device_state st = looking_glass_device_state(sr, d->kvmfr_path);

        if (st == LG_DEVICE_MISSING)
                return doctor_report_add(rep, "vm-looking-glass-kvmfr-missing", SEVERITY_WARNING, NULL,
                                         "modprobe kvmfr (gpu-handoff setup --looking-glass loads it at every "
                                         "boot; the module comes from Looking Glass's DKMS package)",
                                         "%s uses %s, which is not there: kvmfr is not loaded", d->name,
                                         d->kvmfr_path);
        if (st == LG_DEVICE_CHAR)
                return 0;
        return doctor_report_add(rep, "vm-looking-glass-kvmfr-file", SEVERITY_ERROR, NULL,
                                 "stop the VM, remove the file, modprobe kvmfr, check that ls -l shows it "
                                 "starting with c (a character device), then start the VM",
                                 "%s is a plain file, not kvmfr's device: a VM started before kvmfr was loaded, "
                                 "and QEMU created it",
                                 d->kvmfr_path);
}

static int check_acl(const struct sysroot *sr, const struct domain *d, struct doctor_report *rep)
{
        _cleanup_free_ char *text = NULL;

        if (sysroot_read_file(sr, QEMU_CONF_PATH + 1, 4u << 20, &text, NULL) < 0)
                return 0; /* no libvirt here, or not where this looks */
        if (qemu_conf_acl_has(text, d->kvmfr_path) == 1)
                return 0;
        return doctor_report_add(rep, "vm-looking-glass-acl", SEVERITY_ERROR, NULL,
                                 "gpu-handoff setup --looking-glass WIDTHxHEIGHT adds it, keeping libvirt's "
                                 "defaults; then systemctl restart libvirtd",
                                 "%s is not in cgroup_device_acl in " QEMU_CONF_PATH
                                 ": the VM's cgroup keeps QEMU from opening it",
                                 d->kvmfr_path);
}

static int check_apparmor(const struct sysroot *sr, const struct domain *d, struct doctor_report *rep)
{
        _cleanup_free_ char *text = NULL;
        bool ok = false;

        if (!looking_glass_apparmor_host(sr))
                return 0;
        if (sysroot_read_file(sr, LG_APPARMOR_PATH + 1, 1u << 20, &text, NULL) >= 0)
                for (const char *p = text; !ok && (p = strstr(p, d->kvmfr_path)); p++) {
                        const char *eol = p + strcspn(p, "\n");
                        const char *rw = strstr(p, "rw");
                        const char *bol = p;
                        while (bol > text && bol[-1] != '\n')
                                bol--;
                        ok = rw && rw < eol && !memchr(bol, '#', (size_t)(p - bol));
                }
        if (ok)
                return 0;
        return doctor_report_add(rep, "vm-looking-glass-apparmor", SEVERITY_ERROR, NULL,
                                 "gpu-handoff setup --looking-glass WIDTHxHEIGHT adds the rule there (\"/dev/kvmfrN "
                                 "rw,\")",
                                 "AppArmor: " LG_APPARMOR_PATH " does not allow %s: the VM's profile denies QEMU "
                                 "the device",
                                 d->kvmfr_path);
}

int doctor_check_looking_glass(const struct sysroot *sr, const struct domain *d, struct doctor_report *rep)
{
        struct lg_setup_state st;
        int r;

        if (!d->kvmfr && !d->shmem_bytes)
                return 0;
        looking_glass_state_read(sr, &st);
        r = check_size(d, d->kvmfr ? d->kvmfr_bytes : d->shmem_bytes, &st, rep);
        if (r >= 0 && d->kvmfr)
                r = check_device(sr, d, rep);
        if (r >= 0 && d->kvmfr)
                r = check_acl(sr, d, rep);
        if (r >= 0 && d->kvmfr)
                r = check_apparmor(sr, d, rep);
        if (r >= 0 && !d->memballoon_none)
                r = doctor_report_add(rep, "vm-looking-glass-memballoon", SEVERITY_WARNING, NULL,
                                      "<memballoon model='none'/> under <devices>",
                                      "%s has a memory balloon: with a passed GPU all its memory is pinned, so it "
                                      "cannot give any back, and Looking Glass's documentation says to remove it",
                                      d->name);
        return r;
}
