# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 90-bench-hugepages: every run obtained exactly N pages and gave them back;
the figures themselves are bench/bench-hugepages's business (it parses the same log with
results(), below)."""

import json
import re
import statistics

RAW_RE = re.compile(r"^BENCH raw n=(\d+) run=(\d+) us=(\d+) got=(\d+)$")
TOOL_RE = re.compile(r"^BENCH tool n=(\d+) run=(\d+) got=(\d+) released=(\d+)$")


def step_us(doc, kind):
    return [s["ms"] * 1000.0 for s in doc.get("steps", []) if s.get("kind") == kind and s.get("state") in ("done", "reverted")]


def results(lines, blocks):
    """{n: {"raw": [us], "hugepages": [us], "compact": [us], "release": [us], "bad": [why]}} from the
    log's lines and its parsed blocks ({name: (rc, text)})."""
    out = {}
    for ln in lines:
        m = RAW_RE.match(ln)
        if m:
            n, run, us, got = map(int, m.groups())
            r = out.setdefault(n, {"raw": [], "hugepages": [], "compact": [], "release": [], "bad": []})
            r["raw"].append(us)
            if got != n:
                r["bad"].append(f"raw run {run}: the write gave {got} pages")
            continue
        m = TOOL_RE.match(ln)
        if not m:
            continue
        n, run, got, released = map(int, m.groups())
        r = out.setdefault(n, {"raw": [], "hugepages": [], "compact": [], "release": [], "bad": []})
        if got != n or released != 0:
            r["bad"].append(f"tool run {run}: {got} pages attached, {released} after release")
        for name, key, kind in ((f"attach-{n}-{run}", "hugepages", "hugepages"),
                                (f"attach-{n}-{run}", "compact", "compact-memory"),
                                (f"release-{n}-{run}", "release", "hugepages")):
            rc, text = blocks.get(name, (None, ""))
            try:
                doc = json.loads(text)
            except ValueError:
                r["bad"].append(f"{name}: no JSON (exit status {rc})")
                continue
            if rc != 0 or not doc.get("ok"):
                r["bad"].append(f"{name}: exit status {rc}, ok {doc.get('ok')}")
            us = step_us(doc, kind)
            if len(us) != 1:
                r["bad"].append(f"{name}: {len(us)} {kind} steps")
            r[key].extend(us[:1])
    return out


def check(t):
    blocks = {n: (b.rc, b.text) for n, b in t.log.blocks.items()}
    res = results(t.log.lines, blocks)
    t.expect(res, "no BENCH lines")
    for n, r in sorted(res.items()):
        t.equal(f"N={n}: problems", r["bad"], [])
        t.expect(r["hugepages"] and len(r["hugepages"]) == len(r["raw"]),
                 f"N={n}: {len(r['hugepages'])} tool runs, {len(r['raw'])} raw runs")
        if r["hugepages"] and r["raw"]:
            t.log.notes.append(f"N={n}: hugepages step median {statistics.median(r['hugepages']) / 1000:.1f} ms, "
                               f"one raw write median {statistics.median(r['raw']) / 1000:.1f} ms "
                               f"({len(r['raw'])} runs)")
