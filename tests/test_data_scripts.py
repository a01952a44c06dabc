"""Tests for the standalone data scripts in scripts/ (run as real subprocesses
where the command line matters, imported by path for unit checks)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from seq2seq.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
MULTI30K = Path("/work/shared/data/multi30k")


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # needed for NamedTuple/dataclass introspection
    spec.loader.exec_module(module)
    return module


gen = load("make_agreement_corpus")
suite = load("build_contrastive_suite")
fetch = load("fetch_multi30k")


def run(script: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------- generator

SMALL = ("--train", "400", "--dev", "60", "--test", "60")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agreement")
    result = run("make_agreement_corpus.py", "--out", out, *SMALL)
    assert result.returncode == 0, result.stderr
    return out


def test_generator_is_deterministic(corpus: Path, tmp_path: Path) -> None:
    result = run("make_agreement_corpus.py", "--out", tmp_path, *SMALL)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in corpus.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 11
    for name in names:
        assert (corpus / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_generator_seed_changes_output(corpus: Path, tmp_path: Path) -> None:
    result = run("make_agreement_corpus.py", "--out", tmp_path, "--seed", "99", *SMALL)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "train.cs").read_bytes() != (corpus / "train.cs").read_bytes()


def test_generator_files_are_aligned(corpus: Path) -> None:
    sizes = {"train": 400, "dev": 60, "test": 60}
    for split, n in sizes.items():
        for lang in ("en", "cs", "de"):
            lines = read(corpus / f"{split}.{lang}")
            assert len(lines) == n, (split, lang)
            assert all(line.strip() and line.endswith(".") for line in lines)
    en, cs, de = (read(corpus / f"test.{lang}") for lang in ("en", "cs", "de"))
    for e, c, d in zip(en, cs, de):  # the subject's relative clause is in commas
        assert c.count(",") == 2 and d.count(",") == 2 and "," not in e


def test_dev_test_disjoint_from_train(corpus: Path) -> None:
    for lang in ("en", "cs", "de"):
        train = set(read(corpus / f"train.{lang}"))
        dev, test = set(read(corpus / f"dev.{lang}")), set(read(corpus / f"test.{lang}"))
        assert len(train) == 400
        assert not train & dev and not train & test and not dev & test, lang


def test_contrast_rows_differ_in_one_token(corpus: Path) -> None:
    categories = {"cs": {"rel_pronoun", "past_verb", "adjective", "rad"},
                  "de": {"rel_pronoun", "article", "adjective"}}
    source = read(corpus / "test.en")
    for lang, allowed in categories.items():
        targets = read(corpus / f"test.{lang}")
        rows = [line.split("\t") for line in read(corpus / f"test.contrast.{lang}.tsv")]
        assert len(rows) >= 2 * len(targets)
        seen = set()
        for src, correct, contrast, category in rows:
            assert category in allowed
            seen.add(category)
            assert targets[source.index(src)] == correct
            a, b = correct.split(), contrast.split()
            assert len(a) == len(b)
            assert sum(x != y for x, y in zip(a, b)) == 1, (correct, contrast)
        assert seen == allowed
        # every test sentence has a relative-pronoun contrast
        assert sum(r[3] == "rel_pronoun" for r in rows) == len(targets)


def noun(en: str):
    return next(n for n in gen.NOUNS if n.en_sg == en)


def item(items, key: str):
    return next(x for x in items if getattr(x, "key", getattr(x, "en", None)) == key)


def adj(items, en: str):
    return next(a for a in items if a.en == en)


def place(en: str, rel: str, adjective: str | None, definite: bool):
    p = next(p for p in gen.PLACES if p.en == en)
    r = next(r for r in p.relations if r.en == rel)
    a = next(a for a in gen.PLACE_ADJS if a[0] == adjective) if adjective else None
    return gen.PlaceNP(p, r, a, definite)


def plan(**kw) -> object:
    base = dict(adj=None, definite=False, plural=False, rel_place=None, main_place=None,
                tense="pres")
    base.update(kw)
    return gen.Plan(**base)


def triple(p) -> tuple[str, str, str]:
    ex = gen.make_example(p)
    return ex.en, ex.cs, ex.de


def test_hand_checked_girl_reading_on_bench() -> None:
    p = plan(noun=noun("girl"), rel_kind="rad", rel_item=item(gen.RAD_VERBS, "read"),
             main_kind="place", main_item=item(gen.PLACE_VERBS, "sit"),
             main_place=place("bench", "on", None, False))
    assert triple(p) == ("A girl who likes to read is sitting on a bench.",
                         "Dívka, která ráda čte, sedí na lavičce.",
                         "Ein Mädchen, das gerne liest, sitzt auf einer Bank.")


def test_hand_checked_old_man_by_red_car() -> None:
    p = plan(noun=noun("man"), adj=adj(gen.SUBJECT_ADJS, "old"), definite=True,
             rel_kind="place", rel_item=item(gen.PLACE_VERBS, "stand"),
             rel_place=place("car", "next to", "red", True), main_kind="copula",
             main_item=adj(gen.PREDICATE_ADJS, "happy"), tense="past")
    assert triple(p) == ("The old man who was standing next to the red car was happy.",
                         "Starý muž, který stál vedle červeného auta, byl šťastný.",
                         "Der alte Mann, der neben dem roten Auto stand, war glücklich.")


def test_hand_checked_feminine_and_plural_forms() -> None:
    p = plan(noun=noun("woman"), adj=adj(gen.SUBJECT_ADJS, "little"), rel_kind="event",
             rel_item=item(gen.EVENTS, "find"), main_kind="event",
             main_item=item(gen.EVENTS, "smile"), tense="past")
    assert triple(p) == ("A little woman who found a wallet smiled.",
                         "Malá žena, která našla peněženku, se usmála.",
                         "Eine kleine Frau, die eine Geldbörse fand, lächelte.")
    p = plan(noun=noun("kitten"), plural=True, rel_kind="place",
             rel_item=item(gen.PLACE_VERBS, "sleep"),
             rel_place=place("train", "on", "old", False), main_kind="copula",
             main_item=adj(gen.PREDICATE_ADJS, "hungry"), tense="past")
    assert triple(p) == ("Kittens that were sleeping on an old train were hungry.",
                         "Koťata, která spala ve starém vlaku, byla hladová.",
                         "Kätzchen, die in einem alten Zug schliefen, waren hungrig.")
    p = plan(noun=noun("man"), plural=True, definite=True, adj=adj(gen.SUBJECT_ADJS, "tall"),
             rel_kind="rad", rel_item=item(gen.RAD_VERBS, "swim"), main_kind="place",
             main_item=item(gen.PLACE_VERBS, "play"),
             main_place=place("park", "in", None, True), tense="past")
    assert triple(p) == ("The tall men who like to swim were playing in the park.",
                         "Vysocí muži, kteří rádi plavou, si hráli v parku.",
                         "Die großen Männer, die gerne schwimmen, spielten im Park.")
    p = plan(noun=noun("child"), plural=True, rel_kind="event",
             rel_item=item(gen.EVENTS, "fall_asleep"), main_kind="copula",
             main_item=adj(gen.PREDICATE_ADJS, "tired"), tense="past")
    assert triple(p)[1] == "Děti, které usnuly, byly unavené."


def attractor(subject: str, verb: str, obj: str, *, obj_plural: bool = False,
              obj_definite: bool = False, **kw) -> object:
    return plan(noun=noun(subject), main_kind="object", main_item=item(gen.TRANS_VERBS, verb),
                obj=gen.ObjectNP(noun(obj), obj_plural, obj_definite), **kw)


def test_hand_checked_attractors() -> None:
    p = attractor("man", "watch", "girl", adj=adj(gen.SUBJECT_ADJS, "old"), definite=True,
                  rel_kind="rad", rel_item=item(gen.RAD_VERBS, "read"))
    assert triple(p) == ("The old man is watching a girl who likes to read.",
                         "Starý muž sleduje dívku, která ráda čte.",
                         "Der alte Mann beobachtet ein Mädchen, das gerne liest.")
    p = attractor("woman", "look_for", "boy", plural=True, definite=True, obj_definite=True,
                  rel_kind="place", rel_item=item(gen.PLACE_VERBS, "sit"),
                  rel_place=place("bench", "on", None, False))
    assert triple(p) == ("The women are looking for the boy who is sitting on a bench.",
                         "Ženy hledají chlapce, který sedí na lavičce.",
                         "Die Frauen suchen den Jungen, der auf einer Bank sitzt.")
    p = attractor("dog", "watch", "kitten", obj_plural=True, rel_kind="rad",
                  rel_item=item(gen.RAD_VERBS, "jump"))
    assert triple(p) == ("A dog is watching kittens that like to jump.",
                         "Pes sleduje koťata, která ráda skáčou.",
                         "Ein Hund beobachtet Kätzchen, die gerne springen.")


def test_attractor_sentences_agree_with_the_object() -> None:
    rng = random.Random(3)
    plans = [gen.sample_plan(rng, attractors=0.5) for _ in range(400)]
    attractors = [p for p in plans if p.obj]
    assert 150 < len(attractors) < 250
    assert all(p.obj.noun != p.noun for p in attractors)
    # some subjects differ from their object in Czech class, so the subject attracts
    assert sum(gen.cs_gn(p) != gen.cs_gn(p.obj) for p in attractors) > len(attractors) / 2
    for p in attractors:
        tokens, slots = gen.render_cs(p)
        (rel,) = [s for s in slots if s.category == "rel_pronoun"]
        assert tokens[rel.index] == gen.CS_REL[gen.cs_gn(p.obj)]
        de_tokens, de_slots = gen.render_de(p)
        (rel,) = [s for s in de_slots if s.category == "rel_pronoun"]
        assert de_tokens[rel.index] == gen.DE_REL[gen.de_key(p.obj)]


def test_generator_rejects_an_attractor_share_outside_0_to_1(tmp_path: Path) -> None:
    result = run("make_agreement_corpus.py", "--out", tmp_path, "--attractors", "1.5")
    assert result.returncode == 2 and "must be from 0 to 1: 1.5" in result.stderr
    assert not any(tmp_path.iterdir())


def test_german_indefinite_adjective_endings() -> None:
    forms = {n: gen.make_example(plan(noun=noun(n), adj=adj(gen.SUBJECT_ADJS, "little"),
                                      rel_kind="rad", rel_item=item(gen.RAD_VERBS, "sing"),
                                      main_kind="copula",
                                      main_item=adj(gen.PREDICATE_ADJS, "happy"))).de
             for n in ("man", "woman", "girl")}
    assert forms["man"].startswith("Ein kleiner Mann, der gerne singt, ist")
    assert forms["woman"].startswith("Eine kleine Frau, die gerne singt, ist")
    assert forms["girl"].startswith("Ein kleines Mädchen, das gerne singt, ist")


def test_sampled_czech_agreement_is_consistent() -> None:
    rng = random.Random(5)
    endings = {"m_sg": "l", "f_sg": "la", "n_sg": "lo", "m_pl": "li", "f_pl": "ly",
               "n_pl": "la"}
    for _ in range(300):
        p = gen.sample_plan(rng)
        gn = gen.cs_gn(p)
        tokens, slots = gen.render_cs(p)
        assert gen.CS_REL[gn] in tokens
        for slot in slots:
            form = tokens[slot.index]
            assert form not in slot.wrong and slot.wrong
            if slot.category == "past_verb":
                assert form.endswith(endings[gn]), (form, gn)
        if p.tense == "pres" and p.main_kind == "place":
            assert not any(s.category == "past_verb" and s.index > tokens.index(",", 2)
                           for s in slots)


# ---------------------------------------------------------------- suite builder


def write_gz(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def build(tmp_path: Path, lang: str, refs: list[str], gz: bool = False) -> list[list[str]]:
    srcs = [f"source {i}" for i in range(len(refs))]
    if gz:
        src, ref = write_gz(tmp_path / "s.gz", srcs), write_gz(tmp_path / "r.gz", refs)
    else:
        src, ref = tmp_path / "s.txt", tmp_path / "r.txt"
        src.write_text("\n".join(srcs) + "\n", encoding="utf-8")
        ref.write_text("\n".join(refs) + "\n", encoding="utf-8")
    out = tmp_path / "suite" / "out.tsv"
    result = run("build_contrastive_suite.py", "--src", src, "--ref", ref, "--lang", lang,
                 "--out", out)
    assert result.returncode == 0, result.stderr
    assert "total" in result.stderr
    return [line.split("\t") for line in read(out)]


def test_suite_czech(tmp_path: Path) -> None:
    refs = ["Muž, který stojí u auta, se usmívá.",
            "Malá dívka sedí na lavičce.",
            "Žena, na které záleží, zpívá.",
            "Muž, kterému pomáhá, sedí.",
            "Cizí muž sedí.",
            "Mladí muži hrají fotbal.",
            "Mladý muž běží.",
            "Který muž to je?",
            "Muži, kteří sedí, a děti, které spí."]
    rows = build(tmp_path, "cs", refs, gz=True)
    got = {(r[0], r[2], r[3]) for r in rows}
    assert got == {
        ("source 0", "Muž, která stojí u auta, se usmívá.", "rel_pronoun"),
        ("source 1", "Malý dívka sedí na lavičce.", "adjective"),
        ("source 2", "Žena, na který záleží, zpívá.", "rel_pronoun"),
        ("source 5", "Mladá muži hrají fotbal.", "adjective"),
        ("source 6", "Mladá muž běží.", "adjective"),
        ("source 8", "Muži, který sedí, a děti, které spí.", "rel_pronoun"),
    }
    for r in rows:
        assert r[1] == refs[int(r[0].split()[1])]


def test_suite_german_skips_non_relative_die(tmp_path: Path) -> None:
    refs = ["Ein Mann, der ein Buch liest, sitzt auf einer Bank.",
            "Eine kleine Frau läuft.",
            "Ein Hund läuft, die Frau lacht.",
            "Die Kinder spielen im Park.",
            "Der Mann steht, die kleinen Kinder spielen.",
            "Das Mädchen, das singt, lacht.",
            "Menschen, die Jacken tragen.",
            "Ein großer schwarzer Hund bellt."]
    rows = build(tmp_path, "de", refs)
    got = {(r[0], r[2], r[3]) for r in rows}
    assert got == {
        ("source 0", "Ein Mann, das ein Buch liest, sitzt auf einer Bank.", "rel_pronoun"),
        ("source 0", "Eine Mann, der ein Buch liest, sitzt auf einer Bank.", "article"),
        ("source 1", "Ein kleine Frau läuft.", "article"),
        ("source 1", "Eine kleiner Frau läuft.", "adjective"),
        ("source 2", "Eine Hund läuft, die Frau lacht.", "article"),
        ("source 5", "Das Mädchen, die singt, lacht.", "rel_pronoun"),
        ("source 7", "Eine großer schwarzer Hund bellt.", "article"),
        ("source 7", "Ein großes schwarzer Hund bellt.", "adjective"),
    }


def test_german_relative_rows_skip_wrong_forms_another_noun_agrees_with(tmp_path: Path) -> None:
    refs = ["Ein Baby mit einer Mütze, das schläft.",  # die, der: the cap (eine Mütze)
            "Ein Mann mit einem Hut, der lacht.",  # das: no neuter noun before it
            "Ein Mann in einem Boot, der lacht.",  # das: the boat; die is next
            "Ein Hund sitzt, der Mann steht.",
            "Eine Mütze liegt da.", "Ein Mann trägt einen Hut.", "Das Boot ist rot.",
            "Ein kleines Boot fährt.", "Eine rote Mütze hängt.", "Ein Junge hat einen Hut.",
            "Ein Hund sieht einen Mann.", "Eine Frau ruft einen Mann."]
    rows = suite.build_rows([(f"s{i}", ref) for i, ref in enumerate(refs)], "de")
    assert [(r[0], r[2]) for r in rows if r[3] == "rel_pronoun"] == [
        ("s1", "Ein Mann mit einem Hut, das lacht."),
        ("s2", "Ein Mann in einem Boot, die lacht.")]
    lexicon = suite.build_lexicon(refs, "de")
    assert (lexicon.nouns["Mütze"], lexicon.nouns["Hut"], lexicon.nouns["Boot"]) == (
        {"f"}, {"m"}, {"n"})


def test_czech_relative_rows_skip_wrong_forms_another_noun_agrees_with() -> None:
    refs = ["Žena v růžovém svetru, která čistí stůl.",  # který: the sweater; kteří next
            "Žena v zelené bundě, která čistí stůl.",  # no masculine noun before it
            "Muž drží ceduli, která říká stop."]  # the walk stops at the verb "drží"
    lexicon_lines = ["Muž v modrém svetru stojí.", "Dítě v modrém svetru sedí.",
                     "Malý pes a malá kočka.", "Modrý dům a modrá"]
    rows = suite.build_rows([(f"s{i}", ref) for i, ref in enumerate(refs)], "cs",
                            lexicon_lines=lexicon_lines)
    assert [(r[0], r[2]) for r in rows if r[3] == "rel_pronoun"] == [
        ("s0", "Žena v růžovém svetru, kteří čistí stůl."),
        ("s1", "Žena v zelené bundě, který čistí stůl."),
        ("s2", "Muž drží ceduli, který říká stop.")]
    lexicon = suite.build_lexicon(refs + lexicon_lines, "cs")
    assert lexicon.nouns["svetru"] == {"ma_sg", "mi_sg", "n_sg"}
    assert "drží" not in lexicon.nouns and lexicon.nouns["muž"] == {"ma_sg"}


def test_czech_relative_replacements_are_always_wrong() -> None:
    for form in suite.CS_REL_READINGS:
        for new in suite.cs_rel_replacements(form):
            assert not suite.cs_gnums(form) & suite.cs_gnums(new), (form, new)
            assert set(suite.CS_REL_READINGS[form]) & set(suite.CS_REL_READINGS[new])
    assert suite.cs_rel_replacements("který") == ["která", "kteří", "kterou", "které"]
    assert suite.cs_rel_replacements("kterému") == []


def test_every_wrong_form_gives_one_row_per_wrong_pronoun(tmp_path: Path) -> None:
    pairs = [("s0", "Das Mädchen, das singt, lacht."), ("s1", "Der Mann, der singt, lacht."),
             ("s2", "Ein Hund, der bellt, rennt.")]
    rows = suite.build_rows(pairs, "de", every_wrong_form=True)
    wrong = {(r[0], r[2].split()[2]) for r in rows if r[3] == "rel_pronoun"}
    assert wrong == {("s0", "die"), ("s0", "der"), ("s1", "das"), ("s1", "die"),
                     ("s2", "das"), ("s2", "die")}
    assert [r for r in rows if r[3] != "rel_pronoun"] == [
        r for r in suite.build_rows(pairs, "de") if r[3] != "rel_pronoun"]
    czech = suite.build_rows([("s", "Muž, který stojí, se usmívá.")], "cs", every_wrong_form=True)
    assert [r[2].split()[1] for r in czech] == ["která", "kteří", "kterou", "které"]


def test_suite_mismatched_lengths_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "s").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "r").write_text("a\n", encoding="utf-8")
    result = run("build_contrastive_suite.py", "--src", tmp_path / "s", "--ref",
                 tmp_path / "r", "--lang", "de", "--out", tmp_path / "o.tsv")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(tmp_path / "r") in result.stderr


# ---------------------------------------------------------------- fetch


def fake_split(directory: Path, split: str, n: int, langs=("en", "de", "fr", "cs")) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        write_gz(directory / f"{split}.{lang}.gz", [f"{lang} {i}" for i in range(n)])


def test_fetch_from_copies_and_skips(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    fake_split(src, "val", 1014)
    result = run("fetch_multi30k.py", "--from", src, "--out", out, "--splits", "val")
    assert result.returncode == 0, result.stderr
    for lang in ("en", "de", "fr", "cs"):
        name = f"val.{lang}.gz"
        assert (out / name).read_bytes() == (src / name).read_bytes()
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    again = run("fetch_multi30k.py", "--from", src, "--out", out, "--splits", "val")
    assert again.returncode == 0 and again.stderr.count("present") == 4


def test_fetch_rejects_mismatched_line_counts(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    fake_split(src, "val", 1014)
    write_gz(src / "val.de.gz", ["x"] * 1013)
    result = run("fetch_multi30k.py", "--from", src, "--out", out, "--splits", "val")
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert "val.de.gz" in result.stderr and "1013" in result.stderr
    assert not list(out.glob("*"))  # nothing renamed into place, no temp files left


def test_fetch_rejects_non_gzip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    fake_split(src, "val", 1014)
    (src / "val.cs.gz").write_text("plain text\n", encoding="utf-8")
    result = run("fetch_multi30k.py", "--from", src, "--out", tmp_path / "o", "--splits", "val")
    assert result.returncode == 1 and "not a gzip file" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.skipif(not (MULTI30K / "val.en.gz").exists(), reason="no local Multi30k")
def test_fetch_from_shared_multi30k(tmp_path: Path) -> None:
    result = run("fetch_multi30k.py", "--from", MULTI30K, "--out", tmp_path,
                 "--splits", "val", "test_2016_flickr")
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.gz"))) == 8
    assert fetch.count_gzip_lines(tmp_path / "test_2016_flickr.cs.gz") == 1000


@pytest.mark.parametrize(("args", "message"), [
    (["en_fr", "--rounds", "2"], "--rounds needs --distill"),
    (["en_fr", "--student-epochs", "3"], "--student-epochs needs --distill"),
    (["en_fr", "--teachers", "2"], "--teachers needs --distill"),
    (["en_fr", "--back-translate"], "--back-translate needs --distill"),
    (["en_fr", "--distill", "--teachers", "two"], "--teachers needs a positive whole number"),
    (["en_fr", "--distill", "--rounds", "0"], "--rounds needs a positive whole number, got '0'"),
    (["en_fr", "--teacher-epochs", "x"], "--teacher-epochs needs a positive whole number"),
    (["en_fr", "--distill", "--student-epochs"], "--student-epochs needs a number"),
    (["en_fr", "--from", ""], "--from needs a directory"),
    (["en_fr", "--beam"], "unknown argument --beam"),
])
def test_run_multi30k_rejects_bad_arguments_before_any_work(args: list[str], message: str,
                                                             tmp_path: Path) -> None:
    result = subprocess.run(["bash", str(SCRIPTS / "run_multi30k.sh"), *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"run_multi30k.sh: {message}")
    assert result.stderr.count("\n") == 1


def run_tiny_multi30k(tmp_path: Path, *args: str) -> tuple[Path, str]:
    """`run_multi30k.sh en_fr ARGS` in a project with a tiny config and a made-up
    Multi30k; returns the project's runs directory and the script's output."""
    project, raw = tmp_path / "project", tmp_path / "raw"
    (project / "scripts").mkdir(parents=True)
    for script in ("run_multi30k.sh", "fetch_multi30k.py", "allocator.sh"):
        (project / "scripts" / script).write_bytes((SCRIPTS / script).read_bytes())
    (project / "configs").mkdir()
    (project / "configs" / "multi30k_en_fr.yaml").write_text(TINY_EN_FR, encoding="utf-8")
    for split, n in fetch.EXPECTED_LINES.items():
        fake_split(raw, split, n)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "scripts/run_multi30k.sh", "en_fr", *args, "--from", str(raw)],
                            cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return project / "runs", result.stdout


def test_run_multi30k_distils_from_teachers_trained_side_by_side(tmp_path: Path) -> None:
    """The whole pipeline on a made-up Multi30k and a tiny config: two teachers (seeds 1
    and 2), each chosen on val, then a student taught by their ensemble, then test."""
    runs, stdout = run_tiny_multi30k(tmp_path, "--distill", "--teachers", "2",
                                     "--teacher-epochs", "2")
    teachers = [(runs / run / "chosen").read_text().strip()
                for run in ("multi30k_en_fr", "multi30k_en_fr_seed2")]
    assert f"teachers: {','.join(teachers)}" in stdout
    for seed, teacher in enumerate(teachers, start=1):
        assert load_checkpoint(runs.parent / teacher)["config"]["train"]["seed"] == seed
        assert "val BLEU (beam)" in (runs / f"{Path(teacher).parent.name}.log").read_text()
    record = json.loads((runs / "multi30k_en_fr_distilled/distilled/distilled.json").read_text())
    assert record["distill_from"] == ",".join(teachers)
    assert "BLEU" in (runs / "multi30k_en_fr_distilled/test_2016_flickr.scores").read_text()


def test_run_multi30k_back_translates_with_a_reverse_model(tmp_path: Path) -> None:
    """--back-translate: a fr->en model trains beside the teacher and is chosen on val
    (French sources, English references); the student learns from both, for a third of
    the teacher's epochs."""
    runs, stdout = run_tiny_multi30k(tmp_path, "--distill", "--back-translate",
                                     "--teacher-epochs", "3")
    reverse = (runs / "multi30k_en_fr_reverse" / "chosen").read_text().strip()
    stored = load_checkpoint(runs.parent / reverse)["config"]
    assert (stored["data"]["src_lang"], stored["data"]["tgt_lang"]) == ("fr", "en")
    assert (runs / "multi30k_en_fr_reverse" / "val.hyp.en").exists()
    assert "training the reverse model (fr->en)" in stdout
    student = runs / "multi30k_en_fr_distilled"
    record = json.loads((student / "distilled/distilled.json").read_text())
    assert record["back_translate_from"] == reverse
    assert record["distill_from"] == (runs / "multi30k_en_fr" / "chosen").read_text().strip()
    assert load_checkpoint(student / "last.pt")["config"]["train"]["max_epochs"] == 1
    assert "BLEU" in (student / "test_2016_flickr.scores").read_text()


TINY_EN_FR = """\
data: {src_lang: en, tgt_lang: fr, train: x, dev: x, max_len: 20}
tokenizer: {type: bpe, vocab_size: 40}
model: {emb_dim: 16, enc_hidden: 16, dec_hidden: 32, attention_dim: 16, dropout: 0.0}
train: {batch_tokens: 4000, lr: 0.01, max_steps: 8, max_epochs: 2, eval_every: 4,
        keep_best: 2, early_stopping_patience: 0}
decode: {method: beam, beam_size: 2, batch_size: 256, max_len_extra: 2}
"""


def tcmalloc_installed() -> bool:
    listing = subprocess.run("ldconfig -p || /sbin/ldconfig -p", shell=True,
                             capture_output=True, text=True).stdout
    return any(line.split()[:1] == ["libtcmalloc_minimal.so.4"] for line in listing.splitlines())


def environment_without_allocator_choice() -> dict[str, str]:
    """This process's environment with no LD_PRELOAD and no SEQ2SEQ_MALLOC."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "SEQ2SEQ_MALLOC")}


@pytest.mark.parametrize("choice", [None, "system"])
def test_allocator_sh_preloads_tcmalloc_unless_told_not_to(choice: str | None) -> None:
    """scripts/allocator.sh, as the run scripts source it: a Python started after it has
    tcmalloc mapped when the system has the library and SEQ2SEQ_MALLOC is not `system`."""
    env = environment_without_allocator_choice()
    if choice:
        env["SEQ2SEQ_MALLOC"] = choice
    script = (f"source {SCRIPTS / 'allocator.sh'}; "
              f"{sys.executable} -c 'print(open(\"/proc/self/maps\").read())'")
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    message, _, maps = result.stdout.partition("\n")
    preloaded = choice is None and tcmalloc_installed()
    assert ("libtcmalloc_minimal" in maps) == preloaded
    assert message.startswith(
        "memory allocator: tcmalloc" if preloaded else "memory allocator: glibc malloc")


@pytest.mark.parametrize("choice", ["tcmalloc", "system"])
def test_allocator_sh_keeps_an_allocator_already_preloaded(choice: str) -> None:
    """With a malloc already in LD_PRELOAD the script leaves it and says so, whatever
    SEQ2SEQ_MALLOC asks for."""
    preloaded = "/nonexistent/libjemalloc.so.2"
    result = subprocess.run(["bash", "-c", f"source {SCRIPTS / 'allocator.sh'}; echo $LD_PRELOAD"],
                            env={**os.environ, "SEQ2SEQ_MALLOC": choice, "LD_PRELOAD": preloaded},
                            capture_output=True, text=True)
    assert result.stdout == f"memory allocator: as preloaded ({preloaded})\n{preloaded}\n"


def test_allocator_sh_rejects_an_unknown_choice() -> None:
    result = subprocess.run(["bash", "-c", f"source {SCRIPTS / 'allocator.sh'}; echo went on"],
                            env={**os.environ, "SEQ2SEQ_MALLOC": "jemalloc"},
                            capture_output=True, text=True)
    assert result.returncode == 2 and "went on" not in result.stdout
    assert result.stderr == "SEQ2SEQ_MALLOC must be tcmalloc or system, got 'jemalloc'\n"


def test_allocator_sh_survives_a_long_library_listing(tmp_path: Path) -> None:
    """Under the run scripts' `set -euo pipefail`, looking tcmalloc up must read the whole
    `ldconfig -p` listing: a reader that stops at the first match leaves ldconfig writing
    into a closed pipe, and its SIGPIPE (exit 141) would end the run script silently."""
    library = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
    (tmp_path / "ldconfig").write_text(
        "#!/bin/sh\n"
        f"echo '\tlibtcmalloc_minimal.so.4 (libc6,x86-64) => {library}'\n"
        "yes '\tlibfiller.so.1 (libc6,x86-64) => /usr/lib/libfiller.so.1' | head -n 20000\n")
    (tmp_path / "ldconfig").chmod(0o755)
    env = environment_without_allocator_choice()
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    script = f"set -euo pipefail; source {SCRIPTS / 'allocator.sh'}; echo $LD_PRELOAD"
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout == f"memory allocator: tcmalloc ({library})\n{library}\n"
