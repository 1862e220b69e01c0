"""Synthetic SSD table sets and Annex A workbooks written by tests (never real children)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

# Real postcodes (public places) in North Somerset (E06000024), looked up in the directory.
PC_A, PC_B, PC_C = "BS23 1UJ", "BS20 0ES", "BS20 7AW"
PC_TERMINATED = "AB11 3AG"
"""Listed in the directory without a grid reference."""
PC_UNKNOWN = "BS23 4ZZ"
PC_NI = "BT1 1AA"


def write_table(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """One ssd_*.csv with a header from the first row's keys."""
    folder.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def ssd_tables() -> dict[str, list[dict[str, Any]]]:
    """A small SSD extract: one CIN, one CP (siblings sharing a family), one child in care,
    one care leaver, one closed CIN child; workers, teams and visits in all three tables."""
    return {
        "ssd_person": [
            {
                "pers_person_id": p,
                "pers_forename": "Test",
                "pers_surname": f"Child{p}",
                "pers_dob": dob,
            }
            for p, dob in (
                ("P1", "2015-03-02 00:00:00.000"),
                ("P2", "2017-06-01"),
                ("P3", "12/09/2012"),
                ("P4", "2006-01-01"),
                ("P5", "2016-02-02"),
            )
        ],
        "ssd_family": [
            {"fami_family_id": "F1", "fami_person_id": "P1"},
            {"fami_family_id": "F1", "fami_person_id": "P2"},
        ],
        "ssd_address": [
            {
                "addr_person_id": "P1",
                "addr_address_type": "HOME",
                "addr_address_start_date": "2020-01-01",
                "addr_address_end_date": "",
                "addr_address_postcode": "BS231UJ",
                "addr_address_json": "",
            },
            {
                "addr_person_id": "P2",
                "addr_address_type": "HOME",
                "addr_address_start_date": "2020-01-01",
                "addr_address_end_date": "",
                "addr_address_postcode": PC_A,
                "addr_address_json": "",
            },
            {
                "addr_person_id": "P5",
                "addr_address_type": "HOME",
                "addr_address_start_date": "2020-01-01",
                "addr_address_end_date": "",
                "addr_address_postcode": PC_B,
                "addr_address_json": '{"EASTING": "347000", "NORTHING": "176700", "UPRN": ""}',
            },
            {
                "addr_person_id": "P4",
                "addr_address_type": "HOME",
                "addr_address_start_date": "2023-01-01",
                "addr_address_end_date": "",
                "addr_address_postcode": PC_B,
                "addr_address_json": '{"FLAT": "2", "HOUSE": "7"}',
            },
        ],
        "ssd_department": [{"dept_team_id": "D1", "dept_team_name": "North Locality"}],
        "ssd_professionals": [
            {
                "prof_professional_id": "S1",
                "prof_professional_name": "Ada Okafor",
                "prof_social_worker_registration_no": "SW123456",
                "prof_professional_job_title": "Social Worker",
            },
            {
                "prof_professional_id": "S2",
                "prof_professional_name": "Ben Hughes",
                "prof_social_worker_registration_no": "",
                "prof_professional_job_title": "Family Support Worker",
            },
        ],
        "ssd_involvements": [
            {
                "invo_person_id": p,
                "invo_professional_id": s,
                "invo_professional_role_id": "AW",
                "invo_professional_team": "D1",
                "invo_involvement_start_date": "2024-01-01",
                "invo_involvement_end_date": "",
            }
            for p, s in (("P1", "S1"), ("P2", "S1"), ("P3", "S1"), ("P4", "S2"), ("P5", "S2"))
        ],
        "ssd_cin_episodes": [
            {
                "cine_referral_id": "R1",
                "cine_person_id": "P1",
                "cine_referral_date": "2024-01-10",
                "cine_close_date": "",
            },
            {
                "cine_referral_id": "R5",
                "cine_person_id": "P5",
                "cine_referral_date": "2024-02-01",
                "cine_close_date": "",
            },
        ],
        "ssd_cin_plans": [
            {
                "cinp_cin_plan_id": "CP5",
                "cinp_referral_id": "R5",
                "cinp_person_id": "P5",
                "cinp_cin_plan_start_date": "2024-03-01",
                "cinp_cin_plan_end_date": "",
            },
        ],
        "ssd_cp_plans": [
            {
                "cppl_cp_plan_id": f"CPP{p}",
                "cppl_referral_id": "R1",
                "cppl_person_id": p,
                "cppl_cp_plan_start_date": "2024-02-01",
                "cppl_cp_plan_end_date": "",
                "cppl_cp_plan_ola": "N",
            }
            for p in ("P1", "P2")
        ],
        "ssd_cla_episodes": [
            {
                "clae_cla_episode_id": "E3",
                "clae_person_id": "P3",
                "clae_cla_id": "C3",
                "clae_entered_care_date": "2023-05-01",
                "clae_cla_episode_start_date": "2023-05-01",
                "clae_cla_episode_ceased_date": "",
            },
        ],
        "ssd_cla_placement": [
            {
                "clap_cla_placement_id": "PL3",
                "clap_cla_id": "C3",
                "clap_person_id": "P3",
                "clap_cla_placement_start_date": "2024-01-15",
                "clap_cla_placement_end_date": "",
                "clap_cla_placement_type": "U4",
                "clap_cla_placement_postcode": PC_C,
            },
        ],
        "ssd_legal_status": [
            {
                "lega_person_id": "P3",
                "lega_legal_status": "C2",
                "lega_legal_status_start_date": "2023-06-01",
                "lega_legal_status_end_date": "",
            },
        ],
        "ssd_care_leavers": [
            {
                "clea_person_id": "P4",
                "clea_care_leaver_latest_contact": "2024-03-20",
                "clea_care_leaver_allocated_team": "D1",
                "clea_care_leaver_worker_id": "S2",
            },
        ],
        "ssd_cin_visits": [
            {
                "cinv_cin_visit_id": "V1",
                "cinv_person_id": "P1",
                "cinv_cin_visit_date": "2024-03-25 00:00:00.000",
                "cinv_cin_visit_seen": "Y",
                "cinv_cin_visit_seen_alone": "Y",
                "cinv_cin_visit_bedroom": "N",
            },
            {
                "cinv_cin_visit_id": "V5",
                "cinv_person_id": "P5",
                "cinv_cin_visit_date": "2024-03-20",
                "cinv_cin_visit_seen": "Yes",
                "cinv_cin_visit_seen_alone": "No",
                "cinv_cin_visit_bedroom": "Yes",
            },
        ],
        "ssd_cp_visits": [
            # V1 again: Liquid Logic puts one case note in two visit tables.
            {
                "cppv_cp_visit_id": "V1",
                "cppv_person_id": "P1",
                "cppv_cp_plan_id": "CPPP1",
                "cppv_cp_visit_date": "2024-03-25",
                "cppv_cp_visit_seen": "Y",
                "cppv_cp_visit_seen_alone": "Y",
                "cppv_cp_visit_bedroom": "N",
            },
            {
                "cppv_cp_visit_id": "V2",
                "cppv_person_id": "P2",
                "cppv_cp_plan_id": "",
                "cppv_cp_visit_date": "2024-03-25",
                "cppv_cp_visit_seen": "N",
                "cppv_cp_visit_seen_alone": "N",
                "cppv_cp_visit_bedroom": "N",
            },
        ],
        "ssd_cla_visits": [
            {
                "clav_cla_visit_id": "V3",
                "clav_cla_id": "C3",
                "clav_person_id": "P3",
                "clav_cla_visit_date": "2024-03-01",
                "clav_cla_visit_seen": "Y",
                "clav_cla_visit_seen_alone": "Y",
            },
        ],
    }


def write_ssd(folder: Path, tables: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Write every table of an extract to `folder`."""
    for name, rows in (tables or ssd_tables()).items():
        write_table(folder, name, rows)
    return folder


EXCEL_DAY = datetime(2024, 3, 20)  # noqa: DTZ001 (an Excel date cell has no time zone)
"""An Excel date cell, as openpyxl reads it."""

ANNEX_HEADERS = {
    6: [
        "Child Unique ID",
        "Gender",
        "Date of Birth",
        "CIN Start Date",
        "Date Child Was Last Seen",
        "CIN Closure Date",
        "Case Status",
        "Allocated Team",
        "Allocated Worker",
    ],
    7: [
        "Child Unique ID",
        "Date of Birth",
        "Child Protection Plan Start Date",
        "Date of the Last Statutory Visit",
        "Was the Child Seen Alone?",
        "Date of latest review conference",
        "Child Protection Plan End Date",
        "Allocated Team",
        "Allocated Worker",
    ],
    8: [
        "Child Unique ID",
        "Date of Birth",
        "Date Started to be Looked After",
        "Child's Legal Status",
        "Start date of current legal status",
        "Date of Last Social Work Visit",
        "Date Ceased to be Looked After",
        "Start Date of Most Recent Placement",
        "Placement Type",
        "Placement postcode",
        "Allocated Team",
        "Allocated Worker",
    ],
    9: [
        "Child Unique ID",
        "Date of Birth",
        "Allocated Team",
        "Allocated Worker",
        "Allocated Personal Advisor",
        "Latest Date of Contact",
    ],
}


def annex_rows() -> dict[int, list[list[Any]]]:
    """Lists 6-9: A1 in need (and closed in another episode), A2 on a plan (also in list 6),
    A3 in care placed with parents on a care order, A4 a care leaver."""
    return {
        6: [
            [
                "A1",
                "a) Male",
                "01/02/2015",
                "10/01/2024",
                EXCEL_DAY,
                "",
                "c) Child in need plan",
                "North Locality",
                "Ada Okafor",
            ],
            [
                "A1",
                "a) Male",
                "01/02/2015",
                "01/01/2022",
                "01/03/2022",
                "01/06/2022",
                "e) Closed episode",
                "North Locality",
                "Ada Okafor",
            ],
            [
                "A2",
                "b) Female",
                "05/05/2018",
                "10/01/2024",
                "15/03/2024",
                "",
                "b) Child Protection plan",
                "North Locality",
                "Ada Okafor",
            ],
        ],
        7: [
            [
                "A2",
                "05/05/2018",
                "01/02/2024",
                "22/03/2024",
                "a) Yes",
                "01/03/2024",
                "",
                "North Locality",
                "Ada Okafor",
            ],
        ],
        8: [
            [
                "A3",
                "12/09/2012",
                "01/05/2023",
                "C2: FCO",
                "01/06/2023",
                "01/03/2024",
                "",
                "15/01/2024",
                "k) P1: Placed with parents",
                PC_C,
                "South Locality",
                "Cara Doyle",
            ],
        ],
        9: [
            ["A4", "01/01/2006", "South Locality", "", "Dan Evans", "20/03/2024"],
        ],
    }


def write_annex_a(path: Path, rows: dict[int, list[list[Any]]] | None = None) -> Path:
    """An Annex A workbook with a title line above each list's header, as the template has."""
    book = Workbook()
    book.remove(book.active)
    for list_no, body in (rows or annex_rows()).items():
        sheet = book.create_sheet(f"List {list_no}")
        sheet.append([f"List {list_no}"])
        sheet.append(ANNEX_HEADERS[list_no])
        for row in body:
            sheet.append(row)
    book.save(path)
    return path


def write_homes(path: Path, homes: dict[str, str]) -> Path:
    """The Annex A side file of home postcodes in ssd_address column names."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["addr_person_id", "addr_address_postcode"])
        writer.writerows(homes.items())
    return path
