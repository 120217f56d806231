#!/usr/bin/env python3
"""Extract the tasks of Liaocheng's zero-waste city plan into tasks.json.

Reads  domain/data/plan/plan.txt   (byte-exact copy of the plan as published)
Writes domain/data/plan/tasks.json (deterministic; UTF-8, indent 2, trailing newline)

    python3 scripts/plan/extract.py          # (re)write tasks.json
    python3 scripts/plan/extract.py --check  # exit 1 if tasks.json is not what this writes

Standard library only (Python 3.11). See domain/data/plan/README.md for what the
fields mean and the rules used (granularity, lead/responsible units, deadlines).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAN_DIR = REPO / "domain" / "data" / "plan"
PLAN_TXT = PLAN_DIR / "plan.txt"
TASKS_JSON = PLAN_DIR / "tasks.json"

# Chapters of the plan that hold tasks: 三、重点建设任务, 四、打造“1+6”智慧平台,
# 五、全场景发力. 一 (总则), 二 (目标与指标) and 六 (保障措施) name no lead units.
TASK_CHAPTERS = ("三", "四", "五")

CN_NUM = "一二三四五六七八九十"
RE_CHAPTER = re.compile(rf"^([{CN_NUM}]+)、(.+)$")  # 三、重点建设任务
RE_SECTION = re.compile(rf"^（([{CN_NUM}]+)）(.+)$")  # （一）促进…
RE_ITEM = re.compile(r"^(\d+)\.\s*(.+)$")  # 1.推动… / 1. 推动…
RE_SUBITEM = re.compile(r"^（(\d+)）(.+)$")  # （1）加快…

# The plan marks who does what with one parenthetical per clause:
#   （牵头单位：A、B；责任单位：C、D，各县〔市、区〕人民政府、市属开发区管委会）
# (the 责任单位 part is missing once: （牵头单位：市邮政管理局）).
RE_UNITS = re.compile(r"（牵头单位：(?P<lead>[^；（）]*)(?:；责任单位：(?P<resp>[^（）]*))?）")

# Dates the task texts give: 到2025年底, 到2025年, 到2024年底, 2025年建成使用 …
RE_DATE = re.compile(r"(到)?(20\d\d)年(底)?(前)?")


def normalise(line: str) -> str:
    """Collapse every run of whitespace (ASCII, tab, U+3000 ideographic space) to one
    space and strip both ends. Nothing else in the text is changed."""
    return " ".join(line.split())


def normalised_plan(raw: str) -> str:
    """The plan with each line normalised, joined by "\\n". Every task text is a
    substring of this."""
    return "\n".join(normalise(line) for line in raw.splitlines())


def split_units(s: str) -> tuple[list[str], bool]:
    """Split a unit list on 、 and ， outside 〔〕 (各县〔市、区〕人民政府 stays one unit).
    A trailing 等 ("etc.") is removed from the name and reported as non-exhaustive."""
    units: list[str] = []
    depth = 0
    cur = ""
    for ch in s:
        if ch in "〔（(":
            depth += 1
        elif ch in "〕）)":
            depth -= 1
        if ch in "、，" and depth == 0:
            units.append(cur)
            cur = ""
        else:
            cur += ch
    units.append(cur)
    units = [u.strip() for u in units]
    if any(not u for u in units) or depth != 0:
        raise ValueError(f"cannot split unit list: {s!r}")
    open_ended = False
    if units[-1].endswith("等"):
        units[-1] = units[-1][:-1]
        open_ended = True
    return units, open_ended


def milestones(text: str) -> list[dict]:
    """Every date the text sets, in order: the plan's words and an ISO date. A year
    alone (到2025年) is read as the end of that year, like 到2025年底."""
    out = []
    for m in RE_DATE.finditer(text):
        out.append({"phrase": m.group(0), "date": f"{m.group(2)}-12-31"})
    return out


def latest(ms: list[dict]) -> dict | None:
    best = None
    for m in ms:  # first occurrence of the latest date wins
        if best is None or m["date"] > best["date"]:
            best = m
    return best


def dedup(seq):
    seen = []
    for x in seq:
        if x not in seen:
            seen.append(x)
    return seen


def is_local_government(unit: str) -> bool:
    """County-level governments and development-zone committees (各县〔市、区〕人民政府,
    市属开发区管委会, 莘县人民政府 …), which the plan lists after the municipal departments."""
    return unit.endswith(("人民政府", "管委会"))


def merge_units(clauses: list[dict]) -> tuple[list[str], list[str]]:
    """A task's units from its clauses: lead units in order of first mention; responsible
    units in order of first mention, municipal departments before local governments, and
    without any unit that already leads a clause of the same task."""
    lead = dedup(u for c in clauses for u in c["lead_units"])
    resp = [u for u in dedup(u for c in clauses for u in c["responsible_units"]) if u not in lead]
    resp = [u for u in resp if not is_local_government(u)] + [u for u in resp if is_local_government(u)]
    return lead, resp


def parse_headings(raw: str) -> list[dict]:
    """Walk the plan line by line into heading nodes with the body paragraphs under them."""
    nodes: list[dict] = []
    path: dict[int, dict] = {}  # level -> current node
    for lineno, line in enumerate(raw.splitlines(), start=1):
        text = normalise(line)
        if not text:
            continue
        level = None
        if "。" not in text:  # headings never hold a full stop; body paragraphs always do
            for lvl, rx in ((1, RE_CHAPTER), (2, RE_SECTION), (3, RE_ITEM), (4, RE_SUBITEM)):
                m = rx.match(text)
                if m:
                    level, num, title = lvl, m.group(1), m.group(2).strip()
                    break
        if level is None:
            if path:
                deepest = path[max(path)]
                deepest["paragraphs"].append(text)
                deepest.setdefault("first_line", lineno)
            continue
        parent = path.get(level - 1) if level > 1 else None
        if level > 1 and parent is None:
            raise ValueError(f"line {lineno}: heading {text!r} has no parent heading")
        if level == 1:
            section = num
        elif level == 2:
            section = f"{parent['section']}({num})"
        elif level == 3:
            section = f"{parent['section']}{num}"
        else:
            section = f"{parent['section']}({num})"
        node = {
            "section": section,
            "title": title,
            "level": level,
            "parent": parent["section"] if parent else None,
            "heading_line": lineno,
            "paragraphs": [],
            "children": [],
        }
        if parent:
            parent["children"].append(section)
        nodes.append(node)
        path = {k: v for k, v in path.items() if k < level}
        path[level] = node
    return nodes


def clauses_of(text: str, section: str) -> list[dict]:
    """Split a task's text at each （牵头单位：…） parenthetical. The clause is the text
    from the end of the previous parenthetical up to this one."""
    out = []
    pos = 0
    for m in RE_UNITS.finditer(text):
        body = text[pos : m.start()].strip()
        if not body:
            raise ValueError(f"{section}: empty clause before {m.group(0)!r}")
        lead, lead_open = split_units(m.group("lead"))
        resp, resp_open = split_units(m.group("resp")) if m.group("resp") else ([], False)
        ms = milestones(body)
        d = latest(ms)
        out.append(
            {
                "text": body,
                "lead_units": lead,
                "lead_units_non_exhaustive": lead_open,
                "responsible_units": resp,
                "responsible_units_non_exhaustive": resp_open,
                "deadline": d["phrase"] if d else None,
                "deadline_date": d["date"] if d else None,
            }
        )
        pos = m.end()
    rest = text[pos:].strip()
    if rest:
        raise ValueError(f"{section}: text after the last lead-unit parenthetical: {rest!r}")
    return out


def build(raw: str) -> dict:
    nodes = parse_headings(raw)
    by_section = {n["section"]: n for n in nodes}
    if len(by_section) != len(nodes):
        raise ValueError("duplicate section numbers")

    def ancestors(n):
        out = []
        while n["parent"]:
            n = by_section[n["parent"]]
            out.append(n)
        return list(reversed(out))

    in_scope = [n for n in nodes if n["section"][0] in TASK_CHAPTERS]
    tasks = []
    for n in in_scope:
        if n["children"] and n["paragraphs"]:
            raise ValueError(f"{n['section']} has both its own text and numbered children")
        if not n["paragraphs"]:
            continue
        text = "\n".join(n["paragraphs"])
        if "（牵头单位" in RE_UNITS.sub("", text):
            raise ValueError(f"{n['section']}: a 牵头单位 parenthetical the pattern missed")
        clauses = clauses_of(text, n["section"]) if RE_UNITS.search(text) else []
        anc = ancestors(n)
        inherited_from = None
        if clauses:
            lead, resp = merge_units(clauses)
        else:
            # No parenthetical of its own: take the nearest ancestor's (none in this plan).
            lead, resp = [], []
            for a in reversed(anc):
                a_text = "\n".join(a["paragraphs"])
                a_clauses = clauses_of(a_text, a["section"]) if RE_UNITS.search(a_text) else []
                if a_clauses:
                    lead, resp = merge_units(a_clauses)
                    inherited_from = a["section"]
                    break
        ms = milestones(text)
        d = latest(ms)
        top = anc[1]["section"] if len(anc) >= 2 else n["section"]
        tasks.append(
            {
                "section": n["section"],
                "title": n["title"],
                "top_section": top,
                "parents": [a["section"] for a in anc],
                "text": text,
                "lead_units": lead,
                "responsible_units": resp,
                "lead_units_non_exhaustive": any(c["lead_units_non_exhaustive"] for c in clauses),
                "units_inherited_from": inherited_from,
                "deadline": d["phrase"] if d else None,
                "deadline_date": d["date"] if d else None,
                "milestones": ms,
                "clauses": clauses,
                "plan_line": n["heading_line"],
            }
        )

    sections = [
        {
            "section": n["section"],
            "title": n["title"],
            "parent": n["parent"],
            "is_task": any(t["section"] == n["section"] for t in tasks),
        }
        for n in in_scope
    ]
    return {
        "source": {
            "title": "聊城市“十四五”时期“无废城市”建设实施方案",
            "issuer": "聊城市人民政府",
            "issued": "2022-12-31",
            "file": "domain/data/plan/plan.txt",
            "sha256": hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        },
        "generated_by": "scripts/plan/extract.py",
        "sections": sections,
        "tasks": tasks,
    }


def render(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if tasks.json is out of date")
    args = ap.parse_args(argv)
    raw = PLAN_TXT.read_bytes().decode("utf-8")
    out = render(build(raw))
    if args.check:
        current = TASKS_JSON.read_bytes().decode("utf-8") if TASKS_JSON.exists() else None
        if current != out:
            print(
                f"{TASKS_JSON.relative_to(REPO)} is out of date; "
                "run: python3 scripts/plan/extract.py",
                file=sys.stderr,
            )
            return 1
        print(f"{TASKS_JSON.relative_to(REPO)} is up to date")
        return 0
    with open(TASKS_JSON, "w", encoding="utf-8", newline="\n") as f:
        f.write(out)
    print(f"wrote {TASKS_JSON.relative_to(REPO)} ({len(json.loads(out)['tasks'])} tasks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
