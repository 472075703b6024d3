"""Tests of :mod:`matching.taxonomy`: loading, matrices, resolution and the ESCO import."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import DataFileError, InvalidInputError, UnknownConceptError
from matching.taxonomy import (
    RESOLVE_THRESHOLD,
    Concept,
    Resolution,
    Taxonomy,
    import_esco,
    is_helper_title,
    normalize_text,
    query_variants,
    title_variants,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FORKLIFT = "http://data.europa.eu/esco/skill/28cb374e-6261-4133-8371-f9a5470145da"
PICK_ORDERS = "pick orders for dispatching"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


def _uri(resolution: Resolution) -> str | None:
    return resolution.concept.uri if resolution.concept is not None else None


def _skill_uri(taxonomy: Taxonomy, label_en: str) -> str:
    rows = taxonomy.skills[taxonomy.skills["label_en"] == label_en]
    assert len(rows) == 1, label_en
    return str(rows["uri"].iloc[0])


# --------------------------------------------------------------------------- loading


def test_load_is_fast() -> None:
    start = time.perf_counter()
    Taxonomy.load()
    assert time.perf_counter() - start < 2.0


def test_shapes_and_counts(taxonomy: Taxonomy) -> None:
    n_skills, n_occ = len(taxonomy.skills), len(taxonomy.occupations)
    assert n_skills == 13896
    assert n_occ == 3007
    assert taxonomy.occupation_essential.shape == (n_occ, n_skills)
    assert taxonomy.occupation_optional.shape == (n_occ, n_skills)
    assert taxonomy.skill_related.shape == (n_skills, n_skills)
    for matrix in (
        taxonomy.occupation_essential,
        taxonomy.occupation_optional,
        taxonomy.skill_related,
    ):
        assert matrix.dtype == np.float32
        assert matrix.format == "csr"
    assert set(np.unique(taxonomy.occupation_essential.data)) == {1.0}
    assert taxonomy.occupation_essential.nnz > 60000
    assert taxonomy.occupation_optional.nnz > 55000
    assert list(taxonomy.skills.index) == list(range(n_skills))
    assert taxonomy.skill_position[taxonomy.skills["uri"].iloc[5]] == 5
    assert taxonomy.occupation_position[taxonomy.occupations["uri"].iloc[7]] == 7


def test_skill_related_is_symmetric_weighted_without_diagonal(taxonomy: Taxonomy) -> None:
    related = taxonomy.skill_related
    assert abs(related - related.T).max() == 0
    assert related.diagonal().max() == 0
    assert set(np.unique(related.data)) <= {np.float32(0.5), np.float32(1.0)}
    # "operate forklift" is linked to "conduct forklift inspections" or a sibling.
    row = related.getrow(taxonomy.skill_position[FORKLIFT])
    assert row.nnz > 0


def test_isco_labels_and_codes(taxonomy: Taxonomy) -> None:
    assert taxonomy.isco_labels["9333"]["en"]
    assert taxonomy.isco_labels["9333"]["de"]
    assert taxonomy.isco_labels["9"]["en"]
    codes = taxonomy.occupations["isco_code"]
    assert codes.str.fullmatch(r"\d{4}").all()
    assert "ESCO v1.1.1" in taxonomy.version and "aliases" in taxonomy.version


def test_concept_lookup(taxonomy: Taxonomy) -> None:
    concept = taxonomy.skill(FORKLIFT)
    assert concept == Concept(FORKLIFT, "skill", "operate forklift", concept.label_de, None)
    assert concept.label_de  # filled from the curated German aliases
    assert taxonomy.is_skill_uri(FORKLIFT)
    assert not taxonomy.is_occupation_uri(FORKLIFT)
    occ_uri = taxonomy.occupations["uri"].iloc[0]
    occupation = taxonomy.occupation(occ_uri)
    assert occupation.kind == "occupation" and len(occupation.isco_code or "") == 4
    assert occupation.label_de and "/" not in occupation.label_de
    with pytest.raises(UnknownConceptError):
        taxonomy.skill("http://data.europa.eu/esco/skill/does-not-exist")
    with pytest.raises(UnknownConceptError):
        taxonomy.occupation(FORKLIFT)


def test_missing_directory_raises_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"meta\.json"):
        Taxonomy.load(tmp_path)


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lagerhelfer/in", ["lagerhelfer"]),
        ("Lagerhelfer/-in", ["lagerhelfer"]),
        ("Verkäufer*in", ["verkaeufer"]),
        ("Verkäufer:in", ["verkaeufer"]),
        ("VerkäuferIn", ["verkaeufer"]),
        ("Reinigungskraft (m/w/d)", ["reinigungskraft"]),
        ("Reinigungskraft (w/m/d)", ["reinigungskraft"]),
        ("Helfer/in - Reinigung", ["helfer reinigung"]),
        ("Koch/Köchin", ["koch koechin", "koch", "koechin"]),
        ("Kaufmann/-frau im Einzelhandel", ["kaufmann im einzelhandel"]),
    ],
)
def test_query_variants(text: str, expected: list[str]) -> None:
    assert query_variants(text) == expected


def test_normalize_text_folds_case_umlauts_and_punctuation() -> None:
    assert normalize_text("Straße") == "strasse"
    assert normalize_text("Gabelstapler-Fahrer!") == "gabelstapler fahrer"
    assert normalize_text("Köchin", umlauts="a") == "kochin"


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=2, max_size=12)


@given(st.lists(_WORDS, min_size=1, max_size=3))
def test_normalize_text_is_idempotent_and_plain(words: list[str]) -> None:
    text = " - ".join(w.title() for w in words)
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert set(once) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")


@given(_WORDS, st.sampled_from(["/in", "/-in", "*in", ":in", "_in", " (m/w/d)", " (w/m/d)"]))
def test_gender_markers_do_not_change_the_lookup(word: str, marker: str) -> None:
    title = word.title() + "er"
    assert query_variants(title + marker) == query_variants(title)


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    "text",
    [
        "Stapler fahren",
        "Gabelstapler fahren",
        "stapler fahren",
        "forklift",
        "operate a forklift",
        "Gabelstapler",
        "Staplerfahren",
    ],
)
def test_forklift_skill(taxonomy: Taxonomy, text: str) -> None:
    resolution = taxonomy.resolve_skill(text)
    assert resolution.concept is not None, resolution
    assert resolution.concept.uri == FORKLIFT


@pytest.mark.parametrize(
    ("text", "label_en"),
    [
        ("Kommissionieren", PICK_ORDERS),
        ("Kommisionieren", PICK_ORDERS),  # typo
        ("kommissionieren", PICK_ORDERS),  # lower case
        ("Regale einräumen", "stock shelves"),
        ("Regale einraumen", "stock shelves"),  # umlaut missing
        ("Regale auffüllen", "stock shelves"),
        ("Putzen", "conduct cleaning tasks"),
        ("Kasse", "operate cash register"),
        ("Kasse bedienen", "operate cash register"),
        ("Lebensmittelhygiene", "food hygiene rules"),
        ("Deutsch sprechen", "interact verbally in German"),
        ("MS Office", "use microsoft office"),
        ("Teamfähigkeit", "work in teams"),
        ("clean surfaces", "clean surfaces"),
        ("Fliesen legen", "lay tiles"),
        ("Wände streichen", "paint surfaces"),
    ],
)
def test_known_skill_answers(taxonomy: Taxonomy, text: str, label_en: str) -> None:
    resolution = taxonomy.resolve_skill(text)
    assert resolution.concept is not None, resolution
    assert resolution.concept.label_en == label_en, resolution
    assert RESOLVE_THRESHOLD <= resolution.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "isco"),
    [
        ("Lagerhelfer/in", "9333"),
        ("Lagerhelfer", "9333"),
        ("Staplerfahrerin", "8344"),
        ("Staplerfahrer (m/w/d)", "8344"),
        ("Reinigungskraft (m/w/d)", "9112"),
        ("Putzkraft", "9112"),
        ("Verkäufer*in", "5223"),
        ("Koch/Köchin", "5120"),
        ("Helfer/in - Reinigung", "9112"),
        ("Helfer - Lager", "9333"),
        ("Kommissionierer", "9333"),
        ("Produktionshelfer", "9329"),
        ("Küchenhilfe", "9412"),
        ("Pflegehelfer", "5321"),
        ("Kassierer", "5230"),
        ("kassiererin", "5230"),
        ("Fachkraft für Lagerlogistik", "9333"),
        ("Berufskraftfahrer", "8332"),
        ("warehouse worker", "9333"),
        ("Gabelstapelfahrer", "8344"),  # typo
        ("Lagerarbeiterin", "9333"),
        ("Lagerhelffer", "9333"),  # typo
        ("Staplerfaher", "8344"),  # typo
        ("Fachkraft Lagerlogistik", "9333"),  # a word missing
        ("Mitarbeiterin im Lager", "9333"),
        ("Reinigungskraft für Büro (m/w/d) in Teilzeit", "9112"),
        ("Kuchenhilfe", "9412"),  # umlaut typed as a plain vowel
    ],
)
def test_known_occupation_answers(taxonomy: Taxonomy, text: str, isco: str) -> None:
    resolution = taxonomy.resolve_occupation(text)
    assert resolution.concept is not None, resolution
    assert resolution.concept.isco_code == isco, resolution
    assert resolution.concept.kind == "occupation"


@pytest.mark.parametrize("text", ["xqzt blorpf", "qqqq", "zzkrrv wmptl"])
def test_gibberish_is_reported_unresolved(taxonomy: Taxonomy, text: str) -> None:
    for resolution in (taxonomy.resolve_skill(text), taxonomy.resolve_occupation(text)):
        assert resolution.concept is None
        assert resolution.query == text
        assert 0.0 <= resolution.confidence < RESOLVE_THRESHOLD


def test_uri_passes_through(taxonomy: Taxonomy) -> None:
    resolution = taxonomy.resolve_skill(FORKLIFT)
    assert resolution == Resolution(FORKLIFT, taxonomy.skill(FORKLIFT), 1.0, ())
    unknown = taxonomy.resolve_skill("http://data.europa.eu/esco/skill/unknown")
    assert unknown.concept is None and unknown.confidence == 0.0
    wrong_kind = taxonomy.resolve_occupation(FORKLIFT)
    assert wrong_kind.concept is None


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_raises(taxonomy: Taxonomy, text: str) -> None:
    with pytest.raises(InvalidInputError):
        taxonomy.resolve_skill(text)
    with pytest.raises(InvalidInputError):
        taxonomy.resolve_occupations(["Koch", text])
    with pytest.raises(InvalidInputError):
        taxonomy.search_skills(text)


def test_resolution_shape_and_determinism(taxonomy: Taxonomy) -> None:
    first = taxonomy.resolve_skill("Lager")
    second = taxonomy.resolve_skill("Lager")
    assert first == second
    assert len(first.alternatives) <= 4
    scores = [first.confidence, *(s for _, s in first.alternatives)]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_batch_equals_single(taxonomy: Taxonomy) -> None:
    texts = ["Stapler fahren", "Koch/Köchin", "xqzt", "Kasse", "Stapler fahren"]
    assert taxonomy.resolve_skills(texts) == [taxonomy.resolve_skill(t) for t in texts]
    assert taxonomy.resolve_occupations(texts) == [taxonomy.resolve_occupation(t) for t in texts]
    assert taxonomy.resolve_skills([]) == []


def test_large_batch_equals_small_batches(taxonomy: Taxonomy) -> None:
    # More variants than one internal chunk; gendered pairs expand to several variants.
    base = ["Koch/Köchin", "Lagerhelfer/in", "Stapler fahren", "Verkäufer/Kassierer", "Maler"]
    texts = [f"{base[i % len(base)]} {i % 7}" for i in range(700)]
    small = [r for i in range(0, 700, 50) for r in taxonomy.resolve_occupations(texts[i : i + 50])]
    assert taxonomy.resolve_occupations(texts) == small


def test_search_prefers_german_labels(taxonomy: Taxonomy) -> None:
    results = taxonomy.search_skills("Stapler", limit=5)
    assert 1 <= len(results) <= 5
    assert results[0][0].uri == FORKLIFT
    # Type-ahead: a word prefix is enough.
    assert taxonomy.search_skills("Stap", limit=3)[0][0].uri == FORKLIFT
    assert taxonomy.search_skills("Kass", limit=3)[0][0].label_en == "operate cash register"
    assert taxonomy.search_skills("regale ein", limit=3)[0][0].label_en == "stock shelves"
    scores = [s for _, s in taxonomy.search_skills("Reinig", limit=10)]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    occupations = taxonomy.search_occupations("Lagerhelfer", limit=3)
    assert occupations[0][0].isco_code == "9333"
    with pytest.raises(InvalidInputError):
        taxonomy.search_skills("Lager", limit=0)


def test_query_speed(taxonomy: Taxonomy) -> None:
    taxonomy.resolve_skill("warm up")
    taxonomy.resolve_occupation("warm up")
    start = time.perf_counter()
    for _ in range(20):
        taxonomy.resolve_skill("Gabelstapler fahren")
    assert (time.perf_counter() - start) / 20 < 0.05
    texts = [f"{label} {i}" for i, label in enumerate(taxonomy.skills["label_en"][:1000])]
    start = time.perf_counter()
    resolved = taxonomy.resolve_skills(texts)
    assert len(resolved) == 1000
    assert time.perf_counter() - start < 6.0  # 3 s target; slack for loaded CI machines


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != ""))
def test_any_text_gives_a_valid_resolution(taxonomy: Taxonomy, text: str) -> None:
    resolution = taxonomy.resolve_occupation(text)
    assert resolution.query == text
    assert 0.0 <= resolution.confidence <= 1.0
    assert (resolution.concept is None) == (resolution.confidence < RESOLVE_THRESHOLD)
    assert len(resolution.alternatives) <= 4


# --------------------------------------------------------------------------- import


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
    else:
        frame.to_csv(path, index=False)


SKL = "http://data.europa.eu/esco/skill/"
OCC = "http://data.europa.eu/esco/occupation/"


def _fake_download(root: Path, gz: bool = False) -> Path:
    """A tiny ESCO download in the official column layout (English and German)."""
    root.mkdir(parents=True, exist_ok=True)
    ext = ".csv.gz" if gz else ".csv"
    skills_en = pd.DataFrame(
        {
            "conceptType": "KnowledgeSkillCompetence",
            "conceptUri": [SKL + "a", SKL + "b", SKL + "c", SKL + "d"],
            "skillType": "skill/competence",
            "reuseLevel": "cross-sector",
            "preferredLabel": ["drive forklift", "sweep floors", "count cash", "lift boxes"],
            "altLabels": ["operate forklift\nforklift driving", "", "handle cash", ""],
            "hiddenLabels": "",
            "status": "released",
            "modifiedDate": "",
            "scopeNote": "",
            "definition": "",
            "inScheme": "",
            "description": "",
        }
    )
    skills_de = skills_en.assign(
        preferredLabel=["Stapler fahren", "Boden fegen", "Geld zählen", "Kisten heben"],
        altLabels=["Gabelstapler fahren", "", "", ""],
    )
    occupations_en = pd.DataFrame(
        {
            "conceptType": "Occupation",
            "conceptUri": [OCC + "x", OCC + "y"],
            "iscoGroup": ["8344", "9112"],
            "preferredLabel": ["forklift operator", "cleaner"],
            "altLabels": ["forklift driver", "janitor"],
            "hiddenLabels": "",
            "status": "released",
            "code": ["8344.1", "9112.1"],
        }
    )
    occupations_de = occupations_en.assign(
        preferredLabel=["Gabelstaplerfahrer/Gabelstaplerfahrerin", "Reinigungskraft"],
        altLabels=["Gabelstaplerfahrer\nGabelstaplerfahrerin", "Putzkraft"],
    )
    relations = pd.DataFrame(
        {
            "occupationUri": [OCC + "x", OCC + "x", OCC + "y", OCC + "y"],
            "relationType": ["essential", "optional", "essential", "optional"],
            "skillType": "skill/competence",
            "skillUri": [SKL + "a", SKL + "d", SKL + "b", SKL + "d"],
        }
    )
    broader = pd.DataFrame(
        {
            "conceptType": ["KnowledgeSkillCompetence"] * 4,
            "conceptUri": [SKL + "a", SKL + "d", SKL + "b", SKL + "c"],
            "broaderType": ["SkillGroup", "SkillGroup", "KnowledgeSkillCompetence", "SkillGroup"],
            "broaderUri": ["http://g/1", "http://g/1", SKL + "c", "http://g/2"],
        }
    )
    ssr = pd.DataFrame(
        {
            "originalSkillUri": [SKL + "a"],
            "originalSkillType": "skill/competence",
            "relationType": "optional",
            "relatedSkillType": "skill/competence",
            "relatedSkillUri": [SKL + "c"],
        }
    )
    isco_en = pd.DataFrame(
        {
            "conceptType": "ISCOGroup",
            "conceptUri": ["i8", "i8344", "i9112"],
            "code": ["8", "8344", "9112"],
            "preferredLabel": ["Plant operators", "Lifting truck operators", "Cleaners"],
            "status": "released",
            "altLabels": "",
            "inScheme": "",
            "description": "",
        }
    )
    isco_de = isco_en.assign(preferredLabel=["Anlagenbediener", "Staplerfahrer", "Reiniger"])
    _write_csv(root / f"skills_en{ext}", skills_en)
    _write_csv(root / f"skills_de{ext}", skills_de)
    _write_csv(root / f"occupations_en{ext}", occupations_en)
    _write_csv(root / f"occupations_de{ext}", occupations_de)
    _write_csv(root / f"occupationSkillRelations_en{ext}", relations)
    _write_csv(root / f"broaderRelationsSkillPillar_en{ext}", broader)
    _write_csv(root / f"skillSkillRelations_en{ext}", ssr)
    _write_csv(root / f"ISCOGroups_en{ext}", isco_en)
    _write_csv(root / f"ISCOGroups_de{ext}", isco_de)
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_import_round_trip(tmp_path: Path, gz: bool) -> None:
    source = _fake_download(tmp_path / "download", gz=gz)
    target = import_esco(source, tmp_path / "compact")
    assert target == tmp_path / "compact"
    loaded = Taxonomy.load(target)
    assert list(loaded.skills["uri"]) == [SKL + "a", SKL + "b", SKL + "c", SKL + "d"]
    assert loaded.skill(SKL + "a").label_de == "Stapler fahren"
    assert loaded.occupation(OCC + "x").label_de == "Gabelstaplerfahrer"
    assert loaded.occupation(OCC + "x").isco_code == "8344"
    assert loaded.isco_labels["8344"] == {"en": "Lifting truck operators", "de": "Staplerfahrer"}
    ess = loaded.occupation_essential.toarray()
    assert ess.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert loaded.occupation_optional.toarray().tolist() == [[0, 0, 0, 1], [0, 0, 0, 1]]
    related = loaded.skill_related.toarray()
    # a-c: skill-skill relation; b-c: broader skill; a-d: siblings in group g/1.
    assert related[0, 2] == related[2, 0] == 1.0
    assert related[1, 2] == related[2, 1] == 1.0
    assert related[0, 3] == related[3, 0] == 0.5
    assert np.all(np.diag(related) == 0)
    assert _uri(loaded.resolve_skill("Gabelstapler fahren")) == SKL + "a"
    assert _uri(loaded.resolve_skill("forklift driving")) == SKL + "a"
    assert _uri(loaded.resolve_occupation("Putzkraft (m/w/d)")) == OCC + "y"
    assert _uri(loaded.resolve_occupation("Gabelstaplerfahrerin")) == OCC + "x"


def test_import_rejects_missing_file(tmp_path: Path) -> None:
    source = _fake_download(tmp_path / "download")
    (source / "skillSkillRelations_en.csv").unlink()
    with pytest.raises(DataFileError, match="skillSkillRelations"):
        import_esco(source, tmp_path / "compact")
    assert not (tmp_path / "compact").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["download"]


def test_import_rejects_missing_column(tmp_path: Path) -> None:
    source = _fake_download(tmp_path / "download")
    frame = pd.read_csv(source / "occupations_en.csv").drop(columns="iscoGroup")
    frame.to_csv(source / "occupations_en.csv", index=False)
    with pytest.raises(DataFileError, match=r"occupations_en\.csv.*iscoGroup"):
        import_esco(source, tmp_path / "compact")
    assert not (tmp_path / "compact").exists()


def test_import_rejects_bad_relation_type(tmp_path: Path) -> None:
    source = _fake_download(tmp_path / "download")
    frame = pd.read_csv(source / "occupationSkillRelations_en.csv")
    frame.loc[0, "relationType"] = "mandatory"
    frame.to_csv(source / "occupationSkillRelations_en.csv", index=False)
    with pytest.raises(DataFileError, match="relationType"):
        import_esco(source, tmp_path / "compact")


def test_import_rejects_corrupt_gzip(tmp_path: Path) -> None:
    source = _fake_download(tmp_path / "download", gz=True)
    (source / "skills_en.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataFileError, match=r"skills_en\.csv\.gz"):
        import_esco(source, tmp_path / "compact")


def test_load_rejects_damaged_directory(tmp_path: Path) -> None:
    target = import_esco(_fake_download(tmp_path / "download"), tmp_path / "compact")
    (target / "relations.npz").unlink()
    with pytest.raises(DataFileError, match=r"relations\.npz"):
        Taxonomy.load(target)
    labels = pd.read_csv(target / "skill_labels.csv.gz").drop(columns="kind")
    labels.to_csv(target / "skill_labels.csv.gz", index=False)
    with pytest.raises(DataFileError, match="kind"):
        Taxonomy.load(target)


def test_import_keeps_existing_target_on_failure(tmp_path: Path) -> None:
    source = _fake_download(tmp_path / "download")
    target = import_esco(source, tmp_path / "compact")
    (source / "skills_en.csv").write_text("conceptUri\nx\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="preferredLabel"):
        import_esco(source, target)
    assert len(Taxonomy.load(target).skills) == 4


def test_import_of_shared_esco_download(tmp_path: Path) -> None:
    source = SHARED / "esco-v1.1.1-en"
    if not source.is_dir():
        pytest.skip("../shared/data is absent: no full ESCO download to import")
    loaded = Taxonomy.load(import_esco(source, tmp_path / "esco"))
    assert len(loaded.skills) == 13896
    assert len(loaded.occupations) == 3007
    shipped = Taxonomy.load()
    assert (loaded.occupation_essential != shipped.occupation_essential).nnz == 0
    assert (loaded.skill_related != shipped.skill_related).nnz == 0
    assert _uri(loaded.resolve_skill("Stapler fahren")) == FORKLIFT


# --------------------------------------------------------------------------- TalentCLEF


def test_talentclef_german_titles_hit_isco_unit_group(taxonomy: Taxonomy) -> None:
    path = SHARED / "talentclef2025-taskA" / "training" / "taskA_training_de.tsv.gz"
    if not path.is_file():
        pytest.skip("../shared/data is absent: TalentCLEF German title pairs not found")
    pairs = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["family_id", "id", "jobtitle_1", "jobtitle_2"],
        dtype=str,
        keep_default_na=False,
        quoting=3,
    )
    sample = pairs.sample(500, random_state=0)
    expected = sample["id"].map(
        lambda uri: taxonomy.occupation(uri).isco_code if taxonomy.is_occupation_uri(uri) else None
    )
    known = expected.notna()
    resolved = taxonomy.resolve_occupations(sample.loc[known, "jobtitle_1"].tolist())
    got = [r.concept.isco_code if r.concept else None for r in resolved]
    hit_rate = float(np.mean(np.array(got, dtype=object) == expected[known].to_numpy()))
    assert hit_rate >= 0.80, hit_rate


# --------------------------------------------------------------------------- noisy job titles


@pytest.mark.parametrize(
    "marker",
    [
        " (m/w/d)", " (w/m/d)", " (d/m/w)", " (m|w|d)", " (M/W/D)", " (m/w/x)", " (w/m/div)",
        " (gn*)", " (all genders)", " m/w/d", " (m,w,d)", " (m-w-d)", "/in", "*in", ":in",
    ],
)  # fmt: skip
def test_title_gender_markers_in_all_variants(marker: str) -> None:
    assert title_variants("Lagerhelfer" + marker)[0] == ("lagerhelfer", 1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Verkäufer in Teilzeit", "verkaeufer"),
        ("Verkäufer/in in Vollzeit oder Teilzeit", "verkaeufer"),
        ("Verkäufer auf 538-Euro-Basis", "verkaeufer"),
        ("Verkäufer (Minijob)", "verkaeufer"),
        ("Verkäufer 25 Wochenstunden", "verkaeufer"),
        ("Verkäufer ab sofort gesucht", "verkaeufer"),
        ("Verkäufer befristet", "verkaeufer"),
        ("Verkäufer unbefristet", "verkaeufer"),
        ("Quereinsteiger Verkäufer", "verkaeufer"),
        ("Aushilfe Kassierer", "kassierer"),
        ("Angestellte/r im Verkauf", "angestellter im verkauf"),
    ],
)
def test_title_noise_is_stripped(text: str, expected: str) -> None:
    variants = dict(title_variants(text))
    assert variants.get(expected) == 1.0, title_variants(text)


def test_title_is_split_at_separators_head_first() -> None:
    variants = dict(title_variants("Küchenhilfe, Spülkraft | Minijob"))
    assert variants["kuechenhilfe"] == pytest.approx(0.97)
    assert variants["spuelkraft"] == pytest.approx(0.9)


def test_agency_forms() -> None:
    helper = dict(title_variants("Helfer/in - Verpackung"))
    assert helper["verpackungshelfer"] == pytest.approx(0.95)
    assert helper["helfer im bereich verpackung"] >= 0.95
    no_focus = title_variants("Reinigungskraft (o. Angabe des Schwerpunkts)")
    assert no_focus[0] == ("reinigungskraft", 1.0)
    skilled = dict(title_variants("Fachkraft - Lagerlogistik"))
    assert skilled["fachkraft fuer lagerlogistik"] == pytest.approx(0.97)
    ellipsis = dict(title_variants("Metall- und Kunststoffverarbeiter"))
    assert ellipsis["kunststoffverarbeiter"] == pytest.approx(0.95)
    assert ellipsis["metallverarbeiter"] == pytest.approx(0.95)


def test_compound_head_is_a_weaker_fallback() -> None:
    variants = dict(title_variants("Zahnradfräser"))
    assert variants["zahnradfraeser"] == 1.0
    assert variants["fraeser"] < 0.8
    assert variants["fraeser zahnrad"] == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("text", "isco"),
    [
        ("Lagerhelfer in Vollzeit ab sofort (w/m/d)", "9333"),
        ("Staplerfahrer – unbefristet, 40 Std./Woche", "8344"),
        ("Reinigungskraft auf 538-Euro-Basis (gn*)", "9112"),
        ("Koch / Köchin für unser Restaurant in Bielefeld", "5120"),
        ("Küchenhilfe | Minijob | Bielefeld-Mitte", "9412"),
        ("Mitarbeiter/in Produktion im 3-Schicht-Betrieb", "9329"),
        ("Werkzeugmechanikerin in Teilzeit", "7222"),
        ("Hilfskraft - Küche", "9412"),
        ("Kassierer:in auf Minijobbasis", "5230"),
        ("Quereinsteiger (m/w/d) Lager", "9333"),
        ("Maler und Lackierer - Gesellen gesucht!", "7131"),
        ("Busfahrer*in im Linienverkehr", "8331"),
        ("Elektriker/in, unbefristet, Vollzeit", "7411"),
        ("Fahrer/in Kl. C/CE im Nahverkehr", "8332"),
        ("Kfm. Mitarbeiter (m/w/d)", "4110"),
        ("Ausbildung zum Koch (m/w/d)", "5120"),
        ("Montierer (w/m/d) in Wechselschicht", "8219"),
        ("Maschinenführer/in, 3-Schicht", "8131"),
    ],
)
def test_noisy_titles_resolve(taxonomy: Taxonomy, text: str, isco: str) -> None:
    resolution = taxonomy.resolve_occupation(text)
    assert resolution.concept is not None, resolution
    assert resolution.concept.isco_code == isco, resolution


@pytest.mark.parametrize("text", ["Minijob (m/w/d)", "Aushilfe", "Teilzeit, ab sofort"])
def test_titles_of_noise_only_stay_unresolved(taxonomy: Taxonomy, text: str) -> None:
    assert taxonomy.resolve_occupation(text).concept is None


def test_noise_does_not_raise_confidence_above_the_clean_title(taxonomy: Taxonomy) -> None:
    clean = taxonomy.resolve_occupation("Zahnradfräser")
    noisy = taxonomy.resolve_occupation("Zahnradfräser (m/w/d) in Vollzeit, ab sofort")
    assert noisy.confidence <= clean.confidence + 1e-6
    assert (noisy.concept and noisy.concept.uri) == (clean.concept and clean.concept.uri)


def test_helper_titles_prefer_unskilled_occupations(taxonomy: Taxonomy) -> None:
    assert is_helper_title("Helfer/in - Lager")
    assert is_helper_title("Hilfskraft Küche")
    assert not is_helper_title("Lagerhelfer")
    assert not is_helper_title("Fachkraft - Lager")
    resolution = taxonomy.resolve_occupation("Helfer - Küche")
    assert resolution.concept is not None
    assert (resolution.concept.isco_code or "0")[0] not in "123"


_NOISE = st.sampled_from(
    ["", " (m/w/d)", " in Teilzeit", " - Vollzeit", ", ab sofort", " | Minijob", " befristet"]
)


@settings(max_examples=60, deadline=None)
@given(_WORDS, _NOISE, _NOISE)
def test_title_variants_are_normalised_and_weighted(word: str, first: str, second: str) -> None:
    text = word.title() + "arbeiter" + first + second
    variants = title_variants(text)
    assert variants
    assert variants[0] == (normalize_text(word + "arbeiter"), 1.0)
    for variant, weight in variants:
        assert variant == normalize_text(variant)
        assert 0.0 < weight <= 1.0
    assert len({v for v, _ in variants}) == len(variants)
