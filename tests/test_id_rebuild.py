"""Nothing stored in plain text, nor any answer shown to staff, rebuilds an ID number (issue 11 §1).

The attacker holds a dump of every plain column of every table and every staff-facing answer
of a full flow (tests/id_exposure_flow.py). A mask gives the area code (digits 1–6) and the last
four (15–18); the birth date (7–14) must be nowhere, in any form.
"""
import contextlib
import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
import redis
import sqlalchemy as sa

from app import create_app
from app.extensions import db, limiter
from app.services.office.reference_data import load_reference_data
from app.services.people.identity import id_check_character
from tests.builders import make_id_number
from tests.conftest import _empty_tables, _test_config
from tests.id_exposure_flow import run_flow

# Dates written with separators (2026-12-02, 2026/12/02, 2026年12月02日) are read as their 8 digits.
_SEPARATED_DATE = re.compile(r"(\d{4})[-/.年](\d{2})[-/.月](\d{2})")
_RUN = re.compile(r"[0-9X]+")


def _dump(skip_encrypted):
    """Every value of every row of every table, reflected from the database (not the models), as text."""
    tables = sa.MetaData()
    tables.reflect(db.engine)
    values = []
    with db.engine.connect() as connection:
        for table in tables.sorted_tables:
            columns = [c for c in table.columns if not (skip_encrypted and c.name.endswith("_cipher"))]
            for row in connection.execute(sa.select(*columns)):
                values.extend(row)
    return values


def _as_text(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return "" if value is None else str(value)


def _windows(texts, width):
    """Every run of `width` characters of [0-9X] found in the texts, dates first read as 8 digits."""
    found = set()
    for text in texts:
        for run in _RUN.findall(_SEPARATED_DATE.sub(r"\1\2\3", text)):
            found.update(run[i:i + width] for i in range(len(run) - width + 1))
    return found


def rebuilt_ids(real_ids, texts):
    """The real ID numbers an attacker can put together from `texts`.

    An 18-character run with a valid check character, or any area code (6 digits), birth run (8
    digits) and last four found anywhere, with no regard for which row or answer they came from:
    every such combination that passes GB 11643's check and equals a real ID counts as rebuilt.
    """
    whole, areas, births, lasts = (_windows(texts, width) for width in (18, 6, 8, 4))
    found = set()
    for real in real_ids:
        candidates = {real} & whole
        if real[:6] in areas and real[6:14] in births and real[14:] in lasts:
            candidates.add(real[:6] + real[6:14] + real[14:])
        found.update(c for c in candidates if id_check_character(c[:17]) == c[17])
    return sorted(found)


def test_the_rebuild_finds_an_id_from_its_pieces():
    """The attacker is not toothless: a mask and a birth date seen apart rebuild the number."""
    real = make_id_number("510104", "19780314", 501)
    mask = f"510104********{real[14:]}"
    assert rebuilt_ids([real], [mask, "born 1978-03-14"]) == [real]
    assert rebuilt_ids([real], [f"x{real}x"]) == [real]
    assert rebuilt_ids([real], [mask, "1978", "0314"]) == []


@pytest.fixture(scope="module")
def after_the_flow(backend):
    """The full flow run once per backend: the people's ID numbers and birth dates, the staff-facing
    answers, and two dumps of the database (plain columns only, and everything)."""
    app = create_app(_test_config(backend))
    with app.app_context():
        with contextlib.suppress(redis.RedisError):
            limiter.reset()
        load_reference_data()
        try:
            ids, births, answers = run_flow(app.test_client())
            yield SimpleNamespace(ids=ids, births=births, answers=answers, plain=_dump(skip_encrypted=True),
                                  every=_dump(skip_encrypted=False))
        finally:
            _empty_tables()
            db.session.remove()
            db.engine.dispose()


def test_no_id_number_is_rebuilt_from_a_dump_and_the_staff_answers(after_the_flow):
    ids, staff_answers = after_the_flow.ids, after_the_flow.answers
    plain_columns = [_as_text(value) for value in after_the_flow.plain]
    assert rebuilt_ids(ids, plain_columns) == [], "rebuilt from the plain columns"
    assert rebuilt_ids(ids, staff_answers) == [], "rebuilt from the staff-facing answers"
    assert rebuilt_ids(ids, plain_columns + staff_answers) == [], "rebuilt from both together"
    # The pieces a staff member needs are still there: area code and last four of each.
    shown = "\n".join(staff_answers)
    assert all(f"{number[:6]}********{number[14:]}" in shown for number in ids)


def test_no_column_holds_a_birth_date(after_the_flow):
    births = after_the_flow.births
    eight = {born.strftime("%Y%m%d") for born in births}
    dashed = {born.isoformat() for born in births}
    found = []
    for value in after_the_flow.every:
        if isinstance(value, (date, datetime)):
            day = value.date() if isinstance(value, datetime) else value
            if day in births:
                found.append(value)
            continue
        text = _as_text(value)
        if _windows([text], 8) & eight or any(form in text for form in dashed):
            found.append(text[:80])
    assert found == []
