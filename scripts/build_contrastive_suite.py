#!/usr/bin/env python3
"""Build a contrastive agreement test suite from a parallel corpus.

For every reference sentence, find words whose form agrees in gender/number
with a noun and swap one of them for a form that is wrong under every
reading.  Each hit becomes a TSV row

    source<TAB>correct<TAB>contrastive<TAB>category

in the same format as scripts/make_agreement_corpus.py.  The contrastive
sentence differs from the reference in exactly one whitespace token.

--lang cs
  rel_pronoun  forms of "který" after a comma (optionally comma + preposition),
               replaced by a form of a shared case whose possible gender/number
               readings are all different (který -> která, kteří -> který, ...);
               forms with no such partner (kterému) are skipped.
  adjective    hard adjectives (-ý/-á/-é, and -í when the -ý form occurs in the
               reference file) directly before a sentence-initial subject noun
               from a built-in list of common nouns, when the ending matches
               the noun (Malá dívka -> Malý dívka); který-forms are left to
               rel_pronoun.
--lang de
  rel_pronoun  der/die/das after a comma that follows a capitalised word, not
               followed by a capitalised word, with a verb-final clause
               (der -> das, die -> das, das -> die).
  article      ein/eine/einen/einem/einer before a noun, or before one
               attributive adjective with the matching ending and a noun
               (ein -> eine, eine -> ein, einen -> eine, einem <-> einer).
  adjective    the adjective in such a phrase (ein kleiner -> ein kleines,
               eine kleine -> eine kleiner, einem kleinen -> einem kleiner, ...).

A relative pronoun row is skipped when another noun of the phrase before the
comma agrees with the wrong form ("ein Baby mit rosa Mütze, das ..." -> "die"
would refer to the cap), so the wrong form is wrong under every reading.  Noun
classes come from the reference file and any --lexicon files (German: the article
or numeral before a noun; Czech: the adjective before a word form); a noun with no
such evidence does not cause a skip.

Anything ambiguous is skipped.  Per-category counts go to stderr.

Usage:

    python scripts/build_contrastive_suite.py --src val.en.gz --ref val.cs.gz \\
        --lang cs --lexicon train.cs.gz --out suites/val.en-cs.tsv

Input files may be plain UTF-8 or gzip (detected by content).  Standard
library only.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import NamedTuple

PUNCT = ",.;:!?\"'()[]„“”‚‘’«»"
TOKEN_RE = re.compile(r"\S+")


class Swap(NamedTuple):
    """Replace token number `index` (whitespace tokens) by `new` (core word)."""

    index: int
    new: str
    category: str


# ---------------------------------------------------------------- I/O


def open_text(path: Path) -> Iterator[str]:
    """Yield lines (without newline) of a plain or gzip UTF-8 file."""
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    yield raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    sys.exit(f"error: {path}:{lineno}: not valid UTF-8")
    except (OSError, EOFError) as e:
        sys.exit(f"error: cannot read {path}: {getattr(e, 'strerror', None) or e}")


def read_parallel(src: Path, ref: Path) -> list[tuple[str, str]]:
    """Read two line-aligned files; exit with a message if lengths differ."""
    src_lines = list(open_text(src))
    ref_lines = list(open_text(ref))
    if len(src_lines) != len(ref_lines):
        shorter, n = (src, len(src_lines)) if len(src_lines) < len(ref_lines) \
            else (ref, len(ref_lines))
        sys.exit(f"error: {shorter}:{n + 1}: file ends early ({len(src_lines)} source "
                 f"lines vs {len(ref_lines)} reference lines)")
    return list(zip(src_lines, ref_lines))


# ---------------------------------------------------------------- tokens


def split_token(token: str) -> tuple[str, str, str]:
    """Split a whitespace token into (leading punct, word, trailing punct)."""
    core = token.strip(PUNCT)
    if not core:
        return token, "", ""
    start = token.index(core)
    return token[:start], core, token[start + len(core):]


def cores(tokens: Sequence[str]) -> list[str]:
    return [split_token(t)[1] for t in tokens]


def match_case(template: str, word: str) -> str:
    """Give `word` the capitalisation of `template` (Lower or lower)."""
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def apply_swap(line: str, swap: Swap) -> str:
    """Replace one token's core word, keeping spacing and punctuation."""
    match = list(TOKEN_RE.finditer(line))[swap.index]
    pre, core, post = split_token(match.group())
    new_token = pre + match_case(core, swap.new) + post
    return line[:match.start()] + new_token + line[match.end():]


def is_capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def is_lower_word(word: str) -> bool:
    return bool(word) and word.isalpha() and word.islower()


def phrase_nouns(tokens: Sequence[str], words: Sequence[str], end: int,
                 is_link: Callable[[str], bool], is_adjective: Callable[[str], bool],
                 is_noun: Callable[[str], bool]) -> list[str]:
    """The nouns of the phrase that ends at words[end] (the word before a comma, always
    taken), walking back over nouns, adjectives before a noun or adjective, and links
    (articles, prepositions, numerals, "and"); anything else or punctuation ends it."""
    nouns, nominal = [], True  # nominal: the word to the right is a noun or adjective
    for j in range(end, -1, -1):
        word = words[j]
        if j != end and tokens[j] != word:
            break
        if is_link(word):
            nominal = False
        elif nominal and is_adjective(word):
            continue
        elif is_noun(word) or j == end:
            nouns.append(word)
            nominal = True
        else:
            break
    return nouns


# ---------------------------------------------------------------- Czech

# Readings of the forms of "který": case -> gender/number classes
# (ma = masculine animate, mi = masculine inanimate).
_PL = ("ma_pl", "mi_pl", "f_pl", "n_pl")
_M_SG = ("ma_sg", "mi_sg")
CS_REL_READINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "který": {"nom": _M_SG, "acc": ("mi_sg",)},
    "kterého": {"gen": (*_M_SG, "n_sg"), "acc": ("ma_sg",)},
    "kterému": {"dat": (*_M_SG, "n_sg")},
    "kterém": {"loc": (*_M_SG, "n_sg")},
    "kterým": {"ins": (*_M_SG, "n_sg"), "dat": _PL},
    "která": {"nom": ("f_sg", "n_pl"), "acc": ("n_pl",)},
    "které": {"gen": ("f_sg",), "dat": ("f_sg",), "loc": ("f_sg",),
              "nom": ("n_sg", "mi_pl", "f_pl"), "acc": ("n_sg", "ma_pl", "mi_pl", "f_pl")},
    "kterou": {"acc": ("f_sg",), "ins": ("f_sg",)},
    "kteří": {"nom": ("ma_pl",)},
    "kterých": {"gen": _PL, "loc": _PL},
    "kterými": {"ins": _PL},
}
CS_REL_PREFERENCE = ("který", "která", "kteří", "kterého", "kterým", "kterou",
                     "kterých", "které", "kterém", "kterému", "kterými")
CS_PREPOSITIONS = frozenset(
    "v ve na s se z ze k ke o u po při před přede za pod nad od do pro přes mezi "
    "vedle kolem podle bez díky proti k".split())


def cs_gnums(form: str) -> set[str]:
    return {gn for gns in CS_REL_READINGS[form].values() for gn in gns}


def cs_rel_replacements(form: str) -> list[str]:
    """The forms sharing a case with `form` but none of its gender/number classes, in
    order of preference (the first is the one test suites use)."""
    cases = set(CS_REL_READINGS[form])
    return [other for other in CS_REL_PREFERENCE
            if other != form and cases & set(CS_REL_READINGS[other])
            and not cs_gnums(form) & cs_gnums(other)]


def cs_rel_swaps(tokens: Sequence[str], lexicon: Lexicon) -> list[Swap]:
    """Relative pronouns: který-forms right after a comma (+ preposition), unless a
    noun of the phrase before the comma agrees with the wrong form."""
    words = cores(tokens)
    swaps = []
    for i, word in enumerate(words):
        form = word.lower()
        if form not in CS_REL_READINGS or i == 0:
            continue
        after_comma = tokens[i - 1].endswith(",")
        after_prep = (i >= 2 and words[i - 1].lower() in CS_PREPOSITIONS
                      and tokens[i - 2].endswith(",") and tokens[i - 1] == words[i - 1])
        if not (after_comma or after_prep):
            continue
        nouns = cs_phrase_nouns(tokens, words, i - 1 if after_comma else i - 2, lexicon)
        swaps += [Swap(i, new, "rel_pronoun") for new in cs_rel_replacements(form)
                  if not any(lexicon.nouns.get(n, set()) & cs_gnums(new) for n in nouns)]
    return swaps


def cs_is_adjective(word: str, vocab: set[str]) -> bool:
    """A hard (-ý) or soft (-í) adjective form: its stem also takes -ý and -á, or -ího,
    somewhere in the text (so verbs like "dělá", "jedou" are not taken); not a form of
    "který"."""
    if word in CS_REL_READINGS:
        return False
    for ending in CS_HARD_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            stem = word[:-len(ending)]
            return stem + "ý" in vocab and stem + "á" in vocab
    for ending in CS_SOFT_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            return word[:-len(ending)] + "ího" in vocab
    return False


def cs_noun_cues(words: Sequence[str], vocab: set[str]) -> Iterator[tuple[str, set[str]]]:
    """(word form, its possible classes) for each word after an adjective or numeral."""
    lower = [w.lower() for w in words]
    for left, word in zip(lower, lower[1:]):
        if not word.isalpha() or cs_is_adjective(word, vocab):
            continue
        if left in CS_NUMERALS:
            yield word, set(_PL)
        elif cs_is_adjective(left, vocab):
            yield from ((word, set(classes)) for ending, classes in CS_ADJ_CUES
                        if left.endswith(ending))


def cs_phrase_nouns(tokens: Sequence[str], words: Sequence[str], end: int,
                    lexicon: Lexicon) -> list[str]:
    """Known nouns (lower case) of the phrase that ends at words[end]."""
    found = phrase_nouns(
        tokens, words, end,
        is_link=lambda w: w.lower() in CS_PREPOSITIONS or w.lower() in CS_NUMERALS
        or w.lower() == "a",
        is_adjective=lambda w: cs_is_adjective(w.lower(), lexicon.vocab),
        is_noun=lambda w: w.lower() in lexicon.nouns)
    return [w.lower() for w in found]


# Common nominative subject nouns -> gender/number class.
CS_NOUNS: dict[str, str] = {}
for _gn, _words in {
    "ma_sg": "muž chlapec kluk chlapeček pes pán hráč člověk mladík dělník pracovník "
             "cyklista motorkář sportovec umělec hudebník kytarista zpěvák policista "
             "voják turista fotbalista surfař lyžař kuchař prodavač otec stařec kůň "
             "tanečník jezdec běžec plavec řidič bubeník chlapík mladík muzikant "
             "skateboardista horolezec rybář",
    "mi_sg": "dav tým pár",
    "f_sg": "žena dívka holčička holka dáma skupina osoba kočka matka tanečnice "
            "zpěvačka dvojice hráčka blondýnka brunetka slečna babička",
    "n_sg": "dítě batole miminko děvče štěně kotě zvíře",
    "ma_pl": "muži chlapci lidé hráči psi kluci mladíci dělníci pracovníci cyklisté "
             "turisté policisté vojáci",
    "mi_pl": "týmy páry",
    "f_pl": "ženy dívky děti holky holčičky dámy osoby kočky",
    "n_pl": "děvčata štěňata koťata zvířata",
}.items():
    for _w in _words.split():
        CS_NOUNS[_w] = _gn

CS_NUMERALS = frozenset("dva dvě tři čtyři pět šest několik mnoho".split())
# adjective ending -> classes of the noun form after it (-é, -í, -ím: too many readings)
CS_ADJ_CUES = (("ého", _M_SG + ("n_sg",)), ("ému", _M_SG + ("n_sg",)),
               ("ího", _M_SG + ("n_sg",)), ("ímu", _M_SG + ("n_sg",)),
               ("ém", _M_SG + ("n_sg",)), ("ých", _PL), ("ými", _PL), ("ou", ("f_sg",)),
               ("ý", _M_SG), ("á", ("f_sg", "n_pl")))
CS_HARD_ENDINGS = ("ého", "ému", "ých", "ými", "ém", "ým", "ou", "ý", "á", "é")
CS_SOFT_ENDINGS = ("ího", "ímu", "ích", "ími", "ím", "í")

CS_ADJ_ENDING = {"ma_sg": "ý", "mi_sg": "ý", "f_sg": "á", "n_sg": "é",
                 "ma_pl": "í", "mi_pl": "é", "f_pl": "é", "n_pl": "á"}
# Wrong ending for each correct one; chosen so that it is not a colloquial
# variant of the correct form (common Czech "malý děti" for "malé děti").
CS_ADJ_SWAP = {"ý": "á", "á": "ý", "é": "á", "í": "á"}


def cs_is_hard_adj(word: str, ending: str, vocab: set[str]) -> bool:
    """Does `word` look like a hard adjective with this nominative ending?"""
    w = word.lower()
    if not (w.isalpha() and len(w) >= 4 and w.endswith(ending)) or w in CS_REL_READINGS:
        return False
    if ending == "í":  # soft adjectives end in -í in every gender: need -ý evidence
        return w[:-1] + "ý" in vocab
    return True


def cs_adj_swaps(tokens: Sequence[str], vocab: set[str]) -> list[Swap]:
    """Adjective directly before a sentence-initial subject noun."""
    words = cores(tokens)
    for k in range(1, min(4, len(words))):
        gn = CS_NOUNS.get(words[k].lower())
        if gn is None:
            continue
        ending = CS_ADJ_ENDING[gn]
        before = tokens[:k]
        if all(t == w for t, w in zip(before, words)) and all(
                cs_is_hard_adj(w, ending, vocab) for w in words[:k]):
            adj = words[k - 1].lower()
            return [Swap(k - 1, adj[:-1] + CS_ADJ_SWAP[ending], "adjective")]
        return []
    return []


# ---------------------------------------------------------------- German

# wrong relative pronouns for each right one, the test suites' choice first: "der" is
# masculine nominative or feminine dative, "die" feminine or plural nominative/accusative
DE_REL_WRONG = {"der": ("das", "die"), "die": ("das", "der"), "das": ("die", "der")}
# article -> (expected adjective endings, wrong article, wrong adjective ending)
DE_ARTICLES = {
    "ein": (("er", "es"), "eine", None),
    "eine": (("e",), "ein", "er"),
    "einen": (("en",), "eine", "es"),
    "einem": (("en",), "einer", "er"),
    "einer": (("en",), "einem", "e"),
}
DE_ADJ_SWAP_EIN = {"er": "es", "es": "er"}
# classes (m, f, n, p = plural) a relative pronoun agrees with ("der" is also feminine
# dative), and those the word before a noun allows it
DE_REL_AGREES = {"der": {"m", "f"}, "die": {"f", "p"}, "das": {"n"}}
DE_NOUN_CUES = {"eine": "f", "einer": "f", "einen": "m", "das": "n", "ein": "mn",
                "einem": "mn", "eines": "mn", "dem": "mn", "des": "mn", "die": "fp",
                **dict.fromkeys("zwei drei vier fünf mehrere viele einige beide".split(), "p")}
DE_ADJ_ENDINGS = ("e", "en", "er", "es", "em")
DE_LINKS = frozenset("mit in im auf an am von vom vor neben bei beim zu zum zur unter "
                     "über hinter aus ohne für durch um gegen nach und oder zwei drei vier "
                     "fünf mehrere viele einige beide".split())
DE_CLAUSE_END = ",.;:!?"


def de_rel_swaps(tokens: Sequence[str], lexicon: Lexicon) -> list[Swap]:
    """der/die/das used as a relative pronoun after a comma, unless a noun of the phrase
    before the comma agrees with the wrong form."""
    words = cores(tokens)
    swaps = []
    for i in range(1, len(tokens) - 1):
        form = words[i]
        if form not in DE_REL_WRONG or tokens[i] != form:
            continue
        if not (tokens[i - 1].endswith(",") and is_capitalised(words[i - 1])):
            continue
        if not is_lower_word(words[i + 1]) or de_starts_noun_phrase(words, i + 1):
            continue
        if de_clause_is_verb_final(tokens, words, i):
            nouns = de_phrase_nouns(tokens, words, i - 1)
            swaps += [Swap(i, new, "rel_pronoun") for new in DE_REL_WRONG[form]
                      if not any(lexicon.nouns.get(n, set()) & DE_REL_AGREES[new]
                                 for n in nouns)]
    return swaps


def de_noun_cues(words: Sequence[str]) -> Iterator[tuple[str, set[str]]]:
    """(noun, classes its article, numeral or "ein" + adjective ending allows)."""
    for i, det in enumerate(w.lower() for w in words):
        if det not in DE_NOUN_CUES:
            continue
        j = i + 1
        while j < len(words) and de_is_adjective(words[j]):
            j += 1  # attributive adjectives
        if j >= len(words) or not is_capitalised(words[j]):
            continue
        cue = DE_NOUN_CUES[det]
        if det == "ein" and j > i + 1:  # ein kleiner Hund, ein kleines Kind
            cue = {"er": "m", "es": "n"}.get(words[i + 1][-2:], cue)
        yield words[j], set(cue)


def de_phrase_nouns(tokens: Sequence[str], words: Sequence[str], end: int) -> list[str]:
    """Nouns (capitalised words) of the phrase that ends at words[end]."""
    return phrase_nouns(
        tokens, words, end,
        is_link=lambda w: w.lower() in DE_DETERMINERS or w.lower() in DE_LINKS,
        is_adjective=de_is_adjective, is_noun=is_capitalised)


def de_is_adjective(word: str) -> bool:
    """Could `word` be an inflected attributive adjective (kleine, großen, ...)?"""
    return (is_lower_word(word) and len(word) > 3 and word.endswith(DE_ADJ_ENDINGS)
            and word not in DE_DETERMINERS)


DE_DETERMINERS = frozenset(
    "ein eine einen einem einer eines der die das den dem des kein keine keinen keinem "
    "sein seine seinen seinem ihr ihre ihren ihrem".split())


def de_starts_noun_phrase(words: Sequence[str], k: int) -> bool:
    """Is words[k] an adjective of a noun phrase "die kleinen Kinder ..." (not a
    relative clause "die einen Hund ...")?"""
    return (k + 1 < len(words) and words[k] not in DE_DETERMINERS
            and words[k].endswith(("e", "en")) and is_capitalised(words[k + 1]))


def de_clause_is_verb_final(tokens: Sequence[str], words: Sequence[str], start: int) -> bool:
    """Does the clause from `start` end (at , . etc. or line end) in a lower-case word?"""
    for j in range(start + 1, len(tokens)):
        if tokens[j][-1:] in DE_CLAUSE_END or j == len(tokens) - 1:
            return is_lower_word(words[j])
    return False


def _is_noun_token(token: str, word: str) -> bool:
    return is_capitalised(word) and word[0].isalpha() and token.startswith(word)


def de_np_swaps(tokens: Sequence[str]) -> list[Swap]:
    """Indefinite article (+ adjectives) + noun: article and adjective swaps."""
    words = cores(tokens)
    swaps = []
    for i in range(len(tokens) - 1):
        art = words[i].lower()
        if art not in DE_ARTICLES or tokens[i] != words[i]:
            continue
        endings, wrong_art, wrong_end = DE_ARTICLES[art]
        if _is_noun_token(tokens[i + 1], words[i + 1]):
            swaps.append(Swap(i, wrong_art, "article"))
            continue
        adj = words[i + 1]
        ending = next((e for e in endings if adj.endswith(e) and len(adj) - len(e) >= 3),
                      None)
        if ending is None or tokens[i + 1] != adj or not is_lower_word(adj):
            continue
        j = i + 2  # further adjectives with the same ending may follow
        while j < len(tokens) and tokens[j] == words[j] and is_lower_word(words[j]) \
                and words[j].endswith(ending) and len(words[j]) - len(ending) >= 3:
            j += 1
        if j >= len(tokens) or not _is_noun_token(tokens[j], words[j]):
            continue
        swaps.append(Swap(i, wrong_art, "article"))
        new_end = DE_ADJ_SWAP_EIN[ending] if art == "ein" else wrong_end
        swaps.append(Swap(i + 1, adj[:-len(ending)] + new_end, "adjective"))
    return swaps


# ---------------------------------------------------------------- driver


class Lexicon(NamedTuple):
    """What the reference text tells about words: every lower-cased word form, and the
    classes each noun form may have (Czech: lower case; German: as written)."""

    vocab: set[str]
    nouns: dict[str, set[str]]


def build_lexicon(lines: Iterable[str], lang: str) -> Lexicon:
    """Noun classes from their cues (German: the article or numeral before a noun;
    Czech: the adjective before a word form).

    A word is a noun when at least two cues, and a twentieth of its occurrences, come
    before it (a verb after a stray cue is not). Single-class cues (German "eine",
    "einen", "das", numerals) outvote the others; a class stays when a fifth of the
    cues allow it, so typos in references do not add a gender. A German genitive
    (Strandes) without single-class cues takes those of its stem.
    """
    lines = list(lines)
    key = str.lower if lang == "cs" else str
    words_of = [cores(line.split()) for line in lines]
    vocab = {w.lower() for words in words_of for w in words}
    frequency = Counter(key(w) for words in words_of for w in words)
    cues: dict[str, list[set[str]]] = {}
    for words in words_of:
        found = cs_noun_cues(words, vocab) if lang == "cs" else de_noun_cues(words)
        for noun, classes in found:
            cues.setdefault(noun, []).append(classes)
    singles = {noun: [c for c in found if len(c) == 1] for noun, found in cues.items()}
    nouns = {}
    for noun, found in cues.items():
        if len(found) < max(2, frequency[noun] / 20):
            continue
        stems = [s for s in (noun[:-2], noun[:-1]) if lang == "de" and noun.endswith("s")]
        pool = singles[noun] or next(filter(None, map(singles.get, stems)), None) or found
        counts = Counter(c for cue in pool for c in cue)
        nouns[noun] = {c for c, n in counts.items() if n * 5 >= len(pool)}
    if lang == "cs":
        nouns.update((noun, {gn}) for noun, gn in CS_NOUNS.items())
    return Lexicon(vocab, nouns)


def find_swaps(line: str, lang: str, lexicon: Lexicon) -> list[Swap]:
    """All candidate swaps for one reference line."""
    tokens = TOKEN_RE.findall(line)
    if lang == "cs":
        return cs_rel_swaps(tokens, lexicon) + cs_adj_swaps(tokens, lexicon.vocab)
    return de_rel_swaps(tokens, lexicon) + de_np_swaps(tokens)


def build_rows(pairs: Sequence[tuple[str, str]], lang: str, every: bool = False,
               every_wrong_form: bool = False, lexicon_lines: Iterable[str] = (),
               ) -> list[tuple[str, str, str, str]]:
    """Contrastive rows; by default the first hit per sentence and category (`every`:
    all hits), with the first wrong form of each (`every_wrong_form`: one row per
    wrong form). The lexicon comes from the references and `lexicon_lines`."""
    lexicon = build_lexicon(chain((ref for _, ref in pairs), lexicon_lines), lang)
    rows = []
    for src, ref in pairs:
        src, ref = src.strip(), ref.strip()
        if not src or not ref:
            continue
        hits: dict[str, int] = {}  # category -> token index of its first hit
        done: set[int] = set()  # token indices that have a row
        for swap in find_swaps(ref, lang, lexicon):
            if not every and hits.get(swap.category, swap.index) != swap.index:
                continue
            if swap.index in done and not every_wrong_form:
                continue
            contrast = apply_swap(ref, swap)
            if contrast == ref:
                continue
            hits.setdefault(swap.category, swap.index)
            done.add(swap.index)
            rows.append((src, ref, contrast, swap.category))
    return rows


def write_rows(path: Path, rows: Sequence[tuple[str, str, str, str]]) -> None:
    try:
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for row in rows:
                f.write("\t".join(col.replace("\t", " ") for col in row) + "\n")
    except OSError as e:
        sys.exit(f"error: cannot write {path}: {e.strerror}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Build source/correct/contrastive/category rows by swapping one "
                    "gender/number-agreeing word (Czech or German) for a wrong form.",
        epilog="Example: python scripts/build_contrastive_suite.py --src val.en.gz "
               "--ref val.cs.gz --lang cs --out suites/val.en-cs.tsv")
    p.add_argument("--src", type=Path, required=True,
                   help="source-language file (plain or .gz), one sentence per line")
    p.add_argument("--ref", type=Path, required=True,
                   help="reference translation file (plain or .gz), line-aligned with --src")
    p.add_argument("--lang", choices=("cs", "de"), required=True,
                   help="language of --ref")
    p.add_argument("--out", type=Path, required=True, help="output TSV path")
    p.add_argument("--all", action="store_true",
                   help="emit every hit instead of the first per sentence and category")
    p.add_argument("--lexicon", type=Path, action="append", default=[],
                   help="more text in the --ref language (plain or .gz; repeatable), read "
                        "only for the classes of nouns, e.g. the training references")
    p.add_argument("--every-wrong-form", action="store_true",
                   help="one row per wrong relative pronoun instead of the first (balanced "
                        "rows for training with train.contrastive)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rows = build_rows(read_parallel(args.src, args.ref), args.lang, every=args.all,
                      every_wrong_form=args.every_wrong_form,
                      lexicon_lines=chain.from_iterable(open_text(p) for p in args.lexicon))
    write_rows(args.out, rows)
    counts = Counter(row[3] for row in rows)
    for category in sorted(counts):
        print(f"{category}\t{counts[category]}", file=sys.stderr)
    print(f"total\t{len(rows)}\t-> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
