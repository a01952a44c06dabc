#!/usr/bin/env python3
"""Make en->cs training pairs with a relative clause whose Czech pronoun agrees with
its noun.

Czech relative pronouns agree in gender and number with their noun ("u grilu,
který ...", "na hromadě, která ..."), and the Multi30k training text has a clause
after few of the noun forms that references use before one, and few clauses on a
person separated from it by a prepositional phrase ("Dívka v uniformě, která ...").
This script makes two kinds of pairs:

- On a person before a prepositional phrase, from every pair that starts so
  (subject_clause_pairs) or ends so (last_person_clause_pairs), once with "who" and
  once with an English participle:

      A man in a blue shirt who is smiling is standing on a ladder.
      Muž v modré košili, který se usmívá, stojí na žebříku.
      A man in a blue shirt smiling.
      Muž v modré košili, který se usmívá.
      ... featuring a man in a black apron who is looking at the camera.
      ... zachycující muže v černé zástěře, který se dívá do kamery.

- On the last noun (clause_pair), from randomly chosen pairs whose sentences both end
  in a word and a full stop and whose Czech last word is a noun form of known gender
  and number, until there are --count pairs in all:

      Two men sit around a grill that is standing nearby.
      Dva muži sedí u grilu, který stojí poblíž.

  The Czech last word must translate the English one (translates: "u grilu" for "by a
  grill", not "venku natírá gril" for "paints a grill outside") and agree with it in
  number, and the English must not end "N1 of N2" ("on a pile of snow"), where the
  clause could be on either noun (Multi30k's val reference has "na hromadě sněhu,
  která", on N1).

  The pronoun's case is nominative or accusative (see CLAUSES); the English side
  uses "that", which carries no gender, so only the Czech noun tells the model which
  form to write. With --participle-share P, a share P of the nominative clauses drop
  "that is/are" ("... around a grill standing nearby."), as a Czech reference often
  has a relative clause where its English source has a participle or a phrase; the
  pronoun then has no English word at all to follow.

A Czech noun translating an English word for people (EN_PERSONS) takes that word's
number and, for "man", "woman" and the like, its sex's gender (EN_SEXES); a
masculine one is animate.

Noun classes: a noun form's classes come from the adjectives before it in the
Czech text (build_contrastive_suite.build_lexicon). Forms without that evidence
take the gender of their lemma (simplemma's Czech dictionary): the gender the
lemma's other forms allow, or, when a form of it follows a preposition, the one
its ending suggests; and the number their ending gives (NUMBER_ENDINGS). A form
whose classes do not fix one pronoun is skipped.

Usage:

    python scripts/add_relative_clauses.py --src train.en.gz --tgt train.cs.gz \\
        --count 6000 [--participle-share 0.5] --out data/clauses/train

writes data/clauses/train.en and data/clauses/train.cs (the new pairs only).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import simplemma

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_contrastive_suite import (  # noqa: E402
    CS_NOUNS,
    CS_NUMERALS,
    CS_PREPOSITIONS,
    CS_REL_READINGS,
    Lexicon,
    build_lexicon,
    cores,
    cs_is_adjective,
    read_parallel,
)

# (English clause with {be} = is/are, Czech clause with {be} = je/jsou, pronoun case)
CLAUSES = (
    ("that {be} standing nearby", "stojí poblíž", "nom"),
    ("that {be} lying on the ground", "leží na zemi", "nom"),
    ("that {be} in the picture", "{be} na obrázku", "nom"),
    ("that {be} in the background", "{be} v pozadí", "nom"),
    ("that {be} behind them", "{be} za nimi", "nom"),
    ("that everyone can see", "všichni vidí", "acc"),
    ("that someone is looking at", "si někdo prohlíží", "acc"),
)
# the start of a clause that can be dropped, leaving a participle or a phrase
# ("a grill standing nearby"); the accusative clauses cannot lose their "that"
THAT_BE = "that {be} "
# words that look like nouns to the cues but are not (e.g. "kolem": around)
NOT_NOUNS = CS_PREPOSITIONS | CS_NUMERALS | set(CS_REL_READINGS)
BE = {"sg": ("is", "je"), "pl": ("are", "jsou")}
# English words for people, with their number; a Czech masculine noun translating one
# is animate (plural "kteří", not "které")
EN_PERSONS = {
    **dict.fromkeys("man woman girl boy person mother child kid lady guy gentleman baby "
                    "toddler player worker musician singer dancer rider cyclist biker skier "
                    "surfer climber runner swimmer tourist student teenager performer "
                    "officer soldier firefighter fireman policeman chef artist "
                    "athlete skateboarder spectator audience".split(), "sg"),
    **dict.fromkeys("men women girls boys people persons children kids ladies guys "
                    "babies toddlers players workers musicians singers dancers riders "
                    "cyclists bikers skiers surfers climbers runners swimmers tourists "
                    "students teenagers performers officers soldiers firefighters "
                    "firemen policemen chefs artists athletes skateboarders "
                    "spectators".split(), "pl"),
}
# English words for people of one sex -> the gender of a Czech noun translating them
EN_SEXES = {
    **dict.fromkeys("woman women girl girls lady ladies mother".split(), "f"),
    **dict.fromkeys("man men boy boys guy guys gentleman fireman firemen policeman "
                    "policemen".split(), "ma"),
}
# lemmas whose plural agrees as feminine ("děti, které")
FEMININE_PLURALS = frozenset({"dítě"})
EN_PREPOSITIONS = frozenset("in on with at near by behind under".split())
# words that start an English prepositional phrase: a sentence whose last one is "of"
# ends "N1 of N2"
EN_PHRASE_STARTS = EN_PREPOSITIONS | frozenset(
    "of from to into onto over across along around through for past toward towards "
    "against among beside".split())
# plurals without -s besides those of EN_PERSONS ("men", "children", "people")
EN_IRREGULAR_PLURALS = frozenset("feet teeth mice geese".split())
# (English participle phrase, Czech predicate for one person, for several): clauses
# about a person, present tense so only the pronoun shows the gender
PERSON_CLAUSES = (
    ("smiling", "se usmívá", "se usmívají"),
    ("laughing", "se směje", "se smějí"),
    ("looking at the camera", "se dívá do kamery", "se dívají do kamery"),
    ("wearing sunglasses", "má sluneční brýle", "mají sluneční brýle"),
    ("talking on the phone", "telefonuje", "telefonují"),
    ("waiting for a friend", "čeká na kamaráda", "čekají na kamaráda"),
)
# (gender/number class, case) -> the form of "který" (one per pair in the suite
# builder's readings)
PRONOUN = {(gn, case): form for form, readings in CS_REL_READINGS.items()
           for case, gns in readings.items() for gn in gns}
# endings that fix a form's number, by its lemma's last letter (-a: feminine like
# žena, -o: neuter like město, else masculine like gril); a form equal to its lemma
# is singular; other endings (feminine -y: genitive singular or plural) say nothing
NUMBER_ENDINGS = {
    "a": {"sg": ("u", "ou", "ě", "e"), "pl": ("ám", "ách", "ami")},
    "o": {"sg": ("u", "em", "ě", "e"), "pl": ("ům", "ech", "y")},
    "": {"sg": ("u", "a", "em", "ovi", "ě", "e"), "pl": ("y", "ové", "ů", "ům", "ech", "ích")},
}


def lemma_of(form: str) -> str:
    return simplemma.lemmatize(form, lang="cs")


def gender_from_ending(lemma: str) -> set[str]:
    """Genders a noun lemma's ending suggests: -ista masculine animate, -a feminine,
    -o and Latin -um ("pódium") neuter, -ost feminine (but not "most", "host": unknown
    below five letters), a hard consonant masculine; other vowels and soft consonants
    (muž, zeď): unknown."""
    if lemma.endswith("ista"):
        return {"ma"}
    if lemma.endswith("a") or (lemma.endswith("ost") and len(lemma) > 4):
        return {"f"}
    if lemma.endswith(("o", "um")):
        return {"n"}
    if lemma.endswith("ost") or lemma[-1:] in "eěéiíyýuůúáóďťňčřšžcj":
        return set()
    return {"mi", "ma"}


def lemma_genders(lines: Iterable[str], lexicon: Lexicon) -> dict[str, set[str]]:
    """Lemma -> the genders (ma, mi, f, n) of the noun it names.

    With adjective evidence: the genders the most of its forms with evidence allow (one
    misread form, like "aut" taken for feminine, does not decide), where they agree with
    the ending's; a lemma whose evidence contradicts its ending ("jídlo": its one form
    with evidence, "jídla", read as feminine) is left out. Without: the ending's, when
    one of its forms follows a preposition at least twice (a noun there, unless it is
    an adjective)."""
    evidence: dict[str, Counter[str]] = {}
    for form, classes in lexicon.nouns.items():
        if form not in NOT_NOUNS:
            evidence.setdefault(lemma_of(form), Counter()).update(
                {c.split("_")[0] for c in classes})
    genders = {}
    for lemma, counts in evidence.items():
        top = {g for g, n in counts.items() if n == max(counts.values())}
        genders[lemma] = top & (gender_from_ending(lemma) or top)
    after = Counter(word.lower() for line in lines
                    for left, word in pairwise(cores(line.split()))
                    if left.lower() in CS_PREPOSITIONS)
    for form, n in after.items():
        if n >= 2 and form.isalpha() and form not in NOT_NOUNS \
                and not cs_is_adjective(form, lexicon.vocab):
            lemma = lemma_of(form)
            if lemma not in evidence:
                genders[lemma] = gender_from_ending(lemma)
    return {lemma: found for lemma, found in genders.items() if found}


def number_of(form: str, lemma: str) -> str | None:
    """'sg', 'pl' or None, from the form's ending given its lemma's."""
    if form == lemma:
        return "sg"
    endings = NUMBER_ENDINGS.get(lemma[-1:], NUMBER_ENDINGS[""])
    for number in ("sg", "pl"):
        if form.endswith(endings[number]):
            return number
    return None


def noun_classes(form: str, lexicon: Lexicon, genders: dict[str, set[str]]) -> set[str]:
    """The gender/number classes (e.g. {'f_sg'}) a lower-case Czech word form may have:
    its own evidence narrowed by its lemma's gender, or, with none, its lemma's gender
    and the number its ending gives; empty when they disagree or nothing says it is a
    noun."""
    if form in CS_NOUNS:
        return {CS_NOUNS[form]}
    if form in NOT_NOUNS:
        return set()
    known = lexicon.nouns.get(form, set())
    lemma = lemma_of(form)
    numbers = {c.split("_")[1] for c in known} or {number_of(form, lemma)} - {None}
    classes = {f"{'f' if n == 'pl' and lemma in FEMININE_PLURALS else g}_{n}"
               for g in genders.get(lemma, ()) for n in numbers}
    return classes & known if known else classes


def pronoun_for(classes: set[str], case: str) -> str | None:
    """The one form of "který" that agrees with every class, else None."""
    forms = {PRONOUN[c, case] for c in classes}
    return forms.pop() if len(forms) == 1 else None


def person_classes(classes: set[str], english_word: str) -> set[str]:
    """`classes` narrowed by the English word for the same noun when it names people:
    its number, its sex's gender if it has one ("woman": not "zákaznice" read as
    masculine), and animate if masculine; unchanged otherwise."""
    word = english_word.lower()
    if word not in EN_PERSONS:
        return classes
    gender = EN_SEXES.get(word, "")
    return {c for c in classes if c.endswith(EN_PERSONS[word]) and c.startswith(gender)
            and not c.startswith("mi")}


class WordLinks(NamedTuple):
    """In how many training pairs each English word (lower case), each Czech lemma, and
    each (word, lemma) pair occur."""

    english: Counter[str]
    czech: Counter[str]
    both: Counter[tuple[str, str]]


def words_of(line: str) -> list[str]:
    """The line's words without punctuation, numbers or hyphenated compounds."""
    return [w for w in cores(line.split()) if w.isalpha()]


def czech_lemmas(line: str) -> set[str]:
    return {lemma_of(w.lower()) for w in words_of(line)}


def count_links(pairs: Iterable[tuple[str, str]]) -> WordLinks:
    links = WordLinks(Counter(), Counter(), Counter())
    for src, tgt in pairs:
        words = {w.lower() for w in words_of(src)}
        lemmas = czech_lemmas(tgt)
        links.english.update(words)
        links.czech.update(lemmas)
        links.both.update((w, lemma) for w in words for lemma in lemmas)
    return links


def translates(word: str, lemma: str, tgt: str, links: WordLinks) -> bool:
    """Whether Czech `lemma` is, of the lemmas of `tgt`, one that goes with English `word`
    the most (Dice coefficient over the training pairs): in "Muž venku natírá gril.",
    "gril" for "grill" but not for "outside" ("venku")."""
    def dice(other: str) -> float:
        return 2 * links.both[word, other] / max(1, links.english[word] + links.czech[other])
    return dice(lemma) >= max(map(dice, czech_lemmas(tgt)))


def english_number(word: str) -> str:
    """'pl' for a plural-looking English noun ("balls", "people"; not "grass", "bus"),
    else 'sg'."""
    word = word.lower()
    if word in EN_PERSONS:
        return EN_PERSONS[word]
    plural = word in EN_IRREGULAR_PLURALS \
        or (word.endswith("s") and not word.endswith(("ss", "us", "is")))
    return "pl" if plural else "sg"


def ends_in_of_phrase(words: Sequence[str]) -> bool:
    """Whether the last preposition before the last word is "of" ("on a pile of snow"):
    a clause after the sentence could be on either noun."""
    starts = [w.lower() for w in words[:-1] if w.lower() in EN_PHRASE_STARTS]
    return starts[-1:] == ["of"]


def clause_pair(src: str, tgt: str, lexicon: Lexicon, genders: dict[str, set[str]],
                links: WordLinks, rng: random.Random,
                participle_share: float = 0.0) -> tuple[str, str] | None:
    """The pair with a clause after its last word, or None when it does not qualify:
    its sentences do not both end in a word and a full stop, the Czech word does not
    translate the English one, the English ends "N1 of N2", or the Czech word's class
    does not fix the pronoun or has another number than the English word ("koulí",
    read as singular, for "balls"). With probability `participle_share` a clause that
    has one takes its English form without "that" ("a grill standing nearby"), so only
    the Czech side has a pronoun."""
    src, tgt = src.rstrip(), tgt.rstrip()
    if not (src.endswith(".") and tgt.endswith(".")):
        return None
    src_words, last_tgt = src[:-1].split(), tgt[:-1].split()[-1:]
    last_src = src_words[-1:]
    if not (last_src and last_src[0].isalpha() and last_tgt and last_tgt[0].isalpha()):
        return None
    if ends_in_of_phrase(src_words) \
            or not translates(last_src[0].lower(), lemma_of(last_tgt[0].lower()), tgt, links):
        return None
    classes = person_classes(noun_classes(last_tgt[0].lower(), lexicon, genders),
                             last_src[0])
    number = english_number(last_src[0])
    if {c.split("_")[1] for c in classes} != {number}:
        return None
    be_en, be_cs = BE[number]
    for english, czech, case in rng.sample(CLAUSES, len(CLAUSES)):
        pronoun = pronoun_for(classes, case)
        if pronoun is not None:
            if english.startswith(THAT_BE) and participle_share \
                    and rng.random() < participle_share:
                english = english.removeprefix(THAT_BE)
            return (f"{src[:-1]} {english.format(be=be_en)}.",
                    f"{tgt[:-1]}, {pronoun} {czech.format(be=be_cs)}.")
    return None


def english_subject(words: Sequence[str]) -> tuple[int, int] | None:
    """(person, be) for a sentence starting with a person and one prepositional phrase
    ("A man in a blue shirt is ..."): the person's index and the "is"/"are" after the
    phrase's; else None."""
    for person, (word, prep) in enumerate(pairwise(words[:4])):
        if word.lower() in EN_PERSONS and prep.lower() in EN_PREPOSITIONS:
            for be in range(person + 3, min(person + 8, len(words))):
                if words[be] in ("is", "are"):
                    return (person, be) if is_plain_phrase(words[person + 2:be]) else None
            return None
    return None


def english_last_person(words: Sequence[str]) -> int | None:
    """Index of the person in a sentence (its full stop removed) ending with a person
    and one prepositional phrase ("... featuring a man in a black apron"), else None."""
    for person in range(len(words) - 3, max(len(words) - 8, 0) - 1, -1):
        if words[person].lower() in EN_PERSONS \
                and words[person + 1].lower() in EN_PREPOSITIONS:
            return person if is_plain_phrase(words[person + 2:]) else None
    return None


def is_plain_phrase(words: Sequence[str]) -> bool:
    """Words without punctuation, prepositions or "and" ("a blue shirt")."""
    return all(w.isalpha() and w.lower() not in EN_PREPOSITIONS and w != "and"
               for w in words)


def czech_phrase_end(words: Sequence[str], prep: int, lexicon: Lexicon) -> int:
    """Index of the last word of the phrase a preposition at `prep` starts: the first
    word after its adjectives."""
    end = prep + 1
    while end < len(words) - 1 and cs_is_adjective(words[end].lower(), lexicon.vocab):
        end += 1
    return end


def czech_subject(words: Sequence[str], lexicon: Lexicon) -> tuple[int, int] | None:
    """(head, end) for a Czech sentence starting with a noun, a preposition, adjectives
    and a noun ("Muž v modré košili stojí ..."): the head noun's index and the phrase's
    last word's, when a verb-like word (not "a", not a preposition) follows; else None."""
    for head in range(min(3, len(words) - 2)):
        if words[head + 1].lower() in CS_PREPOSITIONS:
            end = czech_phrase_end(words, head + 1, lexicon)
            following = words[end + 1:end + 2]
            if following and words[end].isalpha() and following[0].isalpha() \
                    and following[0].lower() not in CS_PREPOSITIONS | {"a", "i"} \
                    and all(w.isalpha() for w in words[:end]):
                return head, end
            return None
    return None


def czech_last_head(words: Sequence[str], lexicon: Lexicon) -> int | None:
    """Index of the noun before a sentence's (full stop removed) last preposition when
    the phrase that preposition starts (adjectives and a noun) ends the sentence ("...
    muže v černé zástěře"), else None."""
    if len(words) < 3 or not words[-1].isalpha():
        return None
    prep = max((i for i, w in enumerate(words) if w.lower() in CS_PREPOSITIONS),
               default=0)
    if prep < 1 or not words[prep - 1].isalpha() \
            or czech_phrase_end(words, prep, lexicon) != len(words) - 1:
        return None
    return prep - 1


def person_clause(person: str, phrase_en: Sequence[str], head: str,
                  phrase_cs: Sequence[str], lexicon: Lexicon, genders: dict[str, set[str]],
                  rng: random.Random) -> tuple[str, str] | None:
    """(English participle phrase, Czech "pronoun predicate") for a clause on the Czech
    noun `head`, which translates the English `person`; `phrase_en` and `phrase_cs` are
    the words of the prepositional phrases after them, without the prepositions. None
    when the Czech phrase has not as many words as the English besides articles (it
    was cut short: "v uniformě pilota" for "in a pilot uniform"), does not end in a
    noun, or the head is an adjective or its class does not fix the pronoun."""
    if len([w for w in phrase_en if w.lower() not in ("a", "an", "the")]) \
            != len(phrase_cs):
        return None
    if cs_is_adjective(head.lower(), lexicon.vocab):  # "Muži oblečenému do ...": dative
        return None
    classes = person_classes(noun_classes(head.lower(), lexicon, genders), person)
    pronoun = pronoun_for(classes, "nom")
    if pronoun is None or not noun_classes(phrase_cs[-1].lower(), lexicon, genders):
        return None
    english, one, several = rng.choice(PERSON_CLAUSES)
    return english, f"{pronoun} {one if EN_PERSONS[person.lower()] == 'sg' else several}"


def subject_clause_pairs(src: str, tgt: str, lexicon: Lexicon,
                         genders: dict[str, set[str]],
                         rng: random.Random) -> list[tuple[str, str]]:
    """Two pairs from a pair whose subject is a person with a prepositional phrase, a
    clause on the person (not on the nearer noun of the phrase):

        A man in a blue shirt who is smiling is standing on a ladder.
        Muž v modré košili, který se usmívá, stojí na žebříku.
        A man in a blue shirt smiling.
        Muž v modré košili, který se usmívá.

    or none when the pair does not start so."""
    src_words, tgt_words = src.split(), tgt.split()
    found_en, found_cs = english_subject(src_words), czech_subject(tgt_words, lexicon)
    if found_en is None or found_cs is None:
        return []
    (person, be_at), (head, end) = found_en, found_cs
    clause = person_clause(src_words[person], src_words[person + 2:be_at], tgt_words[head],
                           tgt_words[head + 2:end + 1], lexicon, genders, rng)
    if clause is None:
        return []
    english, czech = clause
    subject_en, rest_en = " ".join(src_words[:be_at]), " ".join(src_words[be_at:])
    subject_cs, rest_cs = " ".join(tgt_words[:end + 1]), " ".join(tgt_words[end + 1:])
    return [(f"{subject_en} who {src_words[be_at]} {english} {rest_en}",
             f"{subject_cs}, {czech}, {rest_cs}"),
            (f"{subject_en} {english}.", f"{subject_cs}, {czech}.")]


def last_person_clause_pairs(src: str, tgt: str, lexicon: Lexicon,
                             genders: dict[str, set[str]],
                             rng: random.Random) -> list[tuple[str, str]]:
    """Two pairs from a pair ending with a person and a prepositional phrase, a clause
    on the person (not on the nearer noun of the phrase), with "who" and with a
    participle:

        ... featuring a man in a black apron who is smiling.
        ... zachycující muže v černé zástěře, který se usmívá.
        ... featuring a man in a black apron smiling.
        ... zachycující muže v černé zástěře, který se usmívá.

    or none when the pair does not end so."""
    src, tgt = src.rstrip(), tgt.rstrip()
    if not (src.endswith(".") and tgt.endswith(".")) or src.endswith(" .") \
            or tgt.endswith(" ."):
        return []
    src_words, tgt_words = src[:-1].split(), tgt[:-1].split()  # full stops removed
    person, head = english_last_person(src_words), czech_last_head(tgt_words, lexicon)
    if person is None or head is None:
        return []
    clause = person_clause(src_words[person], src_words[person + 2:], tgt_words[head],
                           tgt_words[head + 2:], lexicon, genders, rng)
    if clause is None:
        return []
    english, czech = clause
    be = BE[EN_PERSONS[src_words[person].lower()]][0]
    return [(f"{src[:-1]} who {be} {english}.", f"{tgt[:-1]}, {czech}."),
            (f"{src[:-1]} {english}.", f"{tgt[:-1]}, {czech}.")]


def make_pairs(pairs: Sequence[tuple[str, str]], count: int, seed: int,
               participle_share: float = 0.0) -> list[tuple[str, str]]:
    """Up to `count` new pairs: first those with a clause on a person before a
    prepositional phrase, at the start or the end of the sentence, from every
    qualifying pair, then ones with a clause on the last noun, from randomly chosen
    qualifying pairs (`participle_share` of those without "that", see clause_pair)."""
    lines = [tgt for _, tgt in pairs]
    lexicon = build_lexicon(lines, "cs")
    genders = lemma_genders(lines, lexicon)
    links = count_links(pairs)
    rng = random.Random(seed)
    made = [new for make in (subject_clause_pairs, last_person_clause_pairs)
            for pair in pairs for new in make(*pair, lexicon, genders, rng)][:count]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    for i in order:
        if len(made) == count:
            break
        pair = clause_pair(*pairs[i], lexicon, genders, links, rng, participle_share)
        if pair is not None:
            made.append(pair)
    return made


def write_pairs(prefix: str, src_lang: str, pairs: Sequence[tuple[str, str]]) -> None:
    try:
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        for side, lang in enumerate((src_lang, "cs")):
            with open(f"{prefix}.{lang}", "w", encoding="utf-8", newline="\n") as f:
                f.writelines(pair[side] + "\n" for pair in pairs)
    except OSError as e:
        sys.exit(f"error: cannot write {e.filename}: {e.strerror}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Make en->cs training pairs with a relative clause on a person before "
                    "a prepositional phrase or on the last noun, the Czech pronoun "
                    "agreeing with that noun.")
    p.add_argument("--src", type=Path, required=True, help="English side (plain or .gz)")
    p.add_argument("--tgt", type=Path, required=True,
                   help="Czech side (plain or .gz), line-aligned with --src")
    p.add_argument("--count", type=int, default=6000, help="pairs to make (at most)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--participle-share", type=float, default=0.0, metavar="P",
                   help="share of the clauses on the last noun written in English without "
                        "'that' ('a grill standing nearby'), where the clause allows it")
    p.add_argument("--out", required=True,
                   help="output prefix: writes PREFIX.en and PREFIX.cs")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.count < 1:
        sys.exit(f"error: --count must be at least 1, got {args.count}")
    if not 0.0 <= args.participle_share <= 1.0:
        sys.exit(f"error: --participle-share must be between 0 and 1, "
                 f"got {args.participle_share}")
    made = make_pairs(read_parallel(args.src, args.tgt), args.count, args.seed,
                      args.participle_share)
    write_pairs(args.out, "en", made)
    print(f"{len(made)} pairs -> {args.out}.en, {args.out}.cs", file=sys.stderr)


if __name__ == "__main__":
    main()
