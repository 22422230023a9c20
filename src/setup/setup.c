/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/setup.h"
#include "setup/vendor-reset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/proc.h"
#include "basic/strv.h"
#include "change/engine.h"
#include "change/journal.h"
#include "change/step-file.h"
#include "change/transaction.h"
#include "setup/backend.h"
#include "setup/cmdline.h"
#include "setup/looking-glass.h"
#include "setup/steps.h"
#include "setup/vfio-bind.h"

static const struct transaction setup_transaction = {.domain = &setup_domain, .spec = &setup_journal};

/* ---- the plan ---- */

/* The arguments that turn the IOMMU on, and nothing that does nothing: VT-d needs
 * intel_iommu=on unless the kernel turns it on by itself; AMD-Vi is on whenever the firmware
 * publishes IVRS (amd_iommu=on is not a value the kernel knows). The firmware's ACPI table says
 * which IOMMU there is - the CPU's vendor only when it shows none (a VM's emulated VT-d under an
 * AMD CPU model is VT-d). iommu=pt keeps the host's own devices on identity mappings, which
 * costs the guest's isolation nothing. */
static int iommu_args(const struct boot_facts *f, struct strv *args, char **ret_error)
{
        bool intel;

        switch (f->iommu_firmware) {
        case IOMMU_FIRMWARE_DMAR:
                intel = true;
                break;
        case IOMMU_FIRMWARE_IVRS:
                intel = false;
                break;
        default:
                if (f->cpu.vendor != CPU_VENDOR_INTEL && f->cpu.vendor != CPU_VENDOR_AMD)
                        return error_setf(ret_error, -EADDRNOTAVAIL,
                                          "cannot tell the IOMMU's kind: no ACPI DMAR or IVRS table, and no "
                                          "Intel or AMD CPU in /proc/cpuinfo");
                intel = f->cpu.vendor == CPU_VENDOR_INTEL;
        }
        if (intel && !f->intel_iommu_default_on && strv_addf(args, "intel_iommu=on") < 0)
                return -ENOMEM;
        return strv_addf(args, "iommu=pt") < 0 ? -ENOMEM : 0;
}

/* What the running kernel has with another value than we add (intel_iommu=off, left there to
 * keep the IOMMU off): taken away in the same edit, or the kernel would keep the last one. */
static int conflicting_args(const struct boot_facts *f, char **add, char ***ret)
{
        struct strv remove = {0};
        struct cmdline *c = NULL;

        if (f->cmdline && cmdline_parse(f->cmdline, strlen(f->cmdline), &c, NULL) >= 0) {
                for (size_t i = 0; add && add[i]; i++) {
                        const char *eq = strchr(add[i], '=');
                        _cleanup_free_ char *key = eq ? strndup(add[i], eq - add[i]) : NULL;
                        const char *now = key ? cmdline_get(c, key) : NULL;

                        if (now && strcmp(now, eq + 1) != 0 && strv_addf(&remove, "%s=%s", key, now) < 0) {
                                cmdline_free(c);
                                strv_done(&remove);
                                return -ENOMEM;
                        }
                }
                cmdline_free(c);
        }
        *ret = strv_take(&remove);
        return *ret ? 0 : -ENOMEM;
}

/* The boot-time binding of req->vfio: our modprobe.d file first in the plan (the initramfs
 * backends see it there), the arguments it needs added to *args, the devices it binds in *vfio
 * and the plan's, its notes the plan's. A refusal is the plan's. */
static int bind_at_boot(const struct sysroot *sr, const struct host *h, const struct boot_facts *f,
                        const struct setup_request *req, struct setup_plan *p, struct vfio_binding *b,
                        char ***args, char ***vfio, char **ret_error)
{
        struct vfio_bind_request vreq = {
            .names = req->vfio,
            .bootloader = p->bootloader,
            .initramfs = p->initramfs,
            .single_gpu = req->boot_gpu_ok,
        };
        struct strv more = {0};
        int r = vfio_bind_plan(h, f, &vreq, b);

        if (r < 0)
                return r;
        if (b->refused)
                return setup_plan_refuse(p, "%s", b->refused);
        for (size_t i = 0; r >= 0 && (*args)[i]; i++)
                r = strv_addf(&more, "%s", (*args)[i]);
        for (size_t i = 0; r >= 0 && i < b->args.n; i++)
                r = strv_addf(&more, "%s", b->args.v[i]);
        for (size_t i = 0; r >= 0 && i < b->devices.n; i++)
                r = strv_addf(&p->vfio, "%s", b->devices.v[i]);
        for (size_t i = 0; r >= 0 && i < b->notes.n; i++)
                r = strv_addf(&p->notes, "%s", b->notes.v[i]);
        if (r >= 0 && b->modprobe_conf) {
                r = setup_plan_write(p, sr, SETUP_MODPROBE_PATH, b->modprobe_conf, strlen(b->modprobe_conf),
                                     0644, ret_error);
                if (r >= 0)
                        r = vfio_bind_shadowed(sr, b->modprobe_conf, &p->notes);
        }
        if (r < 0) {
                strv_done(&more);
                return r;
        }
        struct strv devices = {0};
        for (size_t i = 0; i < b->devices.n; i++)
                if (strv_addf(&devices, "%s", b->devices.v[i]) < 0) {
                        strv_done(&devices);
                        strv_done(&more);
                        return -ENOMEM;
                }
        char **joined = strv_take(&more), **bound = strv_take(&devices);
        if (!joined || !bound) {
                strv_free_null(joined);
                strv_free_null(bound);
                return -ENOMEM;
        }
        strv_free_null(*args);
        *args = joined;
        strv_free_null(*vfio);
        *vfio = bound;
        return 0;
}

static int decide_bootloader(const struct boot_facts *f, const char *name, enum bootloader_id *ret,
                             char **ret_error)
{
        if (!name)
                return boot_detect_bootloader(f, ret, ret_error);
        int b = bootloader_from_string(name);
        if (b < 0)
                return error_setf(
                    ret_error, -EINVAL,
                    "unknown --bootloader %s; expected grub, grub-bls, grubby, systemd-boot, uki, "
                    "kernelstub, rpm-ostree, proxmox, refind or limine",
                    name);
        *ret = b;
        return 0;
}

static int decide_initramfs(const struct boot_facts *f, enum bootloader_id loader, const char *name,
                            enum initramfs_id *ret, char **ret_error)
{
        if (!name)
                return boot_detect_initramfs(f, loader, ret, ret_error);
        if (strcmp(name, "none") == 0) {
                *ret = INITRAMFS_NONE;
                return 0;
        }
        int i = initramfs_from_string(name);
        if (i < 0)
                return error_setf(
                    ret_error, -EINVAL,
                    "unknown --initramfs %s; expected initramfs-tools, dracut, mkinitcpio, booster or none",
                    name);
        *ret = i;
        return 0;
}

int setup_plan_make(const struct sysroot *sr, const struct host *h, const struct setup_request *req,
                    struct setup_plan *ret, char **ret_error)
{
        _cleanup_(boot_facts_done) struct boot_facts f = {0};
        struct setup_plan p = {0};
        struct strv args = {0};
        _cleanup_strv_free_null_ char **args_v = NULL, **remove_v = NULL, **vfio_v = NULL;
        int r;

        /* Looking Glass alone changes no boot: no boot facts, no kernel arguments. Any boot
         * option with it (--vfio, --vendor-reset, --disable-idle-d3) takes the whole path. */
        if (req->looking_glass && !(req->vfio && req->vfio[0]) && !req->vendor_reset && !req->disable_idle_d3) {
                r = looking_glass_plan(sr, req->looking_glass, &p, ret_error);
                if (r < 0) {
                        setup_plan_done(&p);
                        return r;
                }
                *ret = p;
                return 0;
        }
        r = boot_facts_read(sr, &f, ret_error);
        if (r < 0)
                return r;
        if (f.cpu.vendor == CPU_VENDOR_UNKNOWN && req->running)
                (void)cpu_info_read(req->running, &f.cpu);
        r = decide_bootloader(&f, req->bootloader, &p.bootloader, ret_error);
        if (r >= 0)
                r = decide_initramfs(&f, p.bootloader, req->initramfs, &p.initramfs, ret_error);
        if (r >= 0)
                r = iommu_args(&f, &args, ret_error);
        /* vfio-pci leaves an idle device in D3; some cards (RX 9000) do not wake from it */
        if (r >= 0 && req->disable_idle_d3 && strv_addf(&args, "vfio_pci.disable_idle_d3=1") < 0)
                r = -ENOMEM;
        if (r < 0) {
                strv_done(&args);
                setup_plan_done(&p);
                return r;
        }
        args_v = strv_take(&args);
        r = conflicting_args(&f, args_v, &remove_v);
        if (r < 0) {
                setup_plan_done(&p);
                return r;
        }
        vfio_v = strv_new_empty();
        if (!args_v || !vfio_v) {
                setup_plan_done(&p);
                return -ENOMEM;
        }
        struct vfio_binding b = {0};
        if (req->vfio && req->vfio[0]) {
                if (!h) {
                        setup_plan_done(&p);
                        return error_setf(ret_error, -EINVAL,
                                          "--vfio needs the host's devices, which were not read");
                }
                r = bind_at_boot(sr, h, &f, req, &p, &b, &args_v, &vfio_v, ret_error);
                if (r < 0 || p.refused) {
                        vfio_binding_done(&b);
                        if (r < 0) {
                                setup_plan_done(&p);
                                return r;
                        }
                        *ret = p;
                        return 0;
                }
        }

        struct setup_inputs in = {
            .sr = sr,
            .facts = &f,
            .bootloader = p.bootloader,
            .initramfs = p.initramfs,
            .args_add = args_v,
            .args_remove = remove_v,
            .vfio = vfio_v,
            .modprobe_conf = b.modprobe_conf != NULL,
        };
        r = initramfs_plan(&in, &p, ret_error);
        if (r >= 0 && !p.refused)
                r = bootloader_plan(&in, &p, ret_error);
        if (r >= 0 && !p.refused && req->vendor_reset)
                r = vendor_reset_plan(sr, req->vendor_reset, &p, ret_error);
        if (r >= 0 && !p.refused && req->looking_glass)
                r = looking_glass_plan(sr, req->looking_glass, &p, ret_error);
        vfio_binding_done(&b);
        if (r < 0) {
                setup_plan_done(&p);
                return r;
        }
        *ret = p; /* refused: empty but for the refusal (setup_plan_refuse()) */
        return 0;
}

/* ---- apply and undo ---- */

/* Whom the journal names as its owner: this process as the root's procfs shows it, or its pid
 * alone where the root has none (a chroot target, a fake tree). */
static struct process_id self_id(const struct sysroot *sr)
{
        struct process_id id = {.pid = getpid(), .start_time = 1};

        (void)process_id_self(sr, &id, NULL, 0);
        return id;
}

/* The message of a transaction that failed: its failed step's, else the core's. */
static int failed(int r, const struct engine_run *run, char **error, char **ret_error)
{
        for (size_t i = 0; run && i < run->n_steps; i++)
                if ((run->outcomes[i].state == OUTCOME_FAILED ||
                     run->outcomes[i].state == OUTCOME_REVERT_FAILED) &&
                    run->outcomes[i].message)
                        return error_setf(ret_error, r, "%s", run->outcomes[i].message);
        if (*error)
                return error_setf(ret_error, r, "%s", *error);
        return error_setf(ret_error, r, "/%s/journal: %s", setup_journal.dir, strerror(-r));
}

int setup_apply(const struct sysroot *sr, const struct commands *cmds, const struct setup_plan *p,
                struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n, char **ret_error)
{
        struct change_ctx ctx = {.sr = sr, .commands = cmds};
        struct process_id self = self_id(sr);
        _cleanup_free_ char *error = NULL, *what = strv_join(p->args_add.v, " ");
        struct step *steps = NULL;
        size_t n = 0;
        int r;

        *ret_run = NULL;
        *ret_steps = NULL;
        *ret_n = 0;
        if (p->refused)
                return error_setf(ret_error, -EPERM, "%s", p->refused);
        if (!what)
                return -ENOMEM;
        r = setup_steps_from_plan(sr, p, &steps, &n);
        if (r < 0)
                return error_setf(ret_error, r, "cannot make the steps of the plan: %s", strerror(-r));
        r = transaction_apply(&ctx, &setup_transaction, &self, "setup", what, "gpu-handoff setup", steps, n,
                              ret_run, &error);
        if (r < 0)
                r = failed(r, *ret_run, &error, ret_error);
        *ret_steps = steps;
        *ret_n = n;
        return r;
}

static int journal_read(const struct sysroot *sr, struct journal_state **ret, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        int r = journal_load(&setup_journal, sr, &st, ret_error);

        if (r < 0)
                return r;
        r = setup_journal_trusted(st, ret_error);
        if (r < 0)
                return r;
        *ret = st;
        st = NULL;
        return 0;
}

int setup_undo(const struct sysroot *sr, const struct commands *cmds, const char *phase,
               struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *error = NULL;
        struct change_ctx ctx = {.sr = sr, .commands = cmds};
        struct process_id self = self_id(sr);
        int r;

        *ret_run = NULL;
        *ret_steps = NULL;
        *ret_n = 0;
        r = journal_read(sr, &st, ret_error);
        if (r < 0)
                return r;
        if (journal_state_outcome(st) == JOURNAL_OUTCOME_ROLLED_BACK ||
            journal_state_outcome(st) == JOURNAL_OUTCOME_UNDONE) {
                r = journal_remove(&setup_journal, sr);
                return r < 0 && r != -ENOENT ? error_setf(ret_error, r, "cannot remove /%s/journal: %s",
                                                          setup_journal.dir, strerror(-r))
                                             : -ENOENT;
        }
        r = transaction_undo(&ctx, &setup_transaction, &self, phase, phase, ret_run, ret_steps, ret_n,
                             &error);
        if (r < 0 && r != -ENOENT)
                r = failed(r, *ret_run, &error, ret_error);
        return r;
}

/* The before-image of step i (file steps keep it as DIR/before-I), NULL when there is none. */
static int read_before_image(const struct sysroot *sr, size_t i, char **ret, size_t *ret_len)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/before-%zu", setup_journal.dir, i);
        return sysroot_read_file(sr, path, STEP_FILE_MAX, ret, ret_len);
}

int setup_undo_plan(const struct sysroot *sr, struct setup_plan *ret, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ size_t *pending = NULL;
        struct setup_plan p = {0};
        size_t n_pending = 0;
        int r;

        r = journal_read(sr, &st, ret_error);
        if (r < 0)
                return r;
        r = journal_state_pending_reverts(st, &pending, &n_pending);
        if (r < 0)
                return r;
        for (size_t k = 0; r >= 0 && k < n_pending; k++) {
                const struct journal_step *s = &st->steps[pending[k]];
                int kind = change_domain_find_kind(&setup_domain, s->kind);
                _cleanup_free_ char *before = NULL;
                size_t before_len = 0;

                switch (kind) {
                case SETUP_STEP_RECORD: {
                        _cleanup_strv_free_null_ char **added = NULL;
                        if (s->n_args == 4) {
                                p.bootloader = bootloader_from_string(s->args[2]) > 0
                                                   ? bootloader_from_string(s->args[2])
                                                   : 0;
                                p.initramfs = initramfs_from_string(s->args[3]) > 0
                                                  ? initramfs_from_string(s->args[3])
                                                  : 0;
                                for (const char *a = s->args[0]; r >= 0 && *a;) {
                                        size_t len = strcspn(a, " ");
                                        if (len)
                                                r = strv_addf(&p.args_remove, "%.*s", (int)len, a);
                                        a += len + (a[len] == ' ');
                                }
                                for (const char *a = s->args[1]; r >= 0 && *a;) {
                                        size_t len = strcspn(a, " ");
                                        if (len)
                                                r = strv_addf(&p.vfio, "%.*s", (int)len, a);
                                        a += len + (a[len] == ' ');
                                }
                        }
                        break;
                }
                case SETUP_STEP_CREATE_FILE:
                        r = setup_plan_add_file(&p, s->args[0], SETUP_FILE_REMOVE, s->args[2],
                                                strlen(s->args[2]), NULL, 0, 0);
                        break;
                case SETUP_STEP_REPLACE_FILE:
                case SETUP_STEP_REMOVE_FILE: {
                        const char *ours = kind == SETUP_STEP_REPLACE_FILE ? s->args[3] : NULL;
                        r = read_before_image(sr, pending[k], &before, &before_len);
                        if (r == -ENOENT) { /* killed before it changed anything: nothing to put back */
                                r = 0;
                                break;
                        }
                        if (r < 0)
                                break;
                        r = ours ? setup_plan_add_file(&p, s->args[0], SETUP_FILE_MODIFY, ours, strlen(ours),
                                                       before, before_len, 0)
                                 : setup_plan_add_file(&p, s->args[0], SETUP_FILE_CREATE, NULL, 0, before,
                                                       before_len, 0644);
                        break;
                }
                case SETUP_STEP_RUN:
                        if (s->n_args == 2 && *s->args[1]) {
                                _cleanup_strv_free_null_ char **argv = setup_argv_split(s->args[1]);
                                r = argv ? setup_plan_command(&p, SETUP_COMMAND_REGENERATE,
                                                              (const char *const *)argv, NULL)
                                         : -ENOMEM;
                        }
                        break;
                case SETUP_STEP_REGENERATE_ON_UNDO: {
                        _cleanup_strv_free_null_ char **argv = setup_argv_split(s->args[0]);
                        r = argv ? setup_plan_command(&p, SETUP_COMMAND_REGENERATE,
                                                      (const char *const *)argv, NULL)
                                 : -ENOMEM;
                        break;
                }
                default:
                        break;
                }
        }
        if (r < 0) {
                setup_plan_done(&p);
                return error_setf(ret_error, r, "cannot read what setup changed: %s", strerror(-r));
        }
        *ret = p;
        return 0;
}

/* ---- conflicts ---- */

void setup_conflict_done(struct setup_conflict *c)
{
        free(c->path);
        free(c->before);
        free(c->ours);
        free(c->now);
        *c = (struct setup_conflict){0};
}

int setup_conflict_read(const struct sysroot *sr, struct setup_conflict *ret, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        int r = journal_read(sr, &st, ret_error);

        if (r < 0)
                return r;
        for (size_t i = st->n_steps; i-- > 0;) {
                const struct journal_step *s = &st->steps[i];
                int kind = change_domain_find_kind(&setup_domain, s->kind);
                struct setup_conflict c = {0};

                if (s->state != JOURNAL_STEP_REVERTING || s->error != -ESTALE ||
                    (kind != SETUP_STEP_CREATE_FILE && kind != SETUP_STEP_REPLACE_FILE))
                        continue;
                const char *ours = kind == SETUP_STEP_CREATE_FILE ? s->args[2] : s->args[3];
                c.path = strdup(s->args[0]);
                c.ours = strdup(ours);
                c.ours_len = strlen(ours);
                if (!c.path || !c.ours) {
                        setup_conflict_done(&c);
                        return -ENOMEM;
                }
                if (kind == SETUP_STEP_REPLACE_FILE)
                        (void)read_before_image(sr, i, &c.before, &c.before_len);
                (void)sysroot_read_file(sr, s->args[0], STEP_FILE_MAX, &c.now, &c.now_len);
                *ret = c;
                return 0;
        }
        return -ENOENT;
}

/* ---- status ---- */

void setup_status_done(struct setup_status *s)
{
        free(s->since);
        strv_done(&s->args_added);
        strv_done(&s->vfio);
        strv_done(&s->files);
        strv_done(&s->drifted);
        strv_done(&s->missing_args);
        strv_done(&s->not_on_vfio);
        *s = (struct setup_status){0};
}

/* When this boot began, CLOCK_REALTIME µs (btime of /proc/stat); 0 when unknown. */
static uint64_t boot_time_usec(const struct sysroot *sr)
{
        _cleanup_free_ char *text = NULL;
        const char *p;

        if (sysroot_read_file(sr, "proc/stat", 1u << 20, &text, NULL) < 0)
                return 0;
        p = strstr(text, "\nbtime ");
        return p ? strtoull(p + 7, NULL, 10) * UINT64_C(1000000) : 0;
}

static int add_words(struct strv *v, const char *words)
{
        for (const char *a = words; *a;) {
                size_t len = strcspn(a, " ");
                if (len && strv_addf(v, "%.*s", (int)len, a) < 0)
                        return -ENOMEM;
                a += len + (a[len] == ' ');
        }
        return 0;
}

static bool iommu_groups_exist(const struct sysroot *sr)
{
        DIR *d = NULL;
        bool any = false;

        if (sysroot_opendir(sr, "sys/kernel/iommu_groups", &d) < 0)
                return false;
        for (struct dirent *de; !any && (de = readdir(d));)
                any = de->d_name[0] != '.';
        closedir(d);
        return any;
}

static bool on_vfio(const struct sysroot *sr, const char *address)
{
        char path[128], target[256];
        _cleanup_free_ char *full = NULL;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", address);
        full = sysroot_path(sr, path);
        if (!full)
                return false;
        ssize_t n = readlink(full, target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        return strcmp(base ? base + 1 : target, "vfio-pci") == 0;
}

int setup_status_read(const struct sysroot *sr, struct setup_status *ret, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        struct setup_status s = {0};
        int r = journal_read(sr, &st, ret_error);

        if (r == -ENOENT) {
                *ret = s;
                return 0;
        }
        if (r < 0)
                return r;
        enum journal_outcome o = journal_state_outcome(st);
        if (o == JOURNAL_OUTCOME_ROLLED_BACK || o == JOURNAL_OUTCOME_UNDONE) {
                *ret = s;
                return 0;
        }
        s.state = o == JOURNAL_OUTCOME_APPLIED ? SETUP_STATE_APPLIED : SETUP_STATE_INTERRUPTED;

        uint64_t applied_usec = 0;
        for (size_t i = 0; i < st->n_phases; i++)
                if (strcmp(st->phases[i].name, "setup") == 0)
                        applied_usec = st->phases[i].realtime_usec;
        if (applied_usec) {
                time_t t = (time_t)(applied_usec / 1000000);
                struct tm tm;
                char buf[64];
                if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm) > 0)
                        s.since = strdup(buf);
        }
        for (size_t i = 0; r >= 0 && i < st->n_steps; i++) {
                const struct journal_step *js = &st->steps[i];
                int kind = change_domain_find_kind(&setup_domain, js->kind);

                if (kind == SETUP_STEP_RECORD && js->n_args == 4) {
                        r = add_words(&s.args_added, js->args[0]);
                        if (r >= 0)
                                r = add_words(&s.vfio, js->args[1]);
                } else if (kind == SETUP_STEP_CREATE_FILE || kind == SETUP_STEP_REPLACE_FILE ||
                           kind == SETUP_STEP_REMOVE_FILE) {
                        _cleanup_free_ char *now = NULL;
                        size_t now_len = 0;
                        const char *ours = kind == SETUP_STEP_CREATE_FILE    ? js->args[2]
                                           : kind == SETUP_STEP_REPLACE_FILE ? js->args[3]
                                                                             : NULL;
                        int rr = sysroot_read_file(sr, js->args[0], STEP_FILE_MAX, &now, &now_len);

                        r = strv_addf(&s.files, "%s", js->args[0]);
                        if (r >= 0 && ((ours && (rr < 0 || now_len != strlen(ours) ||
                                                 memcmp(now, ours, now_len) != 0)) ||
                                       (!ours && rr >= 0)))
                                r = strv_addf(&s.drifted, "%s", js->args[0]);
                }
        }
        if (r < 0) {
                setup_status_done(&s);
                return -ENOMEM;
        }

        /* After the reboot, the running kernel tells whether it worked. */
        uint64_t boot = boot_time_usec(sr);
        s.not_running = !sysroot_exists(sr, "proc/self");
        s.reboot_pending = s.state == SETUP_STATE_APPLIED && boot && applied_usec > boot;
        if (s.state == SETUP_STATE_APPLIED && !s.reboot_pending && !s.not_running) {
                _cleanup_free_ char *line = NULL;
                struct cmdline *c = NULL;
                size_t len = 0;

                if (sysroot_read_file(sr, "proc/cmdline", 1u << 16, &line, &len) >= 0 &&
                    cmdline_parse(line, len, &c, NULL) >= 0) {
                        for (size_t i = 0; r >= 0 && i < s.args_added.n; i++) {
                                const char *a = s.args_added.v[i], *eq = strchr(a, '=');
                                _cleanup_free_ char *key = eq ? strndup(a, eq - a) : strdup(a);
                                if (!key)
                                        r = -ENOMEM;
                                else if (!cmdline_has(c, key, eq ? eq + 1 : NULL))
                                        r = strv_addf(&s.missing_args, "%s", a);
                        }
                        cmdline_free(c);
                }
                for (size_t i = 0; r >= 0 && i < s.vfio.n; i++)
                        if (!on_vfio(sr, s.vfio.v[i]))
                                r = strv_addf(&s.not_on_vfio, "%s", s.vfio.v[i]);
                /* a Looking Glass setup alone asks nothing of the IOMMU */
                s.iommu_off = (s.args_added.n || s.vfio.n) && !iommu_groups_exist(sr);
        }
        if (r < 0) {
                setup_status_done(&s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}
