/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Installing the libvirt hook: which libvirt is there (read from its library's file name, nothing
 * is run), where it runs QEMU hooks (every executable in /etc/libvirt/hooks/qemu.d/ since 6.5.0,
 * else only /etc/libvirt/hooks/qemu), what is there already, putting a link to gpu-handoff there
 * without touching anything that is not ours, taking exactly that away again, and the installed
 * state as data (hook_status; doctor/hook.c judges it).
 *
 * Install is a transaction of file steps on the core (src/change: make-dir for the directories
 * it makes, a link for the hook, replacing a stale link of ours), under a journal of its own in
 * /var/lib/gpu-handoff/hook/, so that a failure or a crash at any point is undone, and uninstall
 * is that transaction's undo: our link while it still points at a gpu-handoff, the directories
 * install made while they are empty, never anything else. A link of ours found without a journal
 * (an install by an older version) is removed too.
 *
 * Everything goes through the sysroot, directory by directory with O_NOFOLLOW: a hooks
 * directory that is a symlink is refused, not followed. Library code: never prints, never
 * exits; 0 or -errno, with one malloc'd line in *ret_error where there is more to say.
 * hook_refused() tells a refusal (nothing was changed, the message says why: exit 1) from an
 * error (I/O, permissions: exit 2). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "basic/macro.h"
#include "basic/sysroot.h"
#include "change/journal.h"


#define HOOK_STATE_DIR_PATH "/var/lib/gpu-handoff"
/* The install's journal: its directory below the root, and the file as on the host. */
#define HOOK_JOURNAL_DIR "var/lib/gpu-handoff/hook"
#define HOOK_JOURNAL_PATH "/var/lib/gpu-handoff/hook/journal"
#define HOOK_DIR_PATH "/etc/libvirt/hooks"
#define HOOK_QEMU_D_PATH "/etc/libvirt/hooks/qemu.d"
#define HOOK_LINK_PATH "/etc/libvirt/hooks/qemu.d/gpu-handoff"
#define HOOK_QEMU_PATH "/etc/libvirt/hooks/qemu"

struct libvirt_version {
        unsigned major, minor, micro;
};

/* The installed libvirt, from usr/lib/TRIPLET/, usr/lib64/ or usr/lib/libvirt.so.0.N.M, where
 * N is MAJOR * 1000 + MINOR and M is MICRO (libvirt.so.0.9000.0 is 9.0.0); the newest when there
 * are several. -ENOPKG when there is none. */
int libvirt_version_find(const struct sysroot *sr, struct libvirt_version *ret);
/* libvirt 6.5.0 and later also run every executable in hooks/qemu.d/. */
bool libvirt_runs_hook_dir(const struct libvirt_version *v);

enum hook_file_kind {
        HOOK_FILE_NONE,       /* not there */
        HOOK_FILE_OURS,       /* a symlink to an executable gpu-handoff or gpu-handoff-hook */
        HOOK_FILE_OURS_STALE, /* a symlink to a gpu-handoff that is gone (or not executable) */
        HOOK_FILE_CHAINS,     /* a script with a line that runs gpu-handoff */
        HOOK_FILE_DISPATCHER, /* a VFIO-Tools style script: runs qemu.d/$GUEST_NAME/$HOOK/$STATE */
        HOOK_FILE_SCRIPT,     /* any other file */
        HOOK_FILE_OTHER,      /* not a file: a directory, a fifo, a dangling foreign symlink... */
};

const char *hook_file_kind_to_string(enum hook_file_kind k);

/* What is there now. Paths in messages are as on the host ("/etc/libvirt/hooks/qemu"). */
struct hook_status {
        bool libvirt;                   /* a libvirt library was found */
        struct libvirt_version version;
        bool hook_dir;                  /* libvirt runs qemu.d/ (>= 6.5.0) */
        bool hooks_exists, qemu_d_exists;
        enum hook_file_kind qemu;       /* hooks/qemu */
        bool qemu_executable;
        unsigned chain_line;            /* HOOK_FILE_CHAINS: the line that runs gpu-handoff */
        enum hook_file_kind link;       /* hooks/qemu.d/gpu-handoff: NONE, OURS, OURS_STALE, or foreign */
        bool link_executable;
        char *qemu_target;              /* hooks/qemu's target when it is a symlink */
        char *link_target;              /* hooks/qemu.d/gpu-handoff's target when it is a symlink */
        char **others;                  /* other executables in qemu.d/ (libvirt runs them too) */
        size_t n_others;
        char **vm_dirs;                 /* directories in qemu.d/ (per-VM scripts of a dispatcher) */
        size_t n_vm_dirs;
        bool vm_scripts;                /* one of them has prepare/begin or release/end scripts */
        bool fires;                     /* libvirt runs gpu-handoff when a VM starts */
        /* The running daemon that has the QEMU driver, if any. */
        char daemon[16];                /* "libvirtd", "virtqemud"; "" when none runs */
        pid_t daemon_pid;
        bool daemon_saw_hook;           /* libvirt found a QEMU hook when the daemon started (or cannot tell) */
        bool record;                    /* an install journal exists (HOOK_JOURNAL_PATH) */
};

void hook_status_free(struct hook_status *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hook_status *, hook_status_free)

/* Reads what is there (no libvirt: libvirt false, the rest as found). -ELOOP, -ENOTDIR: a hooks
 * directory is a symlink or not a directory (refused, *ret_error says which). */
int hook_status_read(const struct sysroot *sr, struct hook_status **ret, char **ret_error);

enum hook_outcome {
        HOOK_INSTALLED,         /* the link was made */
        HOOK_REPAIRED,          /* a link of ours that pointed at a missing binary points at it again */
        HOOK_ALREADY_INSTALLED, /* nothing to do */
        HOOK_UNINSTALLED,       /* something of ours was removed */
        HOOK_NOT_INSTALLED,     /* uninstall: nothing of ours was there */
};

const char *hook_outcome_to_string(enum hook_outcome o);

enum hook_change_kind {
        HOOK_CHANGE_CREATED,  /* a directory */
        HOOK_CHANGE_LINKED,   /* the hook link, -> target */
        HOOK_CHANGE_RELINKED, /* the hook link, -> target; why: the old target */
        HOOK_CHANGE_RECORDED, /* the journal was written */
        HOOK_CHANGE_REMOVED,  /* a link, a directory, the journal */
        HOOK_CHANGE_KEPT,     /* left in place; why says why */
};

const char *hook_change_kind_to_string(enum hook_change_kind k);

struct hook_change {
        enum hook_change_kind kind;
        const char *path; /* static: one of the paths above */
        char *target;
        char *why;
};

struct hook_report {
        enum hook_outcome outcome;
        struct hook_status *before; /* what was found */
        const char *hook;           /* the hook's path (static), or NULL */
        char *target;               /* what it points at, or NULL (a chaining script) */
        struct hook_change *changes;
        size_t n_changes;
        bool restart;               /* the running daemon must be restarted to see the hook */
};

void hook_report_free(struct hook_report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hook_report *, hook_report_free)

/* Installs a link to hook_target(binary) where the installed libvirt runs it; binary is the
 * installed gpu-handoff, an absolute path ending in "/gpu-handoff" that must exist below the
 * root and be executable. Refusals (nothing changed):
 * -ENOPKG no libvirt, -ENOEXEC binary missing, -EEXIST something not ours is where the hook
 * would go (with libvirt < 6.5, a hooks/qemu of the user's: *ret_error then holds the line to
 * add to it), -ELOOP/-ENOTDIR a hooks directory that is a symlink or no directory, -EBADMSG a
 * journal that cannot be trusted (journal.h). A failure halfway undoes what was done; a journal
 * that a killed install or uninstall left is undone first. */
int hook_install(const struct sysroot *sr, const char *binary, struct hook_report **ret, char **ret_error);
/* Undoes the install's journal (without one: a link of ours in either place is removed).
 * Nothing of ours: HOOK_NOT_INSTALLED. Refusals as above (-ELOOP, -ENOTDIR, -EBADMSG). */
int hook_uninstall(const struct sysroot *sr, struct hook_report **ret, char **ret_error);

bool hook_refused(int r);

/* Where the install's journal lives and its words: installed, rolled-back, uninstalled. */
extern const struct journal_spec hook_journal;

/* What the hook links to: gpu-handoff-hook next to binary when it is installed (a front that
 * answers the events gpu-handoff ignores without loading its libraries), else binary. */
char *hook_target(const struct sysroot *sr, const char *binary);
/* Whether binary is an executable file under the root (a hook link to it would run). */
bool hook_binary_runs(const struct sysroot *sr, const char *binary);
/* The line a hooks/qemu script of the user's needs to run gpu-handoff too (malloc'd). */
char *hook_chain_line(const struct sysroot *sr, const char *binary);
