/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "basic/parse.h"
#include "basic/quote.h"
#include "cli/cli.h"

static const struct verb verbs[] = {
        {"list", 0, 0, OPT_GPUS | OPT_GROUP, verb_list, "",
         "Show the IOMMU groups with their devices and drivers",
         "Prints every IOMMU group as a tree: address, class, name [vendor:device] and the bound\n"
         "driver of each device. Devices without a group (no IOMMU) are listed at the end.\n"
         "\n"
         "  --gpus       only the groups that hold a GPU\n"
         "  --group N    only IOMMU group N\n"},
        {"doctor", 0, 0, OPT_VM, verb_doctor, "",
         "Check what stands between this host and GPU passthrough",
         "Checks CPU virtualization and /dev/kvm, the IOMMU (firmware and kernel), vfio-pci, and\n"
         "for every GPU its IOMMU group, driver, reset method and known quirks, then names the\n"
         "host's layout (single-gpu, igpu-dgpu, dual-dgpu). Every finding comes with a fix.\n"
         "\n"
         "  --vm DOMAIN    also check a libvirt domain: a domain XML file, or the name of one\n"
         "                 libvirt keeps in /etc/libvirt/qemu/ (read directly, libvirt is not asked):\n"
         "                 the q35 machine, UEFI, every function of each passed GPU with one\n"
         "                 managed mode, hostdevs this host has, hugepages it can get, the Looking\n"
         "                 Glass shmem size\n"
         "\n"
         "Exit status: 0 when a GPU can be passed through now (and the domain has no error),\n"
         "1 when not, 2 on error.\n"},
        {"attach", 0, 16, OPT_DRY_RUN | OPT_YES | OPT_WITH_GROUP | OPT_FORCE | OPT_TERMINATE | OPT_VM, verb_attach,
         "[DEVICE...]",
         "Lend a GPU with its companion functions to vfio-pci",
         "Takes the GPU from the host (display manager, consoles, boot framebuffer, drivers and\n"
         "modules) and binds it, its companion functions (HDMI audio, USB-C) and the rest of its\n"
         "IOMMU group to vfio-pci, so a VM can use it.\n"
         "\n"
         "DEVICE is an address (0000:01:00.0 or 01:00.0). Without one: GPU= from the configuration,\n"
         "else the only GPU that drives no display of the host (one on vfio-pci first); on a\n"
         "single-GPU host its GPU, with --yes. Which GPU drives the display is read from connected\n"
         "monitors, the console and DRM masters; the boot GPU counts only when none shows one.\n"
         "A device the host runs on (a mounted file system, swap, the default route) is never lent.\n"
         "\n"
         "Then it makes room for the guest as /etc/gpu-handoff/gpu-handoff.conf asks (see\n"
         "gpu-handoff config): freezes units and stops processes, keeps the host on its\n"
         "housekeeping CPUs, drops caches, compacts memory and reserves hugepages. Release undoes\n"
         "all of it. When the GPU is on vfio-pci already, only that part runs.\n"
         "\n"
         "  --dry-run      print the plan, change nothing\n"
         "  --yes          lend the GPU that drives the host's display (ends the desktop session)\n"
         "  --with-group   also lend the other devices of the IOMMU group (USB, SATA, NIC...)\n"
         "  --force        lend a device that is not a GPU\n"
         "  --terminate    stop the processes that hold the GPU (SIGTERM, then SIGKILL after 5 s)\n"
         "                 instead of refusing and naming them\n"
         "  --vm NAME      also apply the VM's settings in /etc/gpu-handoff/vm.d/NAME.conf\n"
         "\n"
         "The options add to the configuration (SingleGPU=, WithGroup=, Policy=terminate).\n"
         "Every step is journaled in /run/gpu-handoff before it is applied; a failing step rolls\n"
         "back what was done. A hand-over interrupted by a crash is undone by the next attach,\n"
         "release or recover.\n"
         "\n"
         "Exit status: 0 done, 1 refused (the message says why), 2 usage or runtime error,\n"
         "3 a step failed and everything was rolled back, 4 the host needs gpu-handoff recover.\n"},
        {"release", 0, 0, OPT_DRY_RUN | OPT_VM, verb_release, "",
         "Give the lent GPU back to the host",
         "Undoes, in reverse order, every step the last attach journaled: vfio-pci lets go, the\n"
         "host's drivers and modules come back, then the framebuffer, the consoles, the services\n"
         "and the display manager. Nothing lent: says so and exits 0.\n"
         "\n"
         "  --dry-run      print what would be undone, in order, and change nothing\n"
         "  --vm NAME      take the deadlines from /etc/gpu-handoff/vm.d/NAME.conf too\n"
         "\n"
         "Exit status: 0 done, 4 a step could not be undone (fix the cause, then recover).\n"},
        {"status", 0, 0, 0, verb_status, "",
         "Show what is lent, by which transition, and each step's state",
         "Reads the journal in /run/gpu-handoff. Exit status 0, or 4 when an interrupted\n"
         "hand-over needs gpu-handoff recover.\n"},
        {"recover", 0, 0, OPT_DISCARD | OPT_VM, verb_recover, "",
         "Undo what an interrupted attach or release left behind",
         "Reverts every step the journal says may be applied (an attach is rolled back, a release\n"
         "is finished). A GPU that is properly lent is left alone: use release for that.\n"
         "\n"
         "  --discard      drop a damaged journal without touching the host (check the host\n"
         "                 with gpu-handoff list first)\n"
         "  --vm NAME      take the deadlines from /etc/gpu-handoff/vm.d/NAME.conf too\n"},
        {"hook", 1, 4, 0, verb_hook, "VM OP SUBOP [EXTRA] | install | uninstall",
        "libvirt's QEMU hook (libvirt runs it), and putting it in place: install, uninstall",
        "libvirt runs /etc/libvirt/hooks/qemu and every file in /etc/libvirt/hooks/qemu.d/ with the\n"
        "VM's name, the operation, the sub-operation and an extra argument, and the domain XML on\n"
        "stdin. Installed there by hook install (a link to gpu-handoff-hook, a small front that\n"
        "answers the other events itself), gpu-handoff acts on two events:\n"
        "\n"
        "  prepare begin  lends the VM's PCI hostdevs that the host still uses, as attach does,\n"
        "                 with the VM's settings: /etc/gpu-handoff/vm.d/VM.conf, else the domain's\n"
        "                 <memoryBacking><hugepages> and <cputune><vcpupin> (the host keeps the\n"
        "                 other CPUs). managed='yes' hostdevs are bound by libvirt, not the hook;\n"
        "                 without managed= a hostdev is unmanaged (as libvirt reads it). A hostdev\n"
        "                 this host does not have, or a bridge, is left to libvirt.\n"
        "                 Lending the GPU that drives the display needs SingleGPU=yes.\n"
        "  release end    gives back what the hook lent to that VM (and takes from vfio-pci a\n"
        "                 managed hostdev libvirt left there).\n"
        "\n"
        "Every other event, a VM without PCI hostdevs, or hostdevs already on vfio-pci: exit 0 at\n"
        "once, nothing read or changed. It never calls back into libvirt. A failure is rolled back\n"
        "and reported in one line on stderr (virt-manager shows it); every step goes to syslog\n"
        "(journalctl -t gpu-handoff).\n"
        "\n"
        "Exit status: 0, 1 refused (libvirt does not start the VM), 3 rolled back after a failure,\n"
        "4 the host needs gpu-handoff recover.\n"
        "\n"
        "  install        put the hook where the installed libvirt runs it: the link\n"
        "                 /etc/libvirt/hooks/qemu.d/gpu-handoff (libvirt 6.5 and later), else\n"
        "                 /etc/libvirt/hooks/qemu. A hook of yours there is kept, never replaced.\n"
        "                 What it makes is recorded in /var/lib/gpu-handoff/hook-install.\n"
        "  uninstall      remove exactly what install made\n"
        "  --json         what install or uninstall found and did, as a JSON document\n"
        "\n"
        "Exit status of install and uninstall: 0 (also when there is nothing to do), 1 refused\n"
        "(nothing changed; the message says why), 2 error.\n"},
        {"config", 0, 0, OPT_VM, verb_config, "",
         "Show the configuration in effect, and where each value comes from",
         "Reads /etc/gpu-handoff/gpu-handoff.conf and, with --vm NAME, the per-VM overrides in\n"
         "/etc/gpu-handoff/vm.d/NAME.conf, and prints every key of every section with its value,\n"
         "each preceded by a comment that says where the value comes from: \"# default\" or\n"
         "\"# FILE:LINE\". The output is itself a valid configuration file. Every key, its type\n"
         "and default: man gpu-handoff.conf (docs/man/gpu-handoff.conf.5).\n"
         "\n"
         "  --vm NAME      also apply /etc/gpu-handoff/vm.d/NAME.conf, NAME being the libvirt\n"
         "                 domain name (a missing file overrides nothing)\n"
         "  --json         the same as a JSON document (docs/json.md)\n"
         "\n"
         "An unknown key is a warning (the rest of the file applies). A malformed line or value,\n"
         "a key given twice in one file, or a file or directory that anyone but root can change\n"
         "is an error: one line naming the file and line, exit status 2.\n"
         "\n"
         "Exit status: 0, or 2 when the configuration cannot be used.\n"},
        {"xml", 0, 1, OPT_GUEST_BUS | OPT_MANAGED | OPT_ROM | OPT_NVIDIA_LEGACY | OPT_PROXMOX, verb_xml, "[DEVICE]",
         "Print the libvirt <hostdev> elements (or the Proxmox VE line) for a GPU",
         "Prints the <hostdev> elements that give a GPU and its companion functions (HDMI audio,\n"
         "USB-C) to a libvirt domain, as the functions of one multifunction guest slot with the GPU\n"
         "as function 0, after a comment that says what to check. Paste them under <devices> with\n"
         "virsh edit. Nothing on the host changes.\n"
         "\n"
         "DEVICE is the GPU's address or a companion's (0000:01:00.0 or 01:00.0). Without one, the\n"
         "GPU attach would lend: GPU= from the configuration, else the only GPU that drives no\n"
         "display of the host (one on vfio-pci first), else on a single-GPU host its GPU.\n"
         "\n"
         "  --guest-bus N      the guest PCI bus, a pcie-root-port's index: 1 to 255 or 0x01 to\n"
         "                     0xff (default 0x06; check that no other device uses it)\n"
         "  --managed yes|no   no (default): the gpu-handoff hook binds vfio-pci while the VM runs;\n"
         "                     yes: libvirt does, and the hook only frees the GPU from the desktop\n"
         "  --rom FILE         add <rom file='FILE'/> to the GPU (an absolute path)\n"
         "  --nvidia-legacy    also print the <features> NVIDIA drivers before R465 need against\n"
         "                     Code 43: <hyperv><vendor_id/></hyperv> and <kvm><hidden/></kvm>\n"
         "  --proxmox          print the Proxmox VE line instead: hostpci0: with the slot (or its\n"
         "                     functions joined with ;), pcie=1 (needs the q35 machine), x-vga=1\n"
         "                     for a VGA GPU, romfile= for --rom (a file in /usr/share/kvm/);\n"
         "                     with --nvidia-legacy also a cpu: line with hidden=1 and hv-vendor-id\n"
         "  --json             the devices and the text as a JSON document (docs/json.md)\n"
         "\n"
         "Exit status: 0, 1 when the device is not a GPU or cannot be passed through, 2 on a\n"
         "usage error (a malformed address, no such device, a bad option value).\n"},
};

static const struct verb *find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

int cli_error(const char *fmt, ...)
{
        va_list ap;
        fputs("gpu-handoff: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_ERROR;
}

void cli_warning(const char *fmt, ...)
{
        va_list ap;
        fputs("gpu-handoff: warning: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* The database the tool reads unless told otherwise: the installed one, or, for a binary run
 * from its build directory, the source tree's (an installed copy may be missing or older). */
static const char *default_quirks_path(void)
{
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        char *slash;

        if (n <= 0)
                return QUIRKS_PATH;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash && slash != exe) {
                *slash = '\0';
                if (strcmp(exe, BUILD_CLI_DIR) == 0)
                        return SOURCE_QUIRKS_PATH;
        }
        return QUIRKS_PATH;
}

const char *cli_quirks_path(const struct cli *cli)
{
        const char *env = getenv("GPU_HANDOFF_QUIRKS");
        return cli->quirks_path ? cli->quirks_path : env && *env ? env : default_quirks_path();
}

int cli_load_quirks(const struct cli *cli, struct quirk_db **ret)
{
        const char *env = getenv("GPU_HANDOFF_QUIRKS");
        const char *path = cli_quirks_path(cli);
        bool named = cli->quirks_path || (env && *env);
        _cleanup_free_ char *error = NULL;
        int r;

        *ret = NULL;
        r = quirk_db_load(path, ret, &error);
        if (r == -ENOENT && !named) {
                cli_warning("quirks database %s not found; known-bad GPU families are not checked", path);
                return 0;
        }
        if (r < 0) {
                cli_error("%s", error ? error : strerror(-r));
                return r;
        }
        return 0;
}

static void print_usage(FILE *f)
{
        fputs("Usage: gpu-handoff [OPTIONS] VERB [ARGS...]\n"
              "\n"
              "Lends this host's GPU to a KVM/QEMU virtual machine and takes it back.\n"
              "\n"
              "Verbs:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fputs("\n"
              "Options:\n"
              "  --root DIR       read the machine below DIR instead of / (a fake tree for tests;\n"
              "                   also $GPU_HANDOFF_ROOT; an empty DIR is refused)\n"
              "  --json           machine-readable output (versioned schema, \"schema\": 1)\n"
              "  --quirks FILE    GPU quirks database (default " QUIRKS_PATH ";\n"
              "                   run from its build directory, the source tree's data/quirks;\n"
              "                   also $GPU_HANDOFF_QUIRKS)\n"
              "  --pci-ids FILE   PCI ID database for device names (default " PCI_IDS_PATH ";\n"
              "                   also $GPU_HANDOFF_PCI_IDS)\n"
              "  -h, --help       show this help; \"gpu-handoff VERB --help\" explains a verb\n"
              "  --version        show the version\n"
              "\n"
              "Exit status: 0 success, 1 not ready or refused, 2 usage or runtime error,\n"
              "3 rolled back after a failure, 4 the host needs \"gpu-handoff recover\".\n",
              f);
}

static void print_verb_help(const struct verb *v)
{
        printf("Usage: gpu-handoff [OPTIONS] %s%s%s\n\n%s.\n\n%s", v->name, *v->args ? " " : "", v->args, v->summary,
               v->help);
}

enum {
        ARG_ROOT = 0x100,
        ARG_JSON,
        ARG_QUIRKS,
        ARG_PCI_IDS,
        ARG_VERSION,
        ARG_GPUS,
        ARG_GROUP,
        ARG_DRY_RUN,
        ARG_YES,
        ARG_WITH_GROUP,
        ARG_FORCE,
        ARG_DISCARD,
        ARG_TERMINATE,
        ARG_VM,
        ARG_GUEST_BUS,
        ARG_MANAGED,
        ARG_ROM,
        ARG_NVIDIA_LEGACY,
        ARG_PROXMOX,
};

static const struct option options[] = {
        {"root", required_argument, NULL, ARG_ROOT},
        {"json", no_argument, NULL, ARG_JSON},
        {"quirks", required_argument, NULL, ARG_QUIRKS},
        {"pci-ids", required_argument, NULL, ARG_PCI_IDS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, ARG_VERSION},
        {"gpus", no_argument, NULL, ARG_GPUS},
        {"group", required_argument, NULL, ARG_GROUP},
        {"dry-run", no_argument, NULL, ARG_DRY_RUN},
        {"yes", no_argument, NULL, ARG_YES},
        {"with-group", no_argument, NULL, ARG_WITH_GROUP},
        {"force", no_argument, NULL, ARG_FORCE},
        {"discard", no_argument, NULL, ARG_DISCARD},
        {"terminate", no_argument, NULL, ARG_TERMINATE},
        {"vm", required_argument, NULL, ARG_VM},
        {"guest-bus", required_argument, NULL, ARG_GUEST_BUS},
        {"managed", required_argument, NULL, ARG_MANAGED},
        {"rom", required_argument, NULL, ARG_ROM},
        {"nvidia-legacy", no_argument, NULL, ARG_NVIDIA_LEGACY},
        {"proxmox", no_argument, NULL, ARG_PROXMOX},
        {},
};

/* A verb-specific option given to a verb that does not take it. */
static int check_verb_options(const struct verb *v, unsigned given)
{
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {{OPT_GPUS, "--gpus"},       {OPT_GROUP, "--group"},           {OPT_DRY_RUN, "--dry-run"},
                     {OPT_YES, "--yes"},         {OPT_WITH_GROUP, "--with-group"}, {OPT_FORCE, "--force"},
                     {OPT_DISCARD, "--discard"}, {OPT_TERMINATE, "--terminate"}, {OPT_VM, "--vm"},
                     {OPT_GUEST_BUS, "--guest-bus"}, {OPT_MANAGED, "--managed"}, {OPT_ROM, "--rom"},
                     {OPT_NVIDIA_LEGACY, "--nvidia-legacy"}, {OPT_PROXMOX, "--proxmox"}};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if ((given & names[i].bit) && !(v->options & names[i].bit))
                        return cli_error("option %s does not apply to \"%s\" (see gpu-handoff %s --help)",
                                         names[i].name, v->name, v->name);
        return 0;
}

/* Run by libvirt as a hook file: "VM OP SUBOP EXTRA" become "gpu-handoff -- hook VM OP ...",
 * so that a VM name starting with '-' is not taken for an option. */
static char **hook_argv(int argc, char **argv, int *ret_argc)
{
        char **v = calloc((size_t)argc + 3, sizeof(*v));

        if (!v)
                return NULL;
        v[0] = argv[0];
        v[1] = (char *)"--";
        v[2] = (char *)"hook";
        for (int i = 1; i < argc; i++)
                v[i + 2] = argv[i];
        *ret_argc = argc + 2;
        return v;
}

/* gpu-handoff hook VM OP SUBOP [EXTRA], as libvirt's words reach it through a hook script's
 * `gpu-handoff hook "$@"`: those words are never options, whatever the VM is called ("-h",
 * "--root=/tmp"). "hook install --json" and "hook --help" are not such a call. */
static bool is_libvirt_hook_call(int argc, char **argv, int verb)
{
        return strcmp(argv[verb], "hook") == 0 && argc - verb - 1 >= 3 && argv[verb + 2][0] != '-';
}

int main(int argc, char **argv)
{
        struct cli cli = {.group = -1};
        const struct verb *v;
        unsigned given = 0;
        bool help = false;
        char q[QUOTE_BUF], *root_shown;
        int c, r, nargs;

        /* The character set only: what a name may print as (libsmartcols asks). Messages,
         * numbers and sorting stay as in C, so that output does not depend on the user's language. */
        setlocale(LC_CTYPE, "");
        if (invoked_as_hook(argv[0])) {
                argv = hook_argv(argc, argv, &argc); /* lives as long as the process */
                if (!argv)
                        return cli_error("out of memory");
        }
        opterr = 0;
        /* First the options before the verb ("+": stop there); then, unless the verb is a libvirt
         * hook call, all of them again, now in any place (optind = 0 starts getopt over). */
        const char *optstring = "+:h";
        for (;;) {
                c = getopt_long(argc, argv, optstring, options, NULL);
                if (c < 0) {
                        if (optstring[0] != '+' || optind >= argc || is_libvirt_hook_call(argc, argv, optind))
                                break;
                        optstring = ":h";
                        optind = 0;
                        continue;
                }
                switch (c) {
                case ARG_ROOT:
                        cli.root = optarg;
                        break;
                case ARG_JSON:
                        cli.json = true;
                        break;
                case ARG_QUIRKS:
                        cli.quirks_path = optarg;
                        break;
                case ARG_PCI_IDS:
                        cli.pci_ids = optarg;
                        break;
                case 'h':
                        help = true;
                        break;
                case ARG_VERSION:
                        printf("gpu-handoff %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                case ARG_GPUS:
                        cli.gpus_only = true;
                        given |= OPT_GPUS;
                        break;
                case ARG_GROUP: {
                        uint32_t g;
                        if (sysfs_parse_uint(optarg, INT32_MAX, &g) < 0)
                                return cli_error("--group: \"%s\" is not an IOMMU group number (expected 0, 1, 2, ...)",
                                                 quote(optarg, q));
                        cli.group = (int)g;
                        given |= OPT_GROUP;
                        break;
                }
                case ARG_DRY_RUN:
                        cli.dry_run = true;
                        given |= OPT_DRY_RUN;
                        break;
                case ARG_YES:
                        cli.yes = true;
                        given |= OPT_YES;
                        break;
                case ARG_WITH_GROUP:
                        cli.with_group = true;
                        given |= OPT_WITH_GROUP;
                        break;
                case ARG_FORCE:
                        cli.force = true;
                        given |= OPT_FORCE;
                        break;
                case ARG_TERMINATE:
                        cli.terminate = true;
                        given |= OPT_TERMINATE;
                        break;
                case ARG_DISCARD:
                        cli.discard = true;
                        given |= OPT_DISCARD;
                        break;
                case ARG_VM:
                        cli.vm = optarg; /* checked when the configuration is read */
                        given |= OPT_VM;
                        break;
                case ARG_GUEST_BUS: /* xml's values are checked by the verb */
                        cli.guest_bus = optarg;
                        given |= OPT_GUEST_BUS;
                        break;
                case ARG_MANAGED:
                        cli.managed = optarg;
                        given |= OPT_MANAGED;
                        break;
                case ARG_ROM:
                        cli.rom = optarg;
                        given |= OPT_ROM;
                        break;
                case ARG_NVIDIA_LEGACY:
                        cli.nvidia_legacy = true;
                        given |= OPT_NVIDIA_LEGACY;
                        break;
                case ARG_PROXMOX:
                        cli.proxmox = true;
                        given |= OPT_PROXMOX;
                        break;
                case ':':
                        return cli_error("option %s needs a value (see gpu-handoff --help)", quote(argv[optind - 1], q));
                default:
                        return cli_error("unknown option %s (see gpu-handoff --help)", quote(argv[optind - 1], q));
                }
        }
        if (optind >= argc) {
                print_usage(help ? stdout : stderr);
                return help ? EXIT_OK : EXIT_ERROR;
        }
        v = find_verb(argv[optind]);
        if (!v)
                return cli_error("unknown verb \"%s\" (see gpu-handoff --help)", quote(argv[optind], q));
        if (help) {
                print_verb_help(v);
                return EXIT_OK;
        }
        nargs = argc - optind - 1;
        if (nargs < v->min_args || nargs > v->max_args) {
                if (v->max_args == 0)
                        return cli_error("\"%s\" takes no arguments, got \"%s\" (see gpu-handoff %s --help)", v->name,
                                         quote(argv[optind + 1], q), v->name);
                return cli_error("\"%s\" takes %d to %d arguments, got %d (see gpu-handoff %s --help)", v->name,
                                 v->min_args, v->max_args, nargs, v->name);
        }
        if (check_verb_options(v, given))
                return EXIT_ERROR;

        if (cli.root && !*cli.root)
                return cli_error("--root: the path is empty; expected a directory holding the machine's sys/, proc/ "
                                 "and dev/ (leave --root out for this machine)");
        if (!cli.root) {
                const char *env = getenv("GPU_HANDOFF_ROOT");
                /* Set but empty is a script's unset variable, not a wish for this machine. */
                if (env && !*env)
                        return cli_error("GPU_HANDOFF_ROOT is set but empty; expected a directory holding the "
                                         "machine's sys/, proc/ and dev/ (unset it for this machine)");
                cli.root = env ? env : "/";
        }
        r = sysroot_open(cli.root, &cli.sr);
        if (r == -EOPNOTSUPP)
                return cli_error("--root %s: this kernel cannot keep paths inside it (openat2 is missing or blocked by "
                                 "a seccomp filter; Linux 5.6 or later needed), so a fake tree is refused",
                                 quote(cli.root, q));
        if (r < 0)
                return cli_error("--root %s: %s (expected a directory holding the machine's sys/, proc/ and dev/)",
                                 quote(cli.root, q), strerror(-r));
        /* From here on the root is only named in messages: escaped. */
        root_shown = quote_dup(cli.root, SIZE_MAX);
        if (!root_shown) {
                sysroot_free(cli.sr);
                return cli_error("out of memory");
        }
        cli.root = root_shown;
        r = v->run(&cli, nargs, argv + optind + 1);
        sysroot_free(cli.sr);
        free(root_shown);
        if (fflush(stdout) != 0 || ferror(stdout))
                return cli_error("cannot write output: %s", strerror(errno));
        return r;
}
