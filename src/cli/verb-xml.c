/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff xml: the libvirt <hostdev> elements (or the Proxmox VE line) for a GPU and its
 * companions, the same devices attach lends. Reads the host, changes nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "handoff/plan.h"
#include "host/host.h"
#include "libvirt/hostdev-xml.h"
#include "libvirt/looking-glass-xml.h"
#include "setup/looking-glass.h"

#define PCI_CLASS_DISPLAY_VGA 0x0300

/* The options (xml --help), checked by make_spec(); NULL: not given. */
static const char *arg_guest_bus, *arg_managed, *arg_rom, *arg_lg_syntax, *arg_looking_glass;
static bool arg_nvidia_legacy, arg_proxmox;

/* The GPU a named device stands for: itself, or the GPU whose companion it is. */
static int resolve(const struct host *h, const char *name, bool from_config, const struct gpu **ret)
{
        const char *where = from_config ? "GPU= in the configuration: " : "";
        char buf[PCI_ADDR_STRLEN];
        struct pci_device *d;
        struct pci_addr a;

        if (pci_addr_parse_user(name, &a) < 0) {
                cli_error("xml: %s\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F, as gpu-handoff "
                          "list shows)",
                          where, name);
                return EXIT_ERROR;
        }
        d = pci_list_find(h->pci, &a);
        if (!d) {
                cli_error("xml: %sthere is no PCI device %s on this host (gpu-handoff list shows them)", where,
                          pci_addr_format(&a, buf));
                return EXIT_ERROR;
        }
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d || gpu_has_companion(&h->gpus[i], d)) {
                        *ret = &h->gpus[i];
                        return EXIT_OK;
                }
        cli_error("xml: %s%s is neither a GPU nor one of a GPU's functions (gpu-handoff list --gpus shows them)", where,
                  d->address);
        return EXIT_NOT_READY;
}

/* GPU= may name a GPU and its functions: fine while they all stand for one GPU. */
static int resolve_config(const struct host *h, char **names, const struct gpu **ret)
{
        const struct gpu *pick = NULL, *g;
        int r;

        for (; *names; names++) {
                r = resolve(h, *names, true, &g);
                if (r != EXIT_OK)
                        return r;
                if (pick && pick != g) {
                        cli_error("xml: GPU= in the configuration names %s and %s; name the one to print "
                                  "(gpu-handoff xml DEVICE)",
                                  pick->dev->address, g->dev->address);
                        return EXIT_ERROR;
                }
                pick = g;
        }
        *ret = pick;
        return EXIT_OK;
}

static bool in_plan(const struct plan *p, const struct pci_device *d)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i] == d)
                        return true;
        return false;
}

static int parse_guest_bus(const char *s, uint8_t *ret)
{
        uint32_t v;
        int r;

        if (!s) {
                *ret = HOSTDEV_DEFAULT_GUEST_BUS;
                return 0;
        }
        /* libvirt's own reading of the attribute: 0x for hex, else decimal. */
        r = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? sysfs_parse_hex(s, 0xff, &v) : sysfs_parse_uint(s, 0xff, &v);
        if (r < 0 || v == 0 || s[strcspn(s, " \t\n")]) /* the sysfs parsers allow trailing space */
                return -EINVAL;
        *ret = (uint8_t)v;
        return 0;
}

/* The options, checked before the host is read. */
static int make_spec(const struct cli *cli, struct hostdev_spec *s)
{
        const char *problem;

        if (arg_proxmox && (arg_guest_bus || arg_managed))
                return cli_error("xml: --%s does not apply to --proxmox (Proxmox VE places the device and binds "
                                 "vfio-pci itself)",
                                 arg_guest_bus ? "guest-bus" : "managed");
        if (parse_guest_bus(arg_guest_bus, &s->guest_bus) < 0)
                return cli_error("xml: --guest-bus: \"%s\" is not a guest bus (expected 1 to 255, or 0x01 to 0xff; "
                                 "bus 0 is the root bus)",
                                 arg_guest_bus);
        if (arg_managed && strcmp(arg_managed, "yes") != 0 && strcmp(arg_managed, "no") != 0)
                return cli_error("xml: --managed: \"%s\" is neither yes nor no", arg_managed);
        s->managed = arg_managed && strcmp(arg_managed, "yes") == 0;
        /* The value is not echoed: it may hold what a terminal would obey. */
        if (arg_rom && (problem = hostdev_rom_problem(arg_rom, arg_proxmox)))
                return cli_error("xml: --rom: the path %s", problem);
        s->rom = arg_rom;
        s->nvidia_legacy = arg_nvidia_legacy;
        return EXIT_OK;
}

/* The GPU, then its companions, in address order. */
static void fill_functions(const struct host *h, const struct gpu *g, const struct plan *p, struct hostdev_spec *s)
{
        size_t in_slot = 0;

        s->host[s->n_functions++] = g->dev->addr;
        for (size_t i = 0; i < g->n_companions && s->n_functions < HOSTDEV_MAX_FUNCTIONS; i++)
                if (in_plan(p, g->companions[i]))
                        s->host[s->n_functions++] = g->companions[i]->addr;
        for (size_t i = 0; i < h->pci->n_devices; i++)
                in_slot += pci_addr_same_slot(&h->pci->devices[i].addr, &g->dev->addr);
        s->whole_slot = in_slot == s->n_functions;
        s->vga = !(g->dev->problems & PCI_PROBLEM_CLASS) && pci_sub_class(g->dev) == PCI_CLASS_DISPLAY_VGA;
}

static bool is_function(const struct hostdev_spec *s, const struct pci_device *d)
{
        for (size_t i = 0; i < s->n_functions; i++)
                if (pci_addr_compare(&s->host[i], &d->addr) == 0)
                        return true;
        return false;
}

/* The rest of the group goes to vfio-pci too, or QEMU cannot open it, but not into the domain. */
static void warn_group(const struct gpu *g, const struct plan *p, const struct hostdev_spec *s)
{
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);

        if (!f)
                return;
        for (size_t i = 0; i < p->n_devices; i++)
                if (!is_function(s, p->devices[i]))
                        fprintf(f, "%s%s", ftell(f) ? ", " : "", p->devices[i]->address);
        if (fclose(f) == 0 && list && *list)
                cli_warning("IOMMU group %d of %s also holds %s: they must be on vfio-pci too while the VM runs "
                            "(attach --with-group, or WithGroup=yes), but stay out of the domain",
                            g->dev->iommu_group, g->dev->address, list);
}

static int print_json(const struct cli *cli, const struct gpu *g, const struct hostdev_spec *s, const char *text)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *functions = json_object_new_array();
        char buf[PCI_ADDR_STRLEN];

        if (!doc || !functions) {
                json_object_put(functions);
                return -ENOMEM;
        }
        json_object_object_add(doc, "format", json_object_new_string(arg_proxmox ? "proxmox" : "libvirt"));
        json_object_object_add(doc, "gpu", json_object_new_string(g->dev->address));
        json_object_object_add(doc, "functions", functions);
        for (size_t i = 0; i < s->n_functions; i++) {
                struct pci_addr guest = {.bus = s->guest_bus, .func = (uint8_t)i};
                json_object *o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "host", json_object_new_string(pci_addr_format(&s->host[i], buf)));
                json_object_object_add(o, "guest",
                                       arg_proxmox ? NULL : json_object_new_string(pci_addr_format(&guest, buf)));
                json_object_array_add(functions, o);
        }
        json_object_object_add(doc, "managed", arg_proxmox ? NULL : json_object_new_boolean(s->managed));
        json_object_object_add(doc, "rom", json_string_or_null(s->rom));
        json_object_object_add(doc, "nvidia_legacy", json_object_new_boolean(s->nvidia_legacy));
        json_object_object_add(doc, "text", json_object_new_string(text));
        return json_print(doc);
}

/* SIZE for --looking-glass: MiB (a power of two, "64" or "64M"), or a resolution ("auto" is
 * handled by the caller). */
static int lg_size_parse(const char *s, uint32_t *ret)
{
        _cleanup_free_ char *error = NULL;
        struct lg_mode m;
        char *end = NULL;
        unsigned long v;

        if (s[0] >= '0' && s[0] <= '9' && !strpbrk(s, "xX")) {
                v = strtoul(s, &end, 10);
                if ((strcmp(end, "") != 0 && strcmp(end, "M") != 0 && strcmp(end, "MiB") != 0) || v == 0 ||
                    v > LG_SIZE_MAX_MIB || (v & (v - 1)))
                        return cli_error("xml: --looking-glass %s: expected a size in MiB that is a power of two "
                                         "(32, 64, 128...) or a resolution (2560x1440, 3840x2160@hdr)",
                                         s);
                *ret = (uint32_t)v;
                return EXIT_OK;
        }
        if (lg_mode_parse(s, &m, &error) < 0)
                return cli_error("xml: --looking-glass %s", error ?: "out of memory");
        *ret = lg_size_mib(&m, LG_VERSION_CURRENT);
        return *ret ? EXIT_OK : cli_error("xml: --looking-glass %s: larger than any size kvmfr takes", s);
}

/* xml --looking-glass [SIZE]: the <qemu:commandline> block, or the <shmem> one. */
static int verb_xml_looking_glass(struct cli *cli, int argc, char **argv)
{
        _cleanup_free_ char *text = NULL;
        struct lg_setup_state st;
        struct lg_versions v;
        enum lg_xml_syntax syntax;
        uint32_t size;
        int r;

        if (arg_guest_bus || arg_managed || arg_rom || arg_nvidia_legacy || arg_proxmox)
                return cli_error("xml: --looking-glass prints the Looking Glass block alone; --guest-bus, "
                                 "--managed, --rom, --nvidia-legacy and --proxmox are for the GPU's");
        lg_versions_find(cli->sr, &v);
        if (arg_lg_syntax) {
                r = lg_xml_syntax_from_string(arg_lg_syntax);
                if (r < 0)
                        return cli_error("xml: --lg-syntax %s: expected json, legacy or shm", arg_lg_syntax);
                syntax = r;
        } else
                syntax = lg_xml_syntax_for(&v);
        looking_glass_state_read(cli->sr, &st);
        if (argc > 0)
                return cli_error("xml: --looking-glass prints the Looking Glass block alone, for no device");
        if (strcmp(arg_looking_glass, "auto") != 0) {
                r = lg_size_parse(arg_looking_glass, &size);
                if (r != EXIT_OK)
                        return r;
        } else
                size = st.size_mib ? st.size_mib : LG_DEFAULT_MIB;
        if (st.size_mib && st.size_mib != size && syntax != LG_XML_SHM)
                cli_warning("kvmfr is set up with %" PRIu32 " MiB (%s): the domain's size must be the same",
                            st.size_mib, LG_MODPROBE_PATH);
        r = lg_xml_format(syntax, size, &v, &text);
        if (r < 0)
                return cli_error("xml: cannot format the text: %s", strerror(-r));
        if (cli->json) {
                _cleanup_json_ json_object *doc = json_new_document();
                if (!doc)
                        return cli_error("out of memory");
                json_object_object_add(doc, "format", json_object_new_string("looking-glass"));
                json_object_object_add(doc, "syntax", json_object_new_string(lg_xml_syntax_to_string(syntax)));
                json_object_object_add(doc, "size_mib", json_object_new_int64(size));
                json_object_object_add(doc, "text", json_object_new_string(text));
                return json_print(doc) < 0 ? cli_error("cannot print the document") : EXIT_OK;
        }
        fputs(text, stdout);
        return EXIT_OK;
}

static int verb_xml(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL;
        /* Only which devices attach would lend matters here: the display and a shared group
         * are the hook's business when the VM starts, not a reason to refuse the text. */
        const struct plan_options opts = {.yes = true, .with_group = true};
        const struct gpu *g = NULL;
        struct hostdev_spec s = {0};
        bool elsewhere;
        int r;

        if (arg_looking_glass)
                return verb_xml_looking_glass(cli, argc, argv);
        if (arg_lg_syntax)
                return cli_error("xml: --lg-syntax needs --looking-glass");
        r = make_spec(cli, &s);
        if (r != EXIT_OK)
                return r;
        if (cli_load_config(cli, &c) != EXIT_OK)
                return EXIT_ERROR;
        if (cli_load_quirks(cli, &quirks) < 0) /* which functions are the card's (Intel Arc's audio) */
                return EXIT_ERROR;
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                return cli_error("cannot read the host below %s: %s", cli->root, strerror(-r));
        if (argc == 1)
                r = resolve(h, argv[0], false, &g);
        else if (c->gpus && c->gpus[0])
                r = resolve_config(h, c->gpus, &g);
        if (r != EXIT_OK)
                return r;
        r = plan_attach(h, g ? (char *const[]){g->dev->address} : NULL, g ? 1 : 0, &opts, &p, &error);
        if (r < 0)
                return cli_plan_failed("xml", r, error);
        if (!g && !(g = p->gpu)) /* without a name, attach's own choice */
                return cli_error("xml: attach would lend no GPU on this host (gpu-handoff attach --dry-run shows why)");
        fill_functions(h, g, p, &s);
        r = arg_proxmox ? hostdev_format_proxmox(&s, &text) : hostdev_format_xml(&s, &text);
        if (r < 0)
                return cli_error("xml: cannot format the text: %s", strerror(-r));
        warn_group(g, p, &s);
        if (arg_proxmox && s.rom && hostdev_proxmox_romfile(s.rom, &elsewhere) && elsewhere)
                cli_warning("Proxmox VE reads romfile= from " HOSTDEV_PROXMOX_ROM_DIR ": copy %s there", s.rom);
        if (cli->json) {
                r = print_json(cli, g, &s, text);
                if (r < 0)
                        return cli_error("cannot print the document: %s", strerror(-r));
        } else
                fputs(text, stdout);
        return EXIT_OK;
}

const struct verb xml_verb = {
        .name = "xml",
        .args = "[DEVICE]",
        .max_args = 1,
        .run = verb_xml,
        .summary = "Print the libvirt <hostdev> elements (or the Proxmox VE line) for a GPU",
        .description =
                "Prints the <hostdev> elements that give a GPU and its companion functions (HDMI audio,\n"
                "USB-C) to a libvirt domain, as the functions of one multifunction guest slot with the GPU\n"
                "as function 0, after a comment that says what to check. Paste them under <devices> with\n"
                "virsh edit. Nothing on the host changes.\n"
                "\n"
                "DEVICE is the GPU's address or a companion's (0000:01:00.0 or 01:00.0). Without one, the\n"
                "GPU attach would lend: GPU= from the configuration, else the only GPU that drives no\n"
                "display of the host (one on vfio-pci first), else on a single-GPU host its GPU.\n"
                "\n"
                "With --looking-glass it prints Looking Glass's block instead: the <qemu:commandline> that\n"
                "gives the guest kvmfr's /dev/kvmfr0, with the xmlns:qemu namespace libvirt needs on <domain>\n"
                "(the JSON syntax for QEMU 6.2 and libvirt 7.9 and later, found on the host; the legacy one\n"
                "before), or with --lg-syntax shm the <shmem> element of the /dev/shm method. SIZE is MiB (a\n"
                "power of two), a resolution (2560x1440, 3840x2160@hdr), or auto: the size setup\n"
                "--looking-glass gave kvmfr, else 64 MiB.\n",
        .options = (const struct verb_option[]){
                {"guest-bus", "N",
                 "the guest PCI bus, a pcie-root-port's index: 1 to 255 or 0x01 to\n"
                 "0xff (default 0x06; check that no other device uses it)",
                 .string = &arg_guest_bus},
                {"managed", "yes|no",
                 "no (default): the gpu-handoff hook binds vfio-pci while the VM runs;\n"
                 "yes: libvirt does, and the hook only frees the GPU from the desktop",
                 .string = &arg_managed},
                {"rom", "FILE", "add <rom file='FILE'/> to the GPU (an absolute path)", .string = &arg_rom},
                {"nvidia-legacy",
                 .help = "also print the <features> NVIDIA drivers before R465 need against\n"
                         "Code 43: <hyperv><vendor_id/></hyperv> and <kvm><hidden/></kvm>",
                 .flag = &arg_nvidia_legacy},
                {"proxmox",
                 .help = "print the Proxmox VE line instead: hostpci0: with the slot (or its\n"
                         "functions joined with ;), pcie=1 (needs the q35 machine), x-vga=1\n"
                         "for a VGA GPU, romfile= for --rom (a file in /usr/share/kvm/);\n"
                         "with --nvidia-legacy also a cpu: line with hidden=1 and hv-vendor-id",
                 .flag = &arg_proxmox},
                {"looking-glass", "SIZE",
                 "print Looking Glass's <qemu:commandline> block (kvmfr) instead: SIZE\n"
                 "in MiB, a resolution (WxH[@hdr]), or auto",
                 .string = &arg_looking_glass},
                {"lg-syntax", "json|legacy|shm",
                 "with --looking-glass: QEMU's JSON -device/-object syntax, the legacy\n"
                 "key=value one, or the /dev/shm <shmem> element (default: from the\n"
                 "QEMU and libvirt versions found)",
                 .string = &arg_lg_syntax},
                {"json", .help = "the devices and the text as a JSON document (docs/json.md)"},
                {},
        },
        .column = 21,
        .epilog = "Exit status: 0, 1 when the device is not a GPU or cannot be passed through, 2 on a\n"
                  "usage error (a malformed address, no such device, a bad option value).\n",
};
