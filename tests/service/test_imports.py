"""Bulk import: dry run, row-level errors, all or nothing, duplicates; CSV and XLSX."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.service.conftest import World

HEADER = "name;contact;postcode;skills;languages;hours_min;hours_max;work_permit;coach\n"


def _upload(world: World, kind: str, data: bytes, name: str, dry_run: bool = False) -> dict:
    return world.call(
        "POST", f"/admin/imports/{kind}?dry_run={str(dry_run).lower()}", "admin",
        files={"file": (name, data)},
    ).json()  # fmt: skip


def test_dry_run_then_import_participants_from_csv(world: World) -> None:
    csv = (HEADER
           + "Ana;ana@example.org;33602;Kasse bedienen; Regale auffüllen;de:A2>B1@2027-01-01;"
             "20;30;yes;coach1\n"
           + "Bo;;33605;Kasse bedienen;de:B1;10;20;pending;coach2\n").encode()  # fmt: skip
    csv = csv.replace(b"Kasse bedienen; Regale", b'"Kasse bedienen; Regale').replace(
        b"auff\xc3\xbcllen;de", b'auff\xc3\xbcllen";de'
    )
    dry = _upload(world, "participants", csv, "p.csv", dry_run=True)
    assert dry["errors"] == [] and dry["imported"] == 0 and dry["rows"] == 2
    assert world.ok("GET", "/participants", "admin")["total"] == 0
    done = _upload(world, "participants", csv, "p.csv")
    assert done["imported"] == 2 and done["errors"] == []
    ana = world.ok("GET", f"/participants/{done['ids'][0]}", "coach1")
    assert ana["skills"][1]["input"] == "Regale auffüllen"
    assert ana["languages"] == [{"language": "de", "level": "A2", "expected_level": "B1",
                                 "expected_by": "2027-01-01"}]  # fmt: skip
    assert world.ok("GET", f"/participants/{done['ids'][1]}", "coach2")["name"] == "Bo"
    again = _upload(world, "participants", csv, "p.csv", dry_run=True)
    assert [d["row"] for d in again["duplicates"]] == [2, 3]


def test_errors_name_row_and_column_and_nothing_is_stored(world: World) -> None:
    csv = (HEADER
           + "Ana;;33602;Kasse;de:B1;20;30;yes;coach1\n"
           + "Bo;;3360;Kasse;de:B9;20;x;yes;coach1\n"
           + ";;33602;Kasse;de:B1;20;30;yes;nobody\n"
           + "Cem;;00000;Kasse;de:B1;20;30;yes;coach1\n").encode()  # fmt: skip
    report = _upload(world, "participants", csv, "p.csv")
    found = {(e["row"], e["column"]) for e in report["errors"]}
    assert {(3, "postcode"), (3, "languages"), (3, "hours_max")} <= found
    assert {(4, "name"), (4, "coach")} <= found
    assert any(row == 5 for row, _ in found)  # unknown postcode, from the matcher
    assert report["imported"] == 0
    assert world.ok("GET", "/participants", "admin")["total"] == 0


def test_import_vacancies_from_xlsx(world: World) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "employer_id",
            "title",
            "occupation",
            "skills_essential",
            "skills_optional",
            "languages",
            "postcode",
            "hours_per_week",
            "shifts",
            "start_date",
        ]
    )
    firm = world.ids["employer1_firm"]
    sheet.append(
        [
            firm,
            "Lagerhelfer",
            "Lagerarbeiter",
            "Stapler fahren",
            "Kasse bedienen",
            "de:A2",
            "33609",
            38,
            "early;day",
            "2027-02-01",
        ]
    )
    sheet.append(
        [
            firm,
            "Lagerhelfer",
            "Lagerarbeiter",
            "Stapler fahren",
            None,
            "de:A2",
            "33609",
            38,
            "day",
            None,
        ]
    )
    data = io.BytesIO()
    book.save(data)
    report = _upload(world, "vacancies", data.getvalue(), "v.xlsx")
    assert report["errors"] == [] and report["imported"] == 2
    assert report["duplicates"] == [{"row": 3, "duplicate_of": "row 2"}]
    vacancy = world.ok("GET", f"/vacancies/{report['ids'][0]}", "employer1")
    assert [s["essential"] for s in vacancy["skills"]] == [True, False]
    assert vacancy["start_date"] == "2027-02-01" and vacancy["shifts"] == ["early", "day"]
    bad = _upload(world, "vacancies", b"employer_id,title\n999,X\n", "v.csv")
    assert bad["errors"][0]["row"] == 2 and bad["imported"] == 0
