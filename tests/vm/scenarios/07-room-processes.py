# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 07-room-processes: processes named in [Freeze] Processes= stopped
(SIGSTOP) while the GPU is lent and continued by release, by recover after a SIGKILLed attach
(after all the stop-process steps, and in the middle of them), and by an attach that recovers by
itself; a process someone else had stopped is left alone."""

import re

NP = 32  # A1..A32; C was stopped before


def procs(t, name):
    """{A1..A32, C: (pid, state, comm)} from block procs-NAME."""
    b = t.block(f"procs-{name}")
    if b is None:
        return None
    out = {}
    for ln in b.lines:
        f = ln.split()
        if len(f) >= 3 and re.fullmatch(r"A\d+|C", f[0]):
            out[f[0]] = (f[1], f[2], f[3] if len(f) > 3 else "")
    want = {f"A{i}" for i in range(1, NP + 1)} | {"C"}
    if not t.expect(set(out) == want, f"procs-{name}: not the {NP + 1} processes: {b.text!r}"):
        return None
    return out


def summary(p):
    """(states of A1..A32 as a sorted count, C's state), e.g. ({"S": 32}, "T")."""
    count = {}
    for k, v in p.items():
        if k != "C":
            count[v[1]] = count.get(v[1], 0) + 1
    return count, p["C"][1]


def check_states(t, what, name, sleepers):
    """All of A1..A32 in state sleepers, C stopped."""
    p = procs(t, name)
    if p is not None:
        t.equal(f"{what}: states of A1..A{NP} and of C (stopped before attach)", summary(p), ({sleepers: NP}, "T"))
    return p


def stop_steps(doc):
    return [s for s in doc.get("steps", []) if s.get("kind") == "stop-process"]


def killed(t):
    out = {}
    for ln in t.log.lines:
        m = re.match(r"^INFO killed (\S+) try=(\d+) rc=(\d+) last=(.*)$", ln)
        if m:
            out[m.group(1)] = m.group(4).replace("_", " ")
    return out


def check_recover(t, what, doc, n_steps=NP):
    t.equal(f"{what}: ok", doc.get("ok"), True)
    t.equal(f"{what}: host_intact", doc.get("host_intact"), True)
    stops = stop_steps(doc)
    t.equal(f"{what}: stop-process steps in the journal", len(stops), n_steps)
    t.equal(f"{what}: stop-process steps not reverted", [s.get("args") for s in stops if s.get("state") != "reverted"], [])


def check(t):
    before = procs(t, "before")
    if before is None:
        return
    t.equal("before: states", summary(before), ({"S": NP}, "T"))
    t.equal("before: comm", {v[2] for v in before.values()}, {"heavyproc"})
    pids = {k: v[0] for k, v in before.items()}
    sleepers = sorted(v for k, v in pids.items() if k != "C")

    plan = t.json("plan")
    if plan is not None:
        args = [s.get("args") or [] for s in stop_steps(plan)]
        t.equal("attach --dry-run: stop-process pids (A1..A32, not C)", sorted(a[0] for a in args if a), sleepers)
        t.equal("attach --dry-run: stop-process comm", {tuple(a[2:3]) for a in args}, {("heavyproc",)})
        t.expect(all(len(a) >= 2 and re.fullmatch(r"\d+", a[1]) for a in args),
                 f"attach --dry-run: stop-process without a start time: {args}")
        kinds = [s.get("kind") for s in plan.get("steps", [])]
        t.expect("drop-caches" in kinds and kinds.index("drop-caches") > max(
            (i for i, k in enumerate(kinds) if k == "stop-process"), default=len(kinds)),
            f"attach --dry-run: drop-caches not after the stop-process steps: {kinds}")

    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)
        t.equal("attach: stop-process steps", [s.get("state") for s in stop_steps(doc)], ["done"] * NP)
        t.expect(all(s.get("state") in ("done", "skipped") for s in doc.get("steps", [])),
                 f"attach: steps not all done: {[(s.get('kind'), s.get('state')) for s in doc.get('steps', [])]}")
        ms = [s["ms"] for s in stop_steps(doc)]
        others = ", ".join(f"{s['kind']} {s['ms']:.1f} ms" for s in doc.get("steps", [])
                           if s.get("kind") in ("drop-caches", "compact-memory"))
        if ms:
            t.log.notes.append(f"attach: {len(ms)} stop-process steps {sum(ms):.1f} ms in all "
                               f"(max {max(ms):.1f} ms), {others}")
    check_states(t, "after attach", "attached", "T")
    doc = t.json("release")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
        t.equal("release: stop-process steps", [s.get("state") for s in stop_steps(doc)], ["reverted"] * NP)
    after = check_states(t, "after release", "released", "S")
    if after is not None:
        t.equal("after release: the same processes", {k: v[0] for k, v in after.items()}, pids)

    k = killed(t)
    notes = []
    # 2. killed after all were stopped
    if t.expect("after-stop" in k, "attach was never killed after its stop-process steps"):
        check_states(t, "killed after the stop-process steps", "killed-after-stop", "T")
        doc = t.json("status-after-stop", rcs=(4,))
        if doc is not None:
            t.equal("status after the kill: needs_recovery", doc.get("needs_recovery"), True)
            t.equal("status after the kill: stop-process steps",
                    [s.get("state") for s in doc.get("steps", []) if s.get("kind") == "stop-process"], ["done"] * NP)
        doc = t.json("recover-after-stop")
        if doc is not None:
            check_recover(t, "recover after the kill", doc)
        check_states(t, "recovered after the kill", "recovered-after-stop", "S")
        notes.append(f"after the stop-process steps: last record \"{k['after-stop']}\"")

    # 3. killed in the middle: every try is judged, the last one must have landed there
    tries = [re.match(r"^INFO at-stop try=(\d+) begun=(\d+) last=(.*)$", ln) for ln in t.log.lines]
    tries = [(int(m.group(1)), int(m.group(2)), m.group(3).replace("_", " ")) for m in tries if m]
    if t.expect(tries, "attach was never killed in the middle of its stop-process steps"):
        for n, begun, last in tries:
            p = procs(t, f"killed-at-stop-{n}")
            doc = t.json(f"recover-at-stop-{n}")
            if doc is not None:
                check_recover(t, f"recover after kill {n} in the middle", doc, begun)
            check_states(t, f"recovered after kill {n} in the middle", f"recovered-at-stop-{n}", "S")
            if p is not None:
                notes.append(f"in the middle (try {n}): {begun} of {NP} stop-process steps begun, "
                             f"states at the kill {summary(p)[0]}, last record \"{last}\"")
        n, begun, last = tries[-1]
        t.expect(0 < begun < NP or (begun == NP and last.startswith("begin")),
                 f"the kill never landed in the middle of the stop-process steps: {tries}")

    # 4. the attach that recovers first
    if t.expect("auto" in k, "attach was never killed before the recovering attach"):
        check_states(t, "killed before the recovering attach", "killed-auto", "T")
        doc = t.json("attach-auto")
        if doc is not None:
            t.equal("attach after a kill: ok", doc.get("ok"), True)
            t.equal("attach after a kill: stop-process steps", [s.get("state") for s in stop_steps(doc)],
                    ["done"] * NP)
        check_states(t, "after the recovering attach", "attached-auto", "T")
        doc = t.json("release-auto")
        if doc is not None:
            t.equal("release after the recovering attach: ok", doc.get("ok"), True)
        check_states(t, "after release", "released-auto", "S")
    t.log.notes.append("kills: " + "; ".join(notes))
