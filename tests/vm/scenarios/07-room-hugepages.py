# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 07-room-hugepages: the 2 MiB hugepage pool grown by attach to what the
VM's configuration asks for, shrunk back by release to exactly what it was, and a shortfall
rolled back with a message that names what was obtained and what was needed."""

import re

NEED = 128         # vm.d/hp.conf: Hugepages=256M
NEED_HUGE = 1024   # vm.d/huge.conf: Hugepages=2G
GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def pool(t, name):
    """{key: int} of block pool-NAME, or None."""
    b = t.block(f"pool-{name}")
    if b is None:
        return None
    out = {}
    for ln in b.lines:
        k, sep, v = ln.partition("=")
        if sep and v.strip().isdigit():
            out[k] = int(v)
    if not t.expect("nr" in out and "free" in out, f"pool-{name}: no nr/free counters: {b.text!r}"):
        return None
    return out


def steps_of(doc, kind):
    return [s for s in doc.get("steps", []) if s.get("kind") == kind]


def check_attached(t, what, doc, before, after, need):
    """attach --json went through, with a hugepages step that took the pool from before to
    before + (need - free) pages."""
    target = before["nr"] + max(0, need - before["free"])
    t.equal(f"{what}: ok", doc.get("ok"), True)
    t.expect(all(s.get("state") in ("done", "skipped") for s in doc.get("steps", [])),
             f"{what}: steps not all done: {[(s.get('kind'), s.get('state')) for s in doc.get('steps', [])]}")
    hp = steps_of(doc, "hugepages")
    if t.equal(f"{what}: hugepages steps", len(hp), 1):
        t.equal(f"{what}: hugepages args", hp[0].get("args"),
                ["2048", "all", str(before["nr"]), str(target), "compact"])
        t.equal(f"{what}: hugepages state", hp[0].get("state"), "done")
    t.equal(f"{what}: compact-memory state", [s.get("state") for s in steps_of(doc, "compact-memory")], ["done"])
    kinds = [s.get("kind") for s in doc.get("steps", [])]
    t.expect("bind-vfio" in kinds and "compact-memory" in kinds and "hugepages" in kinds and
             kinds.index("compact-memory") < kinds.index("hugepages"),
             f"{what}: no GPU steps, or the hugepages step does not come after compact-memory: {kinds}")
    if after is not None:
        t.equal(f"{what}: nr_hugepages after attach (before {before['nr']}, {before['free']} free)",
                after["nr"], target)
        t.expect(after["free"] >= need, f"{what}: only {after['free']} free pages after attach, the guest needs {need}")
        t.equal(f"{what}: HugePages_Total in /proc/meminfo", after.get("HugePages_Total"), target)
    return hp[0] if hp else {}


def check_released(t, what, doc, before, released):
    t.equal(f"{what}: ok", doc.get("ok"), True)
    hp = steps_of(doc, "hugepages")
    t.equal(f"{what}: hugepages step", [s.get("state") for s in hp], ["reverted"])
    if released is not None:
        t.equal(f"{what}: nr_hugepages after release (before attach: {before['nr']})", released["nr"], before["nr"])
        t.equal(f"{what}: free_hugepages after release", released["free"], before["free"])
        t.equal(f"{what}: HugePages_Total after release", released.get("HugePages_Total"), before.get("HugePages_Total"))


def check(t):
    # the configuration as the tool reads it: vm.d/hp.conf overrides the main file
    doc = t.json("config-hp")
    if doc is not None:
        t.equal("config --vm hp: vm", doc.get("vm"), "hp")
        t.equal("config --vm hp: files", doc.get("files"),
                ["/etc/gpu-handoff/gpu-handoff.conf", "/etc/gpu-handoff/vm.d/hp.conf"])
        hp = [s for s in doc.get("settings", []) if (s.get("section"), s.get("key")) == ("Memory", "Hugepages")]
        if t.equal("config --vm hp: one Memory/Hugepages setting", len(hp), 1):
            t.equal("config --vm hp: Hugepages", hp[0].get("value"), "256M")
            t.equal("config --vm hp: Hugepages origin", hp[0].get("origin"),
                    {"file": "/etc/gpu-handoff/vm.d/hp.conf", "line": 3})

    # 1. an empty pool
    before = pool(t, "before-1")
    if before is not None:
        t.equal("round 1: the pool before attach", (before["nr"], before["free"]), (0, 0))
    plan = t.json("plan-hp")
    if plan is not None and before is not None:
        hp = [s for s in plan.get("steps", []) if s.get("kind") == "hugepages"]
        t.equal("attach --dry-run --vm hp: hugepages step args", [s.get("args") for s in hp],
                [["2048", "all", "0", str(NEED), "compact"]])
        t.equal("attach --dry-run --vm hp: skipped", [s.get("skipped") for s in hp], [None])
        t.expect(any(s.get("kind") == "compact-memory" for s in plan.get("steps", [])),
                 "attach --dry-run --vm hp: no compact-memory step (Compact=auto, hugepages asked for)")
    after = pool(t, "attached-1")
    doc = t.json("attach-1")
    notes = []
    if doc is not None and before is not None:
        s = check_attached(t, "round 1: attach --vm hp", doc, before, after, NEED)
        if after is not None:
            notes.append(f"pool {before['nr']} -> {after['nr']} pages in {s.get('ms', 0):.1f} ms")
    doc = t.json("release-1")
    released = pool(t, "released-1")
    if doc is not None and before is not None:
        check_released(t, "round 1: release", doc, before, released)
        if released is not None:
            notes.append(f"back to {released['nr']}")

    # 2. 16 pages, 8 in use
    before = pool(t, "before-2")
    if before is not None:
        t.equal("round 2: the preset pool (nr, free)", (before["nr"], before["free"]), (16, 8))
    plan = t.json("plan-2")
    if plan is not None:
        t.equal("round 2: attach --dry-run hugepages args",
                [s.get("args") for s in plan.get("steps", []) if s.get("kind") == "hugepages"],
                [["2048", "all", "16", str(16 + NEED - 8), "compact"]])
    after = pool(t, "attached-2")
    doc = t.json("attach-2")
    if doc is not None and before is not None:
        s = check_attached(t, "round 2: attach --vm hp", doc, before, after, NEED)
        if after is not None:
            t.equal("round 2: pages in use stay in use", after["nr"] - after["free"], 8)
            notes.append(f"preset pool {before['nr']} ({before['free']} free) -> {after['nr']} pages "
                         f"in {s.get('ms', 0):.1f} ms")
    doc = t.json("release-2")
    released = pool(t, "released-2")
    if doc is not None and before is not None:
        check_released(t, "round 2: release", doc, before, released)
        if released is not None:
            notes.append(f"back to {released['nr']} ({released['free']} free)")

    # 3. the shortfall
    before = pool(t, "before-3")
    doc = t.json("attach-short", rcs=(3,))
    after = pool(t, "after-short")
    if doc is not None and before is not None:
        want = before["nr"] + NEED_HUGE - before["free"] - before["nr"]  # pages to add
        t.equal("shortfall: ok", doc.get("ok"), False)
        t.equal("shortfall: host_intact", doc.get("host_intact"), True)
        steps = doc.get("steps", [])
        failed = next((s for s in steps if s.get("index") == doc.get("failed_step")), {}) if doc.get("failed_step") else {}
        t.equal("shortfall: failed step", failed.get("kind"), "hugepages")
        t.equal("shortfall: failed step state", failed.get("state"), "failed")
        t.equal("shortfall: hugepages args", failed.get("args"),
                ["2048", "all", str(before["nr"]), str(before["nr"] + want), "compact"])
        bad = [(s.get("kind"), s.get("state")) for s in steps
               if s is not failed and s.get("state") not in ("reverted", "skipped")]
        t.equal("shortfall: steps not rolled back", bad, [])
        t.expect(any(s.get("kind") == "bind-vfio" and s.get("state") == "reverted" for s in steps),
                 "shortfall: the GPU's steps were not done and reverted")
        msg = failed.get("message") or ""
        m = re.search(r"the kernel gave (\d+) of the (\d+) 2 MiB hugepages", msg)
        if t.expect(m is not None, f"shortfall: the message does not say what the kernel gave: {msg!r}"):
            got, need = int(m.group(1)), int(m.group(2))
            t.equal("shortfall: pages needed in the message", need, want)
            t.expect(0 < got < need, f"shortfall: the kernel gave {got} of {need}?")
            t.expect("after compacting memory" in msg, f"shortfall: no compaction before giving up: {msg!r}")
            mem_pages = (before.get("MemTotal", 0) // 2048)
            t.expect(got < mem_pages, f"shortfall: {got} pages obtained in a guest of {mem_pages} pages of memory?")
            notes.append(f"shortfall: {msg} ({failed.get('ms', 0):.0f} ms, rolled back)")
        if after is not None:
            t.equal("shortfall: nr_hugepages after the rollback", after["nr"], before["nr"])
            t.equal("shortfall: free_hugepages after the rollback", after["free"], before["free"])
    b = t.block("attach-short-human")
    after = pool(t, "after-short-human")
    if b is not None:
        t.equal("shortfall (human): exit status", b.rc, 3)
        err = t.log.blocks.get("attach-short-human.stderr")
        text = b.text + (err.text if err else "")
        t.expect(re.search(r"the kernel gave \d+ of the \d+ 2 MiB hugepages", text) is not None,
                 f"shortfall (human): the message is not shown: {text!r}")
        if after is not None and before is not None:
            t.equal("shortfall (human): nr_hugepages after the rollback", after["nr"], before["nr"])
    if notes:
        t.log.notes.append("hugepages: " + "; ".join(notes))
