"""Tests of matching.datasets: shipped demo tables, the demo market, the evaluation market."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matching import datasets
from matching.certificates import (
    CERTIFICATE_SYNONYMS,
    normalise_certificate,
    normalise_licence_class,
)
from matching.commute import haversine_km
from matching.datasets import (
    DEMO_REFERENCE_DATE,
    DemoMarket,
    EvaluationMarket,
    demo_names,
    demo_occupations,
    demo_postcodes,
    make_demo_market,
    make_evaluation_market,
)
from matching.errors import DataFileError, InvalidInputError
from matching.language import parse_languages, parse_level
from matching.schema import AVAILABILITY_SHIFTS, MODES, WORK_PERMIT_VALUES, P, V
from matching.taxonomy import Taxonomy

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the module's demo and evaluation markets are built once.
pytestmark = pytest.mark.xdist_group("datasets")

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BIELEFELD_POSTCODES = {
    "33602", "33604", "33605", "33607", "33609", "33611", "33613", "33615", "33617", "33619",
    "33647", "33649", "33659", "33689", "33699", "33719", "33729", "33739",
}  # fmt: skip
BIELEFELD_CENTRE = (52.0208, 8.5320)
VACANCY_COLUMNS = [
    V.ID, V.EMPLOYER_ID, V.TITLE, V.OCCUPATION, V.SKILLS, V.CERTIFICATES, V.LANGUAGES,
    V.POSTCODE, V.QUARTER, V.LAT, V.LON, V.HOURS, V.DAYS, V.SHIFTS, V.DRIVING_LICENCE,
    V.WORK_PERMIT_REQUIRED, V.OPENINGS, V.START_DATE, V.STATUS,
]  # fmt: skip
PARTICIPANT_COLUMNS = [
    P.ID, P.SKILLS, P.CERTIFICATES, P.LANGUAGES, P.POSTCODE, P.QUARTER, P.LAT, P.LON,
    P.MODES, P.DRIVING_LICENCE, P.MAX_COMMUTE, P.HOURS_MIN, P.HOURS_MAX, P.AVAILABILITY,
    P.WORK_PERMIT, P.DESIRED_OCCUPATIONS, P.PAST_OCCUPATIONS, P.CONSENT, P.APPROVED,
]  # fmt: skip


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def demo(taxonomy: Taxonomy) -> DemoMarket:
    return make_demo_market(taxonomy=taxonomy, random_state=0)


@pytest.fixture(scope="module")
def big_demo(taxonomy: Taxonomy) -> DemoMarket:
    """Many participants and vacancies, for the shares."""
    return make_demo_market(60, 600, 1200, taxonomy=taxonomy, random_state=7)


@pytest.fixture(scope="module")
def evaluation(taxonomy: Taxonomy) -> EvaluationMarket:
    return make_evaluation_market(taxonomy=taxonomy, random_state=0)


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return (
        list(a.columns) == list(b.columns)
        and list(a.dtypes.astype(str)) == list(b.dtypes.astype(str))
        and a.to_json() == b.to_json()
        and pickle.dumps(a) == pickle.dumps(b)
    )


# --- shipped tables -----------------------------------------------------------------


def test_occupations_table_is_consistent_with_taxonomy(taxonomy: Taxonomy) -> None:
    table = demo_occupations()
    assert table["key"].is_unique and table["occupation_uri"].is_unique
    assert len(table) >= 30
    for row in table.itertuples():
        concept = taxonomy.occupation(row.occupation_uri)
        assert concept.isco_code == row.isco_code, row.key
        assert concept.label_en.strip() == row.esco_label_en, row.key
        position = taxonomy.occupation_position[row.occupation_uri]
        assert taxonomy.occupation_essential[position].nnz >= 5, row.key
        assert row.title_de.endswith("(m/w/d)"), row.key
        assert row.weight > 0
        assert all(1 <= float(h) <= 40 for h in row.hours.split("|"))
        assert all(1 <= int(d) <= 6 for d in row.days.split("|"))
        for option in row.shifts.split("|"):
            shifts, _, weight = option.partition(":")
            assert set(shifts.split("+")) <= set(AVAILABILITY_SHIFTS), row.key
            assert float(weight) > 0
        for option in row.german.split("|"):
            level, _, weight = option.partition(":")
            assert 1 <= parse_level(level) <= 6 and float(weight) > 0, row.key
        assert 0 <= row.driving_licence_share <= 1 and 0 <= row.certificate_share <= 1
        if row.driving_licence:
            assert normalise_licence_class(row.driving_licence) == row.driving_licence
        if row.certificate:
            assert normalise_certificate(row.certificate) in CERTIFICATE_SYNONYMS, row.key
        assert row.phrases.strip()


def test_occupations_cover_the_sectors_of_the_brief() -> None:
    sectors = set(demo_occupations()["sector"])
    assert sectors == {
        "logistics", "cleaning", "care", "retail", "gastronomy", "crafts", "driving",
        "office", "production", "security", "gardening",
    }  # fmt: skip


def test_postcodes_table() -> None:
    table = demo_postcodes()
    local = table[table["city"] == "Bielefeld"]
    assert set(local["postcode"]) == BIELEFELD_POSTCODES
    assert local["resident_weight"].sum() == pytest.approx(1.0)
    assert local["employer_weight"].sum() == pytest.approx(1.0)
    far = table[table["city"] != "Bielefeld"]
    assert len(far) >= 5
    assert (far[["resident_weight", "employer_weight"]] == 0).all().all()
    km = haversine_km(*BIELEFELD_CENTRE, far["lat"].to_numpy(), far["lon"].to_numpy())
    assert (km >= 150).all()
    km_local = haversine_km(*BIELEFELD_CENTRE, local["lat"].to_numpy(), local["lon"].to_numpy())
    assert (km_local < 15).all()


def test_names_are_marked_fictional() -> None:
    names = demo_names()
    assert set(names["kind"]) >= {"first", "last", "employer_prefix", "employer_fantasy"}
    groups = set(names.loc[names["kind"] == "first", "group"])
    assert groups == {"de", "ar", "tr", "uk", "ru", "fa", "pl", "ro", "en"}
    assert set(names.loc[names["kind"] == "last", "group"]) == groups


@pytest.mark.shared_data
def test_shipped_tables_agree_with_shared_sources() -> None:
    occupations_de = SHARED / "esco-v1.2.0-de-en" / "de" / "occupations_de.csv.gz"
    geonames = SHARED / "plz-de-geonames" / "zipcodes.de.csv.gz"
    if not occupations_de.exists() or not geonames.exists():
        pytest.skip("../shared/data is absent: cannot compare with the ESCO and GeoNames files")
    esco = pd.read_csv(occupations_de, usecols=["conceptUri", "iscoGroup"], dtype=str)
    isco = dict(zip(esco["conceptUri"], esco["iscoGroup"], strict=True))
    for row in demo_occupations().itertuples():
        assert isco.get(row.occupation_uri) == row.isco_code, row.key
    places = pd.read_csv(geonames, usecols=["zipcode", "place"], dtype=str)
    bielefeld = set(places.loc[places["place"] == "Bielefeld", "zipcode"])
    assert bielefeld >= BIELEFELD_POSTCODES


# --- demo market --------------------------------------------------------------------


def test_demo_market_shapes_and_columns(demo: DemoMarket) -> None:
    assert len(demo.employers) == 60
    assert len(demo.vacancies) == 300
    assert len(demo.participants) == 200
    assert list(demo.vacancies.columns) == VACANCY_COLUMNS
    assert list(demo.participants.columns) == [P.ID, "name", "contact", *PARTICIPANT_COLUMNS[1:]]
    assert demo.employers["employer_id"].str.fullmatch(r"emp-\d{4}").all()
    assert demo.vacancies[V.ID].str.fullmatch(r"vac-\d{5}").all()
    assert demo.participants[P.ID].str.fullmatch(r"par-\d{5}").all()
    for frame, column in (
        (demo.employers, "employer_id"), (demo.vacancies, V.ID), (demo.participants, P.ID),
    ):  # fmt: skip
        assert frame[column].is_unique


def test_demo_employers(demo: DemoMarket) -> None:
    employers = demo.employers
    assert set(employers["postcode"]) <= BIELEFELD_POSTCODES
    assert set(employers["size_class"]) <= {"micro", "small", "medium"}
    assert employers["name"].is_unique
    fictional = ("Muster", "Beispiel", "Demo", "Platzhalter", "Fiktiv", "Probe", "Exempel",
                 "Erfunden", "Probst")  # fmt: skip
    assert all(any(word in name for word in fictional) for name in employers["name"])
    # every employer has at least one vacancy when there are enough vacancies
    assert set(demo.vacancies[V.EMPLOYER_ID]) == set(employers["employer_id"])


def test_demo_vacancies_follow_the_rules(demo: DemoMarket, taxonomy: Taxonomy) -> None:
    vacancies = demo.vacancies
    table = demo_occupations().set_index("occupation_uri")
    employers = demo.employers.set_index("employer_id")
    for row in vacancies.itertuples(index=False):
        record = dict(zip(VACANCY_COLUMNS, row, strict=True))
        uri = record[V.OCCUPATION]
        assert uri in table.index
        position = taxonomy.occupation_position[uri]
        essential = set(taxonomy.occupation_essential[position].indices)
        optional = set(taxonomy.occupation_optional[position].indices)
        skills = record[V.SKILLS]
        positions = [taxonomy.skill_position[s["skill"]] for s in skills]
        assert len(set(positions)) == len(positions)
        # all essential ESCO skills are listed; 60-100 % of them marked essential
        assert essential <= set(positions)
        marked = sum(s["essential"] for s in skills)
        assert 0.6 * len(essential) <= marked <= len(essential)
        assert all(taxonomy.skill_position[s["skill"]] in essential for s in skills
                   if s["essential"])  # fmt: skip
        assert set(positions) - essential <= optional
        assert len(set(positions) - essential) <= 4
        parse_languages(record[V.LANGUAGES])
        assert record[V.LANGUAGES][0]["language"] == "de"
        assert set(record[V.SHIFTS]) <= set(AVAILABILITY_SHIFTS) and record[V.SHIFTS]
        assert 1 <= record[V.OPENINGS] <= 3
        assert record[V.STATUS] in ("open", "filled", "closed")
        start = dt.date.fromisoformat(record[V.START_DATE])
        assert DEMO_REFERENCE_DATE < start <= DEMO_REFERENCE_DATE + dt.timedelta(days=56)
        assert record[V.DRIVING_LICENCE] in (None, "B", "CE")
        assert record[V.TITLE].startswith(table.at[uri, "title_de"])
        employer = employers.loc[record[V.EMPLOYER_ID]]
        assert (record[V.POSTCODE], record[V.LAT]) == (employer["postcode"], employer["lat"])
    status = vacancies[V.STATUS].value_counts(normalize=True)
    assert status["open"] > 0.8 and status.get("filled", 0) + status.get("closed", 0) > 0
    # certificates and licences appear where the curated table says they are typical
    drivers = vacancies[vacancies[V.TITLE].str.startswith("Auslieferungsfahrer")]
    assert (drivers[V.DRIVING_LICENCE] == "B").all()


def test_demo_participants_are_valid(demo: DemoMarket, taxonomy: Taxonomy) -> None:
    for record in demo.participants.to_dict("records"):
        assert record[P.SKILLS], record[P.ID]
        assert all(isinstance(s, str) and s.strip() for s in record[P.SKILLS])
        languages = parse_languages(record[P.LANGUAGES])
        assert "de" in languages
        assert record[P.POSTCODE] in BIELEFELD_POSTCODES
        assert set(record[P.MODES]) <= set(MODES) and {"walk", "transit"} <= set(record[P.MODES])
        if "car" in record[P.MODES]:
            assert "B" in record[P.DRIVING_LICENCE]
        assert record[P.HOURS_MIN] <= record[P.HOURS_MAX]
        assert set(record[P.AVAILABILITY]) <= set(AVAILABILITY_SHIFTS)
        assert record[P.WORK_PERMIT] in WORK_PERMIT_VALUES
        assert record[P.MAX_COMMUTE] in (None, 30.0, 45.0, 60.0)
        if record[P.APPROVED]:
            assert record[P.CONSENT]
        for value in record[P.DESIRED_OCCUPATIONS] + record[P.PAST_OCCUPATIONS]:
            assert value.strip()
            if value.startswith("http"):
                assert taxonomy.is_occupation_uri(value)
        for value in record[P.SKILLS]:
            if value.startswith("http"):
                assert taxonomy.is_skill_uri(value)
        assert record["contact"].endswith("@example.org")


def test_demo_participant_shares(big_demo: DemoMarket) -> None:
    people = big_demo.participants
    n = len(people)
    postcode = people[P.POSTCODE]
    # the programme's quarters: Baumheide 22 %, Stieghorst 20 %, Sennestadt 18 %
    assert (postcode == "33609").mean() == pytest.approx(0.22, abs=0.04)
    assert postcode.isin(["33604", "33605", "33699"]).mean() == pytest.approx(0.20, abs=0.04)
    assert (postcode == "33689").mean() == pytest.approx(0.18, abs=0.04)
    german = [parse_languages(x)["de"] for x in people[P.LANGUAGES]]
    levels = pd.Series([g[0] for g in german])
    native = (levels == 7).mean()
    # native: 30 % German first language + 30 % of the 13 % Turkish speakers = 0.339
    assert native == pytest.approx(0.339, abs=0.04)
    non_native = levels[levels < 7]
    # among non-natives: A2 + B1 = 62 %, A1 = 12 %
    assert non_native.isin([2, 3]).mean() == pytest.approx(0.62, abs=0.05)
    assert (non_native == 1).mean() == pytest.approx(0.12, abs=0.04)
    courses = sum(1 for g in german if g[1] > g[0])
    assert 0.05 * n < courses < 0.3 * n
    others = {e["language"] for x in people[P.LANGUAGES] for e in x}
    assert {"ar", "tr", "uk", "ru", "en", "fa", "pl", "ro"} <= others
    skills = [s for x in people[P.SKILLS] for s in x]
    text_share = np.mean([not s.startswith("http://") for s in skills])
    assert 0.3 < text_share < 0.7
    assert (people[P.WORK_PERMIT] == "yes").mean() > 0.75
    assert people[P.WORK_PERMIT].nunique() == 4
    childcare = people[P.AVAILABILITY].map(lambda a: a == ["day"]).mean()
    assert childcare == pytest.approx(0.25, abs=0.04)
    assert people[P.CONSENT].mean() == pytest.approx(0.9, abs=0.03)
    car = people[P.MODES].map(lambda m: "car" in m).mean()
    assert 0.05 < car < 0.35
    assert people[P.MAX_COMMUTE].notna().mean() == pytest.approx(0.3, abs=0.04)


def test_demo_vacancy_german_levels(big_demo: DemoMarket) -> None:
    levels = big_demo.vacancies[V.LANGUAGES].map(lambda x: x[0]["level"])
    shares = levels.value_counts(normalize=True)
    assert shares.get("A2", 0) + shares.get("B1", 0) > 0.6
    assert shares.get("B2", 0) > 0.03
    office = big_demo.vacancies[big_demo.vacancies[V.TITLE].str.startswith("Bürokraft")]
    assert set(office[V.LANGUAGES].map(lambda x: x[0]["level"])) <= {"B2", "C1"}


def test_demo_market_is_deterministic(taxonomy: Taxonomy, demo: DemoMarket) -> None:
    again = make_demo_market(taxonomy=taxonomy, random_state=0)
    assert _frames_equal(demo.employers, again.employers)
    assert _frames_equal(demo.vacancies, again.vacancies)
    assert _frames_equal(demo.participants, again.participants)
    other = make_demo_market(taxonomy=taxonomy, random_state=1)
    assert not _frames_equal(demo.participants, other.participants)


def test_demo_market_reference_date(taxonomy: Taxonomy) -> None:
    today = dt.date(2027, 3, 1)
    market = make_demo_market(3, 10, 5, taxonomy=taxonomy, reference_date=today)
    starts = market.vacancies[V.START_DATE].map(dt.date.fromisoformat)
    assert (starts > today).all()


def test_demo_market_small_and_empty(taxonomy: Taxonomy) -> None:
    market = make_demo_market(0, 0, 0, taxonomy=taxonomy)
    assert market.vacancies.empty and market.participants.empty and market.employers.empty
    assert list(market.vacancies.columns) == VACANCY_COLUMNS
    few = make_demo_market(10, 3, 1, taxonomy=taxonomy)
    assert len(few.vacancies) == 3 and len(few.employers) == 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_employers": -1}, "n_employers"),
        ({"n_vacancies": 2.5}, "n_vacancies"),
        ({"n_participants": True}, "n_participants"),
        ({"n_employers": 0, "n_vacancies": 5}, "n_employers"),
        ({"reference_date": "2026-12-01"}, "reference_date"),
    ],
)
def test_demo_market_bad_input(taxonomy: Taxonomy, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_demo_market(taxonomy=taxonomy, **kwargs)
    assert info.value.field == field


def test_missing_demo_table_raises_data_file_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, taxonomy: Taxonomy
) -> None:
    monkeypatch.setattr(datasets, "DEMO_DATA_DIR", tmp_path)
    datasets._occupations_table.cache_clear()
    try:
        with pytest.raises(DataFileError, match=r"occupations\.csv: file not found"):
            make_demo_market(taxonomy=taxonomy)
        (tmp_path / "occupations.csv").write_text("key,weight\nx,1\n", encoding="utf-8")
        datasets._occupations_table.cache_clear()
        with pytest.raises(DataFileError, match="missing column 'occupation_uri'"):
            demo_occupations()
    finally:
        datasets._occupations_table.cache_clear()


def test_demo_market_feeds_the_matcher(taxonomy: Taxonomy) -> None:
    from matching.matcher import Matcher

    market = make_demo_market(8, 40, 15, taxonomy=taxonomy, random_state=3)
    matcher = Matcher(taxonomy=taxonomy).fit(market.vacancies, market.participants)
    result = matcher.match_participant(market.participants[P.ID].iloc[0], limit=5)
    assert len(result.items) <= 5


# --- evaluation market --------------------------------------------------------------


def test_evaluation_market_shapes(evaluation: EvaluationMarket) -> None:
    assert len(evaluation.vacancies) == 200 * 3
    assert len(evaluation.participants) == 200 * 5
    assert list(evaluation.vacancies.columns) == VACANCY_COLUMNS
    assert list(evaluation.participants.columns) == PARTICIPANT_COLUMNS
    assert set(evaluation.relevance) == set(evaluation.participants[P.ID])
    assert set(evaluation.participant_occupation) == set(evaluation.participants[P.ID])
    assert evaluation.vacancies[V.OCCUPATION].nunique() == 200
    counts = pd.Series(evaluation.participant_occupation).value_counts()
    assert (counts == 5).all()


def test_evaluation_relevance_follows_the_rules(
    evaluation: EvaluationMarket, taxonomy: Taxonomy
) -> None:
    vac_occ = dict(zip(evaluation.vacancies[V.ID], evaluation.vacancies[V.OCCUPATION],
                       strict=True))  # fmt: skip

    def isco(uri: str) -> str:
        return taxonomy.occupation(uri).isco_code

    n_grade_one = 0
    for pid, grades in evaluation.relevance.items():
        own = evaluation.participant_occupation[pid]
        expected = {}
        for vid, uri in vac_occ.items():
            if uri == own:
                expected[vid] = 2.0
            elif isco(uri) == isco(own):
                expected[vid] = 1.0
        assert grades == expected, pid
        assert sum(g == 2.0 for g in grades.values()) == 3
        n_grade_one += sum(g == 1.0 for g in grades.values())
    # occupations are sampled in clusters per ISCO unit group, so grade 1 is common
    assert n_grade_one > len(evaluation.relevance)


def test_evaluation_infeasible_follows_the_rules(evaluation: EvaluationMarket) -> None:
    vac = evaluation.vacancies
    par = evaluation.participants
    required = vac[V.LANGUAGES].map(lambda x: parse_level(x[0]["level"])).to_numpy()
    german = [parse_languages(x)["de"] for x in par[P.LANGUAGES]]
    level = np.array([g[0] for g in german])
    expected = np.array([g[1] for g in german])
    by = np.array([np.datetime64("NaT") if g[2] is None else g[2] for g in german],
                  dtype="datetime64[D]")  # fmt: skip
    start = vac[V.START_DATE].to_numpy().astype("datetime64[D]")
    km = haversine_km(
        par[P.LAT].to_numpy()[:, None], par[P.LON].to_numpy()[:, None],
        vac[V.LAT].to_numpy()[None, :], vac[V.LON].to_numpy()[None, :],
    )  # fmt: skip
    far = km.min(axis=0) >= 150
    near = km.max(axis=0) < 30
    assert (far | near).all()  # every vacancy is clearly near or clearly far
    assert 0.01 < far.mean() < 0.12
    # the language rule, written out: meets, or exactly one level short with a course
    # reaching the minimum by the start date
    short = required[None, :] - level[:, None]
    in_time = by[:, None] <= start[None, :]
    reachable = (short == 1) & (expected[:, None] >= required[None, :]) & in_time
    language_gap = (short > 0) & ~reachable
    mask = language_gap | far[None, :]
    rows, cols = np.nonzero(mask)
    expected_pairs = set(zip(par[P.ID].to_numpy()[rows], vac[V.ID].to_numpy()[cols], strict=True))
    assert evaluation.infeasible == expected_pairs
    # all three kinds occur: two levels short, one short without a course in time, far
    assert ((short >= 2) & ~far[None, :]).any()
    assert ((short == 1) & ~reachable & ~far[None, :]).any()
    assert (reachable & ~far[None, :]).any()  # and some pairs pass only thanks to a course
    # everything else is feasible by construction
    assert (vac[V.STATUS] == "open").all()
    assert vac[V.CERTIFICATES].map(len).eq(0).all() and vac[V.DRIVING_LICENCE].isna().all()
    assert (par[P.HOURS_MIN] <= vac[V.HOURS].min()).all()
    assert (par[P.HOURS_MAX] >= vac[V.HOURS].max()).all()


def test_count_infeasible_uses_the_mask(evaluation: EvaluationMarket) -> None:
    mask = evaluation.infeasible_mask
    pids = evaluation.participants[P.ID].tolist()
    vids = evaluation.vacancies[V.ID].tolist()
    assert mask.shape == (len(pids), len(vids))
    assert int(mask.sum()) == len(evaluation.infeasible)
    everything = dict.fromkeys(pids, vids)
    assert evaluation.count_infeasible(everything, k=len(vids)) == int(mask.sum())
    # k = 2: the first two vacancies of every list
    assert evaluation.count_infeasible(everything, k=2) == int(mask[:, :2].sum())
    reverse = {pid: vids[::-1] for pid in pids[:3]}
    assert evaluation.count_infeasible(reverse, k=1) == int(mask[:3, -1].sum())
    assert evaluation.count_infeasible({}, k=10) == 0
    with pytest.raises(InvalidInputError) as info:
        evaluation.count_infeasible(everything, k=0)
    assert info.value.field == "k"
    with pytest.raises(InvalidInputError, match="unknown vacancy id 'vac-x'"):
        evaluation.count_infeasible({pids[0]: ["vac-x"]})
    with pytest.raises(InvalidInputError, match="unknown participant id 'par-x'"):
        evaluation.count_infeasible({"par-x": vids[:1]})


def test_feasible_relevance_drops_infeasible_pairs(evaluation: EvaluationMarket) -> None:
    feasible = evaluation.feasible_relevance()
    assert set(feasible) == set(evaluation.relevance)
    for pid, grades in feasible.items():
        assert not any((pid, vid) in evaluation.infeasible for vid in grades)
        assert set(grades) <= set(evaluation.relevance[pid])
    dropped = sum(len(g) for g in evaluation.relevance.values()) - sum(
        len(g) for g in feasible.values()
    )
    assert dropped > 0


def test_evaluation_participant_skills(evaluation: EvaluationMarket, taxonomy: Taxonomy) -> None:
    entries = evaluation.skill_entries
    participants = evaluation.participants.set_index(P.ID)
    for pid, group in entries.groupby("participant_id", sort=False):
        assert participants.at[pid, P.SKILLS] == group["entry"].tolist()
        position = taxonomy.occupation_position[evaluation.participant_occupation[pid]]
        essential = set(taxonomy.occupation_essential[position].indices)
        related = essential | set(taxonomy.occupation_optional[position].indices)
        skills = [taxonomy.skill_position[u] for u in group["skill_uri"]]
        own = [s for s, f in zip(skills, group["from_occupation"], strict=True) if f]
        other = [s for s, f in zip(skills, group["from_occupation"], strict=True) if not f]
        assert set(own) <= essential
        assert max(1, round(0.4 * len(essential))) <= len(own) <= round(0.8 * len(essential))
        assert 1 <= len(other) <= 3  # 1-3 unrelated skills (a repeated draw counts once)
        assert not set(other) & related


def test_evaluation_text_and_noise_rates(evaluation: EvaluationMarket, taxonomy: Taxonomy) -> None:
    entries = evaluation.skill_entries
    assert entries["as_text"].mean() == pytest.approx(0.5, abs=0.03)
    text = entries[entries["as_text"]]
    assert (text["noise"] != "none").mean() == pytest.approx(0.5, abs=0.04)
    assert text["lowercased"].mean() == pytest.approx(0.3, abs=0.04)
    assert set(text["noise"]) == {"none", "drop_word", "typo"}
    uris = entries[~entries["as_text"]]
    assert (uris["entry"] == uris["skill_uri"]).all()
    assert (uris["noise"] == "none").all() and not uris["lowercased"].any()
    skills = taxonomy.skills.set_index("uri")
    for row in text.itertuples():
        labels = {skills.at[row.skill_uri, "label_en"], skills.at[row.skill_uri, "label_de"]}
        labels = {label.casefold() for label in labels if label}
        if row.noise == "none":
            assert row.entry.casefold() in labels
        else:
            assert row.entry.casefold() not in labels
        if row.noise == "drop_word":
            assert any(len(label.split()) == len(row.entry.split()) + 1 for label in labels)
    german = text[text["noise"] == "none"]["entry"].map(lambda e: any(c in e for c in "äöüß"))
    assert german.any()


def test_evaluation_noise_can_be_switched_off(taxonomy: Taxonomy) -> None:
    clean = make_evaluation_market(
        n_occupations=30, taxonomy=taxonomy, noise_share=0.0, random_state=2
    )
    assert (clean.skill_entries["noise"] == "none").all()
    uris_only = make_evaluation_market(
        n_occupations=30, taxonomy=taxonomy, text_share=0.0, random_state=2
    )
    assert not uris_only.skill_entries["as_text"].any()
    assert (
        uris_only.participants[P.SKILLS]
        .map(lambda s: all(x.startswith("http://data.europa.eu/esco/skill/") for x in s))
        .all()
    )
    nearby = make_evaluation_market(n_occupations=30, taxonomy=taxonomy, far_share=0.0)
    assert nearby.vacancies[V.POSTCODE].isin(BIELEFELD_POSTCODES).all()


def test_evaluation_market_is_deterministic(
    taxonomy: Taxonomy, evaluation: EvaluationMarket
) -> None:
    again = make_evaluation_market(taxonomy=taxonomy, random_state=0)
    assert _frames_equal(evaluation.vacancies, again.vacancies)
    assert _frames_equal(evaluation.participants, again.participants)
    assert _frames_equal(evaluation.skill_entries, again.skill_entries)
    assert evaluation.relevance == again.relevance
    assert evaluation.infeasible == again.infeasible
    other = make_evaluation_market(taxonomy=taxonomy, random_state=1)
    assert evaluation.participant_occupation != other.participant_occupation


@pytest.mark.slow
def test_evaluation_market_scales_to_ten_thousand_participants(taxonomy: Taxonomy) -> None:
    market = make_evaluation_market(
        n_occupations=500, participants_per_occupation=20, taxonomy=taxonomy, random_state=4
    )
    assert len(market.participants) == 10_000
    assert len(market.vacancies) == 1_500
    assert market.participants[P.ID].is_unique


@pytest.mark.shared_data
def test_evaluation_market_from_esco_dir_matches_the_shipped_relations(
    taxonomy: Taxonomy, evaluation: EvaluationMarket
) -> None:
    esco_dir = SHARED / "esco-v1.1.1-en"
    if not (esco_dir / "occupationSkillRelations.csv.gz").exists():
        pytest.skip("../shared/data is absent: no ESCO v1.1.1 relations to read")
    market = make_evaluation_market(esco_dir, taxonomy=taxonomy, random_state=0)
    # the shipped taxonomy holds ESCO v1.1.1's relations, so the markets coincide
    assert _frames_equal(market.vacancies, evaluation.vacancies)
    assert market.relevance == evaluation.relevance


def test_evaluation_market_bad_input(taxonomy: Taxonomy, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_evaluation_market(n_occupations=0, taxonomy=taxonomy)
    assert info.value.field == "n_occupations"
    with pytest.raises(InvalidInputError, match="exceeds") as info:
        make_evaluation_market(n_occupations=100_000, taxonomy=taxonomy)
    assert info.value.field == "n_occupations"
    with pytest.raises(InvalidInputError) as info:
        make_evaluation_market(taxonomy=taxonomy, text_share=1.5)
    assert info.value.field == "text_share"
    with pytest.raises(InvalidInputError) as info:
        make_evaluation_market(taxonomy=taxonomy, participants_per_occupation=0)
    assert info.value.field == "participants_per_occupation"
    with pytest.raises(DataFileError, match="occupationSkillRelations"):
        make_evaluation_market(tmp_path, taxonomy=taxonomy)


def test_evaluation_market_infeasible_pairs_are_filtered_by_the_matcher(
    taxonomy: Taxonomy,
) -> None:
    from matching.matcher import Matcher

    market = make_evaluation_market(n_occupations=20, taxonomy=taxonomy, random_state=5)
    matcher = Matcher(taxonomy=taxonomy).fit(market.vacancies, market.participants)
    shown: set[tuple[str, str]] = set()
    excluded: dict[tuple[str, str], list[str]] = {}
    for pid in market.participants[P.ID]:
        result = matcher.match_participant(pid, limit=10, excluded_limit=None)
        shown.update((pid, item.vacancy_id) for item in result.items)
        excluded.update(((pid, e["vacancy_id"]), e["reasons"]) for e in result.excluded)
    assert shown and not shown & market.infeasible
    assert market.infeasible <= set(excluded)
    # beyond the constructed pairs, the default distance estimate only drops a few long
    # trips across the city (e.g. Sennestadt to Jöllenbeck by bus)
    extra = set(excluded) - market.infeasible
    assert len(extra) < 0.05 * len(market.participants) * len(market.vacancies)
    par = market.participants.set_index(P.ID)
    vac = market.vacancies.set_index(V.ID)
    for pid, vid in extra:
        assert excluded[pid, vid] == ["commute_too_long"]
        km = haversine_km(par.at[pid, P.LAT], par.at[pid, P.LON], vac.at[vid, V.LAT],
                          vac.at[vid, V.LON])  # fmt: skip
        assert 10 < km < 30
