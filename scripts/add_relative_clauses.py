#!/usr/bin/env python3
"""Make en->cs training pairs whose last noun gets a relative clause.

Czech relative pronouns agree in gender and number with their noun ("u grilu,
který ...", "na hromadě, která ..."), and the Multi30k training text has a clause
after few of the noun forms that references use before one. This script takes
training pairs whose sentences both end in a word and a full stop ("... around a
grill." / "... u grilu.") and whose Czech last word is a noun form of known gender
and number, and appends one short clause to both sides:

    Two men sit around a grill that is standing nearby.
    Dva muži sedí u grilu, který stojí poblíž.

The pronoun's form follows from the noun's class (nominative or accusative, see
CLAUSES); the English side uses "that", which carries no gender, so only the Czech
noun tells the model which form to write.

Noun classes: a noun form's classes come from the adjectives before it in the
Czech text (build_contrastive_suite.build_lexicon). Forms without that evidence
take the gender of their lemma (simplemma's Czech dictionary): the gender the
lemma's other forms allow, or, when a form of it follows a preposition, the one
its ending suggests; and the number their ending gives (NUMBER_ENDINGS). A form
whose classes do not fix one pronoun is skipped.

Usage:

    python scripts/add_relative_clauses.py --src train.en.gz --tgt train.cs.gz \\
        --count 6000 --out data/clauses/train

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
# words that look like nouns to the cues but are not (e.g. "kolem": around)
NOT_NOUNS = CS_PREPOSITIONS | CS_NUMERALS | set(CS_REL_READINGS)
BE = {"sg": ("is", "je"), "pl": ("are", "jsou")}
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
    -o neuter, -ost feminine (but not "most", "host": unknown below five letters), a
    hard consonant masculine; other vowels and soft consonants (muž, zeď): unknown."""
    if lemma.endswith("ista"):
        return {"ma"}
    if lemma.endswith("a") or (lemma.endswith("ost") and len(lemma) > 4):
        return {"f"}
    if lemma.endswith("o"):
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
    classes = {f"{g}_{n}" for g in genders.get(lemma, ()) for n in numbers}
    return classes & known if known else classes


def pronoun_for(classes: set[str], case: str) -> str | None:
    """The one form of "který" that agrees with every class, else None."""
    forms = {PRONOUN[c, case] for c in classes}
    return forms.pop() if len(forms) == 1 else None


def clause_pair(src: str, tgt: str, lexicon: Lexicon, genders: dict[str, set[str]],
                rng: random.Random) -> tuple[str, str] | None:
    """The pair with a clause after its last word, or None when it does not qualify."""
    src, tgt = src.rstrip(), tgt.rstrip()
    if not (src.endswith(".") and tgt.endswith(".")):
        return None
    last_src, last_tgt = src[:-1].split()[-1:], tgt[:-1].split()[-1:]
    if not (last_src and last_src[0].isalpha() and last_tgt and last_tgt[0].isalpha()):
        return None
    classes = noun_classes(last_tgt[0].lower(), lexicon, genders)
    numbers = {c.split("_")[1] for c in classes}
    if len(numbers) != 1:
        return None
    be_en, be_cs = BE[numbers.pop()]
    for english, czech, case in rng.sample(CLAUSES, len(CLAUSES)):
        pronoun = pronoun_for(classes, case)
        if pronoun is not None:
            return (f"{src[:-1]} {english.format(be=be_en)}.",
                    f"{tgt[:-1]}, {pronoun} {czech.format(be=be_cs)}.")
    return None


def make_pairs(pairs: Sequence[tuple[str, str]], count: int,
               seed: int) -> list[tuple[str, str]]:
    """Up to `count` new pairs from randomly chosen qualifying `pairs`."""
    lines = [tgt for _, tgt in pairs]
    lexicon = build_lexicon(lines, "cs")
    genders = lemma_genders(lines, lexicon)
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    made = []
    for i in order:
        pair = clause_pair(*pairs[i], lexicon, genders, rng)
        if pair is not None:
            made.append(pair)
            if len(made) == count:
                break
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
        description="Append a relative clause to the last noun of en->cs training pairs, "
                    "with the Czech pronoun agreeing with that noun.")
    p.add_argument("--src", type=Path, required=True, help="English side (plain or .gz)")
    p.add_argument("--tgt", type=Path, required=True,
                   help="Czech side (plain or .gz), line-aligned with --src")
    p.add_argument("--count", type=int, default=6000, help="pairs to make (at most)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True,
                   help="output prefix: writes PREFIX.en and PREFIX.cs")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.count < 1:
        sys.exit(f"error: --count must be at least 1, got {args.count}")
    made = make_pairs(read_parallel(args.src, args.tgt), args.count, args.seed)
    write_pairs(args.out, "en", made)
    print(f"{len(made)} pairs -> {args.out}.en, {args.out}.cs", file=sys.stderr)


if __name__ == "__main__":
    main()
