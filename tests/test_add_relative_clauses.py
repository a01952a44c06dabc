"""Tests for scripts/add_relative_clauses.py on a small hand-written en/cs corpus
(real simplemma lemmas, real noun-class lexicon)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from test_data_scripts import SCRIPTS, load

clauses = load("add_relative_clauses")
suite = load("build_contrastive_suite")

# Cues for the lexicon: each noun form after an adjective twice ("velkého grilu":
# masculine or neuter; "velký gril": masculine; "malou hromadu": feminine).
CORPUS = [
    ("A big grill stands outside.", "Velký gril stojí venku."),
    ("A small grill stands outside.", "Malý gril stojí venku."),
    ("A man stands by a big grill.", "Muž stojí u velkého grilu."),
    ("A boy stands by a small grill.", "Chlapec stojí u malého grilu."),
    ("A man sees a small heap.", "Muž vidí malou hromadu."),
    ("A boy sees a big heap.", "Chlapec vidí velkou hromadu."),
    ("A big heap lies outside.", "Velká hromada leží venku."),
    ("A small heap lies outside.", "Malá hromada leží venku."),
    ("Snow lies on a heap.", "Sníh leží na hromadě."),
    ("A man is outside.", "Muž je venku."),
    ("A man stands by a grill", "Muž stojí u grilu"),
    ("A big bridge stands there.", "Velký most stojí tam."),
    ("A small bridge stands there.", "Malý most stojí tam."),
    ("A man eats small food.", "Muž jí malou jídlo."),  # a misread cue: "jídlo" is neuter
    ("A boy eats big food.", "Chlapec jí velkou jídlo."),
    ("Men with a small heap are standing outside.", "Muži s malou hromadou stojí venku."),
    ("A girl on a big heap is sitting outside.", "Dívka na velké hromadě sedí venku."),
    ("A man on a big heap of snow is outside.", "Muž na velké hromadě sněhu je venku."),
    ("A grill on a big heap is outside.", "Gril na velké hromadě je venku."),
    ("There is a girl by a big grill.", "Je tam dívka u velkého grilu."),
    ("A man stands with small children.", "Muž stojí s malými dětmi."),
    ("A woman stands with big children.", "Žena stojí s velkými dětmi."),
    ("A dressed man is outside.", "Oblečený muž je venku."),
    ("A dressed woman is outside.", "Oblečená žena je venku."),
    ("A man paints a grill outside.", "Muž venku natírá gril."),
    ("A boy stands by the smoke of a big grill.", "Chlapec stojí u kouře velkého grilu."),
]


def lexicon_and_genders() -> tuple:
    lines = [cs for _, cs in CORPUS]
    lexicon = suite.build_lexicon(lines, "cs")
    return lexicon, clauses.lemma_genders(lines, lexicon)


LINKS = clauses.count_links(CORPUS)


def test_noun_classes_combine_form_and_lemma_evidence() -> None:
    lexicon, genders = lexicon_and_genders()
    # "grilu" alone could be neuter; its lemma "gril" is masculine
    assert clauses.noun_classes("grilu", lexicon, genders) == {"ma_sg", "mi_sg"}
    # "hromadě" has no adjective before it: feminine from its lemma, singular from -ě
    assert clauses.noun_classes("hromadě", lexicon, genders) == {"f_sg"}
    assert clauses.noun_classes("venku", lexicon, genders) == set()
    # "most" ends like feminine "radost" but its evidence is masculine
    assert clauses.noun_classes("most", lexicon, genders) == {"ma_sg", "mi_sg"}


def test_evidence_against_the_ending_or_a_preposition_gives_no_class() -> None:
    lexicon, genders = lexicon_and_genders()
    assert lexicon.nouns["jídlo"] == {"f_sg"}  # the cues alone would say feminine
    assert clauses.noun_classes("jídlo", lexicon, genders) == set()
    assert clauses.noun_classes("kolem", lexicon, genders) == set()


def test_clause_pronoun_agrees_with_the_last_noun() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    for _ in range(10):  # every clause the random choice may take
        en, cs = clauses.clause_pair(*CORPUS[2], lexicon, genders, LINKS, rng)
        assert en.startswith("A man stands by a big grill that ") and en.endswith(".")
        assert cs.startswith("Muž stojí u velkého grilu, který ")  # nominative only
        en, cs = clauses.clause_pair(*CORPUS[8], lexicon, genders, LINKS, rng)
        assert en.startswith("Snow lies on a heap that ")
        assert cs.split(",")[1].split()[0] in ("která", "kterou")
        assert ("která" in cs) == ("that is " in en)  # nominative: "that is ..."


def test_a_participle_share_drops_that_only_where_the_clause_allows_it() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    for _ in range(10):
        # the grill takes only nominative clauses, each of which has a form without "that"
        en, cs = clauses.clause_pair(*CORPUS[2], lexicon, genders, LINKS, rng,
                                     participle_share=1.0)
        assert en.startswith("A man stands by a big grill ") and " that " not in en
        assert cs.startswith("Muž stojí u velkého grilu, který ")
        # accusative clauses ("kterou") keep "that": without it, "a heap everyone can see"
        en, cs = clauses.clause_pair(*CORPUS[8], lexicon, genders, LINKS, rng,
                                     participle_share=1.0)
        assert (" that " in en) == ("kterou" in cs)


def test_pairs_without_a_known_final_noun_or_full_stop_are_skipped() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    assert clauses.clause_pair(*CORPUS[9], lexicon, genders, LINKS, rng) is None  # "venku"
    assert clauses.clause_pair(*CORPUS[10], lexicon, genders, LINKS, rng) is None  # no "."


def test_the_czech_last_word_must_translate_the_english_one() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    assert clauses.noun_classes("gril", lexicon, genders) == {"ma_sg", "mi_sg"}
    assert clauses.translates("grill", "gril", CORPUS[24][1], LINKS)
    assert not clauses.translates("outside", "gril", CORPUS[24][1], LINKS)  # "venku"
    assert clauses.clause_pair(*CORPUS[24], lexicon, genders, LINKS, rng) is None


def test_a_sentence_ending_n1_of_n2_gets_no_clause() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    assert clauses.ends_in_of_phrase("by the smoke of a big grill".split())
    assert not clauses.ends_in_of_phrase("a piece of paper in hand".split())
    # "grilu" translates "grill" and has a class, but "kouře" (smoke) may be the noun
    assert clauses.translates("grill", "gril", CORPUS[25][1], LINKS)
    assert clauses.clause_pair(*CORPUS[25], lexicon, genders, LINKS, rng) is None


def test_a_person_subject_gets_a_clause_across_its_prepositional_phrase() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    (inside_en, inside_cs), (alone_en, alone_cs) = clauses.subject_clause_pairs(
        *CORPUS[15], lexicon, genders, rng)
    # animate plural "kteří", not the nearer "hromadou"'s "která"
    assert inside_en.startswith("Men with a small heap who are ")
    assert inside_en.endswith(" are standing outside.")
    assert inside_cs.startswith("Muži s malou hromadou, kteří ")
    assert inside_cs.endswith(", stojí venku.")
    assert alone_en.startswith("Men with a small heap ") and "outside" not in alone_en
    assert alone_cs == inside_cs.split(", stojí")[0] + "."
    participle = alone_en.removeprefix("Men with a small heap ").removesuffix(".")
    assert inside_en == f"Men with a small heap who are {participle} are standing outside."
    _, (_, alone_cs) = clauses.subject_clause_pairs(*CORPUS[16], lexicon, genders, rng)
    assert alone_cs.startswith("Dívka na velké hromadě, která ")


def test_subject_clauses_need_a_person_and_the_whole_phrase() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    # "hromadě sněhu": the Czech phrase has fewer words than "big heap of snow"
    assert clauses.subject_clause_pairs(*CORPUS[17], lexicon, genders, rng) == []
    assert clauses.subject_clause_pairs(*CORPUS[18], lexicon, genders, rng) == []  # grill
    assert clauses.subject_clause_pairs(*CORPUS[0], lexicon, genders, rng) == []
    # the word before the preposition is an adjective ("Muži oblečenému v malé
    # hromadě ...": to the man dressed in ...), not the person
    genders["oblečený"] = {"ma"}
    assert clauses.noun_classes("oblečenému", lexicon, genders) == {"ma_sg"}
    phrase_en, phrase_cs = ["a", "small", "heap"], ["malé", "hromadě"]
    assert clauses.person_clause("man", phrase_en, "oblečenému", phrase_cs, lexicon,
                                 genders, rng) is None
    assert clauses.person_clause("man", phrase_en, "muž", phrase_cs, lexicon, genders,
                                 rng) is not None


def test_a_person_at_the_end_gets_a_clause_across_its_prepositional_phrase() -> None:
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    (who_en, who_cs), (participle_en, participle_cs) = \
        clauses.last_person_clause_pairs(*CORPUS[19], lexicon, genders, rng)
    assert who_en.startswith("There is a girl by a big grill who is ")
    assert who_cs.startswith("Je tam dívka u velkého grilu, která ")  # not "který"
    assert participle_cs == who_cs
    assert participle_en == who_en.replace(" who is", "")
    assert clauses.last_person_clause_pairs(*CORPUS[2], lexicon, genders, rng) == []


def test_the_last_words_must_agree_in_number() -> None:
    assert [clauses.english_number(w) for w in ("balls", "people", "grass", "bus", "man")] \
        == ["pl", "pl", "sg", "sg", "sg"]
    lexicon, genders = lexicon_and_genders()
    rng = random.Random(0)
    # "grilu" is singular: no clause for "grills"
    assert clauses.clause_pair("A man stands by big grills.", "Muž stojí u velkého grilu.",
                               lexicon, genders, LINKS, rng) is None


def test_latin_um_nouns_are_neuter() -> None:
    assert clauses.gender_from_ending("pódium") == {"n"}
    assert clauses.gender_from_ending("gril") == {"mi", "ma"}


def test_an_english_word_for_people_fixes_number_sex_and_animacy() -> None:
    assert clauses.person_classes({"ma_pl", "mi_pl"}, "players") == {"ma_pl"}
    assert clauses.person_classes({"ma_sg", "ma_pl"}, "Man") == {"ma_sg"}
    assert clauses.person_classes({"ma_sg", "f_sg"}, "woman") == {"f_sg"}
    assert clauses.person_classes({"ma_sg", "mi_sg"}, "girl") == set()
    assert clauses.person_classes({"ma_pl", "mi_pl"}, "grills") == {"ma_pl", "mi_pl"}


def test_children_agree_as_feminine_in_the_plural() -> None:
    lexicon, _ = lexicon_and_genders()
    assert "n_pl" in lexicon.nouns["dětmi"]
    assert clauses.noun_classes("dětmi", lexicon, {"dítě": {"n"}}) == {"f_pl"}


def test_command_line_writes_aligned_files_and_rejects_unaligned_input(
        tmp_path: Path) -> None:
    (tmp_path / "train.en").write_text("".join(en + "\n" for en, _ in CORPUS),
                                       encoding="utf-8")
    (tmp_path / "train.cs").write_text("".join(cs + "\n" for _, cs in CORPUS),
                                       encoding="utf-8")
    command = [sys.executable, str(SCRIPTS / "add_relative_clauses.py"),
               "--src", str(tmp_path / "train.en"), "--tgt", str(tmp_path / "train.cs"),
               "--count", "3", "--out", str(tmp_path / "out" / "clauses")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    made_en = (tmp_path / "out" / "clauses.en").read_text(encoding="utf-8").splitlines()
    made_cs = (tmp_path / "out" / "clauses.cs").read_text(encoding="utf-8").splitlines()
    assert len(made_en) == len(made_cs) == 3
    assert all(", kte" in cs for cs in made_cs)  # který, kteří, ...

    done = subprocess.run([*command, "--participle-share", "1.5"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip() == "error: --participle-share must be between 0 and 1, got 1.5"

    (tmp_path / "train.cs").write_text("Muž je venku.\n", encoding="utf-8")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip() == (f"error: {tmp_path / 'train.cs'}:2: file ends early "
                                   f"({len(CORPUS)} source lines vs 1 reference lines)")
