"""Tests for the plan data: python3 -m unittest discover -s scripts/plan"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import unittest
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import extract  # noqa: E402

PLAN_DIR = extract.PLAN_DIR
RAW = extract.PLAN_TXT.read_bytes().decode("utf-8")
NORM = extract.normalised_plan(RAW)
TASKS = json.loads((PLAN_DIR / "tasks.json").read_text(encoding="utf-8"))
INDICATORS = json.loads((PLAN_DIR / "indicators.json").read_text(encoding="utf-8"))
CELLS = json.loads((PLAN_DIR / "cell_kinds.json").read_text(encoding="utf-8"))
BY_SECTION = {t["section"]: t for t in TASKS["tasks"]}
# Every heading of the plan (一 … 六) with the text under it, to check where a quote sits.
NODE_TEXT = {n["section"]: "\n".join(n["paragraphs"]) for n in extract.parse_headings(RAW)}

# The byte-exact copy of the reference plan (shared/reference/liaocheng-zero-waste-city-plan-2022.txt).
PLAN_SHA256 = "460ff466d5f188c033b0950f1b7c8ce53073001fc8d45c4ec2eb2d8e497bf98f"

# Every unit the plan names in a （牵头单位：…；责任单位：…） parenthetical, read by hand.
KNOWN_UNITS = {
    "人民银行聊城市中心支行", "危险废物防治相关部门", "各县〔市、区〕人民政府", "市交通运输局",
    "市住房城乡建设局", "市公安局", "市农业农村局", "市卫生健康委", "市发展改革委", "市商务投资促进局",
    "市地方金融监管局", "市城管局", "市大数据局", "市委宣传部", "市属开发区管委会", "市工业和信息化局",
    "市市场监管局", "市政府办公室", "市教育体育局", "市文化和旅游局", "市水利局", "市生态环境局",
    "市科技局", "市税务局", "市统计局", "市自然资源和规划局", "市行政审批局", "市财政局",
    "市邮政管理局", "相关县〔市、区〕人民政府", "聊城银保监分局", "茌平区人民政府", "莘县人民政府",
}


class PlanCopy(unittest.TestCase):
    def test_plan_is_the_reference_text(self):
        self.assertEqual(hashlib.sha256(RAW.encode("utf-8")).hexdigest(), PLAN_SHA256)
        self.assertEqual(TASKS["source"]["sha256"], PLAN_SHA256)


class Extraction(unittest.TestCase):
    def test_output_is_deterministic_and_checked_in(self):
        a = extract.render(extract.build(RAW))
        b = extract.render(extract.build(RAW))
        self.assertEqual(a, b)
        self.assertEqual(a, (PLAN_DIR / "tasks.json").read_bytes().decode("utf-8"))
        self.assertTrue(a.endswith("}\n"))

    def test_check_flag_passes(self):
        script = Path(extract.__file__)
        r = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_sections_unique(self):
        sections = [t["section"] for t in TASKS["tasks"]]
        self.assertEqual(len(sections), len(set(sections)))
        all_sections = [s["section"] for s in TASKS["sections"]]
        self.assertEqual(len(all_sections), len(set(all_sections)))

    def test_task_counts_per_section(self):
        self.assertEqual(len(TASKS["tasks"]), 95)
        self.assertEqual(Counter(t["section"][0] for t in TASKS["tasks"]), {"三": 84, "四": 8, "五": 3})
        self.assertEqual(
            Counter(t["top_section"] for t in TASKS["tasks"]),
            {
                "三(一)": 9, "三(二)": 13, "三(三)": 14, "三(四)": 11, "三(五)": 16, "三(六)": 12,
                "三(七)": 9, "四(一)": 1, "四(二)": 6, "四(三)": 1, "五(一)": 1, "五(二)": 1, "五(三)": 1,
            },
        )

    def test_texts_are_in_the_plan(self):
        for t in TASKS["tasks"]:
            self.assertIn(t["text"], NORM, t["section"])
            for c in t["clauses"]:
                self.assertIn(c["text"], t["text"], t["section"])

    def test_every_lead_unit_parenthetical_is_a_clause(self):
        n = sum(len(t["clauses"]) for t in TASKS["tasks"])
        self.assertEqual(n, RAW.count("（牵头单位："))
        self.assertEqual(n, 122)

    def test_every_task_has_a_lead_unit(self):
        for t in TASKS["tasks"]:
            self.assertTrue(t["lead_units"], t["section"])
            self.assertIsNone(t["units_inherited_from"], t["section"])  # the plan never needs it

    def test_units_are_the_plans_own(self):
        for t in TASKS["tasks"]:
            for c in t["clauses"]:
                for u in c["lead_units"] + c["responsible_units"]:
                    self.assertIn(u, KNOWN_UNITS, t["section"])
                    self.assertIn(u, RAW)
            self.assertFalse(set(t["lead_units"]) & set(t["responsible_units"]), t["section"])

    def test_parents_and_top_section(self):
        sections = {s["section"] for s in TASKS["sections"]}
        for t in TASKS["tasks"]:
            for p in t["parents"]:
                self.assertIn(p, sections)
                self.assertTrue(t["section"].startswith(p))
            self.assertTrue(t["section"].startswith(t["top_section"]))

    def test_deadlines(self):
        for t in TASKS["tasks"]:
            if t["deadline"] is None:
                self.assertIsNone(t["deadline_date"])
                self.assertEqual(t["milestones"], [])
                continue
            self.assertIn(t["deadline"], t["text"])
            self.assertRegex(t["deadline_date"], r"^20\d\d-12-31$")
            self.assertEqual(t["deadline_date"], max(m["date"] for m in t["milestones"]))

    # Spot checks, read by hand against plan.txt.
    def test_internet_plus_recycling_task(self):
        t = BY_SECTION["三(三)4(3)"]
        self.assertEqual(t["title"], "构建“互联网+”管理体系")
        self.assertEqual(t["lead_units"], ["市商务投资促进局", "市城管局", "市科技局"])
        self.assertEqual(t["responsible_units"], ["各县〔市、区〕人民政府", "市属开发区管委会"])
        self.assertEqual(t["parents"], ["三", "三(三)", "三(三)4"])
        self.assertIsNone(t["deadline"])
        self.assertIn("专业人员上门回收", t["text"])

    def test_green_manufacturing_task_has_four_clauses(self):
        t = BY_SECTION["三(一)1(2)"]
        self.assertEqual([c["lead_units"] for c in t["clauses"]],
                         [["市工业和信息化局"], ["市生态环境局"], ["市发展改革委"], ["市自然资源和规划局"]])
        self.assertEqual(t["clauses"][3]["responsible_units"], ["莘县人民政府"])
        self.assertEqual(t["deadline"], "到2025年底")
        self.assertEqual([m["phrase"] for m in t["milestones"]], ["到2023年底", "到2025年底", "到2025年", "到2025年"])

    def test_construction_waste_and_hazardous_waste_deadlines(self):
        self.assertEqual((BY_SECTION["三(四)1(3)"]["deadline"], BY_SECTION["三(四)1(3)"]["deadline_date"]),
                         ("到2025年底", "2025-12-31"))
        self.assertEqual(BY_SECTION["三(五)4(3)"]["deadline_date"], "2024-12-31")
        self.assertEqual(BY_SECTION["三(四)2(3)"]["deadline_date"], "2023-12-31")
        self.assertEqual(BY_SECTION["三(三)1(3)"]["deadline"], "2025年")  # 2025年建成使用

    def test_lists_ending_in_deng_and_missing_responsible_units(self):
        t = BY_SECTION["三(六)3(2)"]
        self.assertEqual(t["clauses"][1]["lead_units"], ["市邮政管理局"])
        self.assertEqual(t["clauses"][1]["responsible_units"], [])
        self.assertEqual(t["clauses"][2]["lead_units"], ["市商务投资促进局", "市市场监管局", "市邮政管理局"])
        self.assertTrue(t["clauses"][2]["lead_units_non_exhaustive"])
        flagged = sorted(t["section"] for t in TASKS["tasks"] if t["lead_units_non_exhaustive"])
        self.assertEqual(flagged, ["三(六)3(1)", "三(六)3(2)"])

    def test_split_units_keeps_bracketed_county_together(self):
        units, open_ended = extract.split_units("市地方金融监管局、聊城银保监分局，各县〔市、区〕人民政府、市属开发区管委会")
        self.assertEqual(units, ["市地方金融监管局", "聊城银保监分局", "各县〔市、区〕人民政府", "市属开发区管委会"])
        self.assertFalse(open_ended)

    def test_financial_and_tax_leads(self):
        t = BY_SECTION["三(五)5(3)"]
        self.assertEqual(t["lead_units"], ["人民银行聊城市中心支行", "市税务局"])

    def test_zero_waste_cell_tasks(self):
        self.assertEqual(BY_SECTION["五(二)"]["lead_units"][0], "市生态环境局")
        self.assertEqual(len(BY_SECTION["五(二)"]["clauses"]), 1)  # one parenthetical covers both paragraphs
        self.assertEqual(BY_SECTION["五(三)"]["lead_units"][:2], ["市生态环境局", "市政府办公室"])


def quote_sites(ind: dict) -> list[tuple[str, str]]:
    sites = [(ind["plan_section"], ind["quote"])] if ind.get("quote") else []
    if ind.get("context_quote"):
        sites.append((ind["plan_section"], ind["context_quote"]))
    for x in ind.get("also_stated_in", []) + ind.get("interim_targets", []):
        sites.append((x["plan_section"], x["quote"]))
    return sites


class Indicators(unittest.TestCase):
    items = INDICATORS["indicators"]

    def test_counts(self):
        c = Counter(i["measured_by"] for i in self.items)
        self.assertEqual(c, {"reported": 61, "wufei": 5})

    def test_codes_unique_and_snake_case(self):
        codes = [i["code"] for i in self.items]
        self.assertEqual(len(codes), len(set(codes)))
        for code in codes:
            self.assertRegex(code, r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

    def test_quotes_are_in_the_plan_at_their_section(self):
        q = INDICATORS["plan_indicator_system"]
        self.assertIn(q["quote"], RAW)
        self.assertIn(q["quote"], NODE_TEXT[q["plan_section"]])
        for i in self.items:
            sites = quote_sites(i)
            self.assertTrue(sites, i["code"])
            for section, quote in sites:
                self.assertIn(quote, RAW, i["code"])
                self.assertIn(quote, NODE_TEXT[section], f"{i['code']} not in {section}")

    def test_reported_shape(self):
        for i in self.items:
            if i["measured_by"] != "reported":
                continue
            self.assertIn(i["direction"], {"at_least", "at_most", "equal", "range"}, i["code"])
            self.assertIn(i["target_year"], {2024, 2025}, i["code"])
            self.assertIsNone(i["baseline"])  # the plan gives no 2021 values
            if i["direction"] == "range":
                self.assertIsNone(i["target"])
                self.assertLess(i["target_low"], i["target_high"])
            else:
                self.assertIsInstance(i["target"], (int, float), i["code"])
            if i["unit"] == "%":
                self.assertLessEqual(i.get("target") or 0, 100)

    def test_wufei_measured_are_labelled(self):
        codes = {i["code"] for i in self.items}
        for i in self.items:
            if i["measured_by"] == "wufei":
                self.assertTrue(i["code"].startswith("wufei_"))
                self.assertIsNone(i["target"])
                self.assertTrue(i["serves"] is None or i["serves"] in codes)
            else:
                self.assertFalse(i["code"].startswith("wufei_"))

    def test_headline_targets(self):
        by = {i["code"]: i for i in self.items}
        expect = {
            "industrial_solid_waste_utilisation_rate": ("at_least", 75, "二(一)"),
            "industrial_hazardous_waste_utilisation_disposal_rate": ("equal", 100, "二(一)"),
            "urban_household_waste_recycling_rate": ("at_least", 35, "二(一)"),
            "straw_utilisation_rate": ("at_least", 95, "二(一)"),
            "livestock_manure_utilisation_rate": ("at_least", 90, "二(一)"),
            "agricultural_film_recovery_rate": ("at_least", 92, "二(一)"),
            "pesticide_packaging_waste_recovery_rate": ("at_least", 80, "二(一)"),
            "prefabricated_building_share_city_proper": ("at_least", 55, "二(一)"),
            "prefabricated_building_share_other_counties": ("at_least", 45, "二(一)"),
            "green_building_share_new_civil_buildings": ("equal", 100, "二(一)"),
            "zero_waste_cells_total": ("at_least", 300, "二(一)"),
            "living_cells_per_county_and_zone": ("at_least", 18, "三(七)3(1)"),
            "construction_waste_disposal_centres": ("at_least", 1, "三(四)3(4)"),
            "medical_waste_harmless_disposal_rate": ("equal", 100, "三(五)3(2)"),
        }
        for code, (direction, target, section) in expect.items():
            i = by[code]
            self.assertEqual((i["direction"], i["target"], i["plan_section"]), (direction, target, section), code)
        site = by["construction_site_waste_intensity"]
        self.assertEqual((site["direction"], site["target_low"], site["target_high"], site["unit"]),
                         ("range", 200, 300, "t/万m²"))


class CellKinds(unittest.TestCase):
    def test_quotes_are_in_the_plan_at_their_section(self):
        t = CELLS["total_target"]
        self.assertIn(t["quote"], NODE_TEXT[t["plan_section"]])
        for d in CELLS["domains"]:
            for x in d["targets"]:
                self.assertIn(x["quote"], NODE_TEXT[x["plan_section"]])
        for k in CELLS["kinds"]:
            self.assertIn(k["domain_quote"], RAW)
            for m in k["mentions"]:
                self.assertIn(m["quote"], NODE_TEXT[m["plan_section"]], k["code"])
                self.assertIn(k["name"], m["quote"])

    def test_exactly_the_kinds_the_plan_names(self):
        named = set(re.findall(r"“(无废[^”]+)”", RAW)) - {"无废城市", "无废细胞", "无废文化"}
        self.assertEqual({k["name"] for k in CELLS["kinds"]}, named)
        codes = [k["code"] for k in CELLS["kinds"]]
        self.assertEqual(len(codes), len(set(codes)))

    def test_domain_targets_match_indicators(self):
        by = {i["code"]: i for i in INDICATORS["indicators"]}
        domains = {d["code"] for d in CELLS["domains"]}
        for k in CELLS["kinds"]:
            self.assertIn(k["domain"], domains)
        for d in CELLS["domains"]:
            for x in d["targets"]:
                self.assertEqual(by[x["indicator_code"]]["target"], x["target"])
                self.assertEqual(by[x["indicator_code"]]["scope"], x["scope"])
        self.assertEqual(by[CELLS["total_target"]["indicator_code"]]["target"], CELLS["total_target"]["target"])


if __name__ == "__main__":
    unittest.main()
