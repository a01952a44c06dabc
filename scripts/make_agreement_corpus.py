#!/usr/bin/env python3
"""Generate a synthetic English->Czech / English->German agreement corpus.

Every sentence has a subject noun phrase, a relative clause and a main
predicate, e.g.

    en: A girl who likes to read is sitting on a bench.
    cs: Dívka, která ráda čte, sedí na lavičce.
    de: Ein Mädchen, das gerne liest, sitzt auf einer Bank.

so that the gender/number of the subject noun decides words several tokens
away: Czech relative pronouns (který/která/které/kteří), past-tense verbs
(stál/stála/stálo/stáli/stály), "rád/ráda/rádo" and adjectives; German
relative pronouns (der/die/das), articles (ein/eine) and adjective endings.
Nouns whose gender differs between the languages (girl = f in Czech, n in
German) make sure agreement cannot be copied from one language to the other.

With --attractors P, a share P of the sentences put the relative clause on the
object of the main clause instead, so that the subject is an attractor of
another gender or number that the relative pronoun must not agree with:

    en: The old man is watching a girl who likes to read.
    cs: Starý muž sleduje dívku, která ráda čte.
    de: Der alte Mann beobachtet ein Mädchen, das gerne liest.

Usage:

    python scripts/make_agreement_corpus.py --out data/agreement
    python scripts/make_agreement_corpus.py --out /tmp/agr --seed 7 --train 1000
    python scripts/make_agreement_corpus.py --out /tmp/agr --attractors 0.5

Writes {train,dev,test}.{en,cs,de} (one sentence per line, line-aligned) and
test.contrast.{cs,de}.tsv with rows

    source<TAB>correct<TAB>contrastive<TAB>category

where the contrastive target is the correct one with exactly one agreeing
word replaced by a wrong gender/number form (categories: cs rel_pronoun,
past_verb, adjective, rad; de rel_pronoun, article, adjective).  No sentence
occurs twice in any language, so dev/test never overlap train.  The same
seed always gives byte-identical files.  Standard library only.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

DEFAULT_SEED = 20240611
LANGS = ("en", "cs", "de")

# Czech gender/number classes: m = masculine animate, f = feminine, n = neuter.
GN_CLASSES = ("m_sg", "f_sg", "n_sg", "m_pl", "f_pl", "n_pl")
CS_REL = {"m_sg": "který", "f_sg": "která", "n_sg": "které",
          "m_pl": "kteří", "f_pl": "které", "n_pl": "která"}
CS_RAD = {"m_sg": "rád", "f_sg": "ráda", "n_sg": "rádo",
          "m_pl": "rádi", "f_pl": "rády", "n_pl": "ráda"}
CS_PAST_END = {"f_sg": "a", "n_sg": "o", "m_pl": "i", "f_pl": "y", "n_pl": "a"}
CS_ADJ_END = {"m_sg": "ý", "f_sg": "á", "n_sg": "é", "f_pl": "é", "n_pl": "á"}
# Hard adjective endings of a place noun phrase after a preposition (m/n vs f).
CS_CASE_ADJ = {"loc": ("ém", "é"), "gen": ("ého", "é"), "ins": ("ým", "ou")}

DE_REL = {"m": "der", "f": "die", "n": "das", "pl": "die"}
DE_DEF_NOM = {"m": "der", "f": "die", "n": "das", "pl": "die"}
DE_INDEF_NOM = {"m": "ein", "f": "eine", "n": "ein"}
DE_DAT = {True: {"m": "dem", "f": "der", "n": "dem"},
          False: {"m": "einem", "f": "einer", "n": "einem"}}
DE_CONTRACT = {("in", "dem"): "im", ("an", "dem"): "am"}


class Noun(NamedTuple):
    en_sg: str
    en_pl: str
    cs_sg: str
    cs_pl: str
    cs_g_sg: str  # m / f / n
    cs_g_pl: str  # agreement class of the plural (děti agree as feminine)
    de_sg: str
    de_pl: str
    de_g: str
    animal: bool


class Adj(NamedTuple):
    en: str
    cs_stem: str  # hard stem: stem + ý/á/é
    cs_m_pl: str  # masculine animate plural (with consonant softening)
    de: str  # German stem (attributive) or predicative form
    animal: bool = True


class RadVerb(NamedTuple):
    key: str
    en: str  # infinitive: "likes to <en>"
    cs_sg: str
    cs_pl: str
    de_sg: str
    de_pl: str
    animal: bool


class PlaceVerb(NamedTuple):
    key: str
    en_ing: str
    cs_refl: str  # "" or a clitic (si/se) placed right before the verb
    cs_pres_sg: str
    cs_pres_pl: str
    cs_past_m: str  # masculine singular l-participle
    cs_past_stem: str  # stem for the other endings
    de_pres_sg: str
    de_pres_pl: str
    de_past_sg: str
    de_past_pl: str
    animal: bool


class Event(NamedTuple):
    key: str
    en: str  # simple past verb phrase
    cs_refl: str
    cs_past_m: str
    cs_past_stem: str
    cs_rest: str  # words after the verb
    de_main_sg: str  # verb-second main clause
    de_main_pl: str
    de_sub_sg: str  # verb-final relative clause
    de_sub_pl: str
    animal: bool


class TransVerb(NamedTuple):
    """A main-clause verb with an accusative object (attractor sentences)."""

    key: str
    en_ing: str
    cs_sg: str
    cs_pl: str
    de_sg: str
    de_pl: str
    animal: bool  # an animal can be its subject


class Relation(NamedTuple):
    en: str
    cs_prep: str
    cs_case: str  # loc / gen / ins
    de_prep: str  # always with the dative here


class Place(NamedTuple):
    en: str
    cs_g: str  # m / f / n (masculine inanimate agrees like neuter here)
    cs_loc: str
    cs_gen: str
    cs_ins: str
    de: str
    de_g: str
    relations: tuple[Relation, ...]
    colour: bool  # can take colour adjectives


ON = Relation("on", "na", "loc", "auf")
IN = Relation("in", "v", "loc", "in")
NEXT_TO = Relation("next to", "vedle", "gen", "neben")
IN_FRONT = Relation("in front of", "před", "ins", "vor")
UNDER = Relation("under", "pod", "ins", "unter")
BEHIND = Relation("behind", "za", "ins", "hinter")
BY = Relation("by", "u", "gen", "an")
AT_TABLE = Relation("at", "u", "gen", "an")
ON_TRAIN = Relation("on", "v", "loc", "in")
ON_BEACH = Relation("on", "na", "loc", "an")
AT_STATION = Relation("at", "na", "loc", "an")

N, Y = False, True
NOUNS = (
    Noun("man", "men", "muž", "muži", "m", "m", "Mann", "Männer", "m", N),
    Noun("boy", "boys", "chlapec", "chlapci", "m", "m", "Junge", "Jungen", "m", N),
    Noun("father", "fathers", "otec", "otcové", "m", "m", "Vater", "Väter", "m", N),
    Noun("brother", "brothers", "bratr", "bratři", "m", "m", "Bruder", "Brüder", "m", N),
    Noun("grandfather", "grandfathers", "dědeček", "dědečkové", "m", "m",
         "Großvater", "Großväter", "m", N),
    Noun("king", "kings", "král", "králové", "m", "m", "König", "Könige", "m", N),
    Noun("waiter", "waiters", "číšník", "číšníci", "m", "m", "Kellner", "Kellner", "m", N),
    Noun("actor", "actors", "herec", "herci", "m", "m",
         "Schauspieler", "Schauspieler", "m", N),
    Noun("uncle", "uncles", "strýc", "strýcové", "m", "m", "Onkel", "Onkel", "m", N),
    Noun("woman", "women", "žena", "ženy", "f", "f", "Frau", "Frauen", "f", N),
    Noun("girl", "girls", "dívka", "dívky", "f", "f", "Mädchen", "Mädchen", "n", N),
    Noun("mother", "mothers", "matka", "matky", "f", "f", "Mutter", "Mütter", "f", N),
    Noun("sister", "sisters", "sestra", "sestry", "f", "f",
         "Schwester", "Schwestern", "f", N),
    Noun("grandmother", "grandmothers", "babička", "babičky", "f", "f",
         "Großmutter", "Großmütter", "f", N),
    Noun("queen", "queens", "královna", "královny", "f", "f",
         "Königin", "Königinnen", "f", N),
    Noun("waitress", "waitresses", "servírka", "servírky", "f", "f",
         "Kellnerin", "Kellnerinnen", "f", N),
    Noun("actress", "actresses", "herečka", "herečky", "f", "f",
         "Schauspielerin", "Schauspielerinnen", "f", N),
    Noun("aunt", "aunts", "teta", "tety", "f", "f", "Tante", "Tanten", "f", N),
    Noun("child", "children", "dítě", "děti", "n", "f", "Kind", "Kinder", "n", N),
    Noun("kitten", "kittens", "kotě", "koťata", "n", "n", "Kätzchen", "Kätzchen", "n", Y),
    Noun("puppy", "puppies", "štěně", "štěňata", "n", "n", "Welpe", "Welpen", "m", Y),
    Noun("lamb", "lambs", "jehně", "jehňata", "n", "n", "Lamm", "Lämmer", "n", Y),
    Noun("foal", "foals", "hříbě", "hříbata", "n", "n", "Fohlen", "Fohlen", "n", Y),
    Noun("calf", "calves", "tele", "telata", "n", "n", "Kalb", "Kälber", "n", Y),
    Noun("chick", "chicks", "kuře", "kuřata", "n", "n", "Küken", "Küken", "n", Y),
    Noun("dog", "dogs", "pes", "psi", "m", "m", "Hund", "Hunde", "m", Y),
    Noun("cat", "cats", "kočka", "kočky", "f", "f", "Katze", "Katzen", "f", Y),
    Noun("horse", "horses", "kůň", "koně", "m", "m", "Pferd", "Pferde", "n", Y),
    Noun("mouse", "mice", "myš", "myši", "f", "f", "Maus", "Mäuse", "f", Y),
)

# Czech accusative singular and plural of each noun (by its English singular).
CS_ACC = {
    "man": ("muže", "muže"), "boy": ("chlapce", "chlapce"), "father": ("otce", "otce"),
    "brother": ("bratra", "bratry"), "grandfather": ("dědečka", "dědečky"),
    "king": ("krále", "krále"), "waiter": ("číšníka", "číšníky"),
    "actor": ("herce", "herce"), "uncle": ("strýce", "strýce"),
    "woman": ("ženu", "ženy"), "girl": ("dívku", "dívky"), "mother": ("matku", "matky"),
    "sister": ("sestru", "sestry"), "grandmother": ("babičku", "babičky"),
    "queen": ("královnu", "královny"), "waitress": ("servírku", "servírky"),
    "actress": ("herečku", "herečky"), "aunt": ("tetu", "tety"),
    "child": ("dítě", "děti"), "kitten": ("kotě", "koťata"), "puppy": ("štěně", "štěňata"),
    "lamb": ("jehně", "jehňata"), "foal": ("hříbě", "hříbata"), "calf": ("tele", "telata"),
    "chick": ("kuře", "kuřata"), "dog": ("psa", "psy"), "cat": ("kočku", "kočky"),
    "horse": ("koně", "koně"), "mouse": ("myš", "myši"),
}
DE_ACC_ART = {True: {"m": "den", "f": "die", "n": "das", "pl": "die"},
              False: {"m": "einen", "f": "eine", "n": "ein", "pl": ""}}
DE_WEAK_ACC = {"Junge": "Jungen", "Welpe": "Welpen"}  # weak masculine nouns

TRANS_VERBS = (
    TransVerb("watch", "watching", "sleduje", "sledují", "beobachtet", "beobachten", Y),
    TransVerb("look_for", "looking for", "hledá", "hledají", "sucht", "suchen", Y),
    TransVerb("photograph", "photographing", "fotografuje", "fotografují",
              "fotografiert", "fotografieren", N),
    TransVerb("greet", "greeting", "zdraví", "zdraví", "begrüßt", "begrüßen", N),
    TransVerb("draw", "drawing", "kreslí", "kreslí", "zeichnet", "zeichnen", N),
    TransVerb("call", "calling", "volá", "volají", "ruft", "rufen", N),
)

SUBJECT_ADJS = (
    Adj("little", "mal", "malí", "klein"),
    Adj("old", "star", "staří", "alt", animal=False),
    Adj("young", "mlad", "mladí", "jung"),
    Adj("tall", "vysok", "vysocí", "groß", animal=False),
    Adj("friendly", "přátelsk", "přátelští", "freundlich"),
    Adj("tired", "unaven", "unavení", "müd"),
    Adj("hungry", "hladov", "hladoví", "hungrig"),
    Adj("sad", "smutn", "smutní", "traurig", animal=False),
    Adj("cheerful", "vesel", "veselí", "fröhlich"),
    Adj("curious", "zvědav", "zvědaví", "neugierig"),
)

PREDICATE_ADJS = (
    Adj("happy", "šťastn", "šťastní", "glücklich"),
    Adj("tired", "unaven", "unavení", "müde"),
    Adj("sad", "smutn", "smutní", "traurig"),
    Adj("hungry", "hladov", "hladoví", "hungrig"),
    Adj("surprised", "překvapen", "překvapení", "überrascht"),
    Adj("satisfied", "spokojen", "spokojení", "zufrieden", animal=False),
    Adj("excited", "nadšen", "nadšení", "begeistert"),
    Adj("sleepy", "ospal", "ospalí", "schläfrig"),
    Adj("angry", "rozzloben", "rozzlobení", "wütend"),
    Adj("proud", "hrd", "hrdí", "stolz", animal=False),
)

PLACE_ADJS = (  # (en, cs hard stem, de stem, is a colour)
    ("red", "červen", "rot", True),
    ("blue", "modr", "blau", True),
    ("green", "zelen", "grün", True),
    ("yellow", "žlut", "gelb", True),
    ("white", "bíl", "weiß", True),
    ("black", "čern", "schwarz", True),
    ("old", "star", "alt", False),
    ("new", "nov", "neu", False),
    ("big", "velk", "groß", False),
    ("small", "mal", "klein", False),
)

RAD_VERBS = (
    RadVerb("read", "read", "čte", "čtou", "liest", "lesen", N),
    RadVerb("sing", "sing", "zpívá", "zpívají", "singt", "singen", N),
    RadVerb("dance", "dance", "tančí", "tančí", "tanzt", "tanzen", N),
    RadVerb("paint", "paint", "maluje", "malují", "malt", "malen", N),
    RadVerb("swim", "swim", "plave", "plavou", "schwimmt", "schwimmen", Y),
    RadVerb("cook", "cook", "vaří", "vaří", "kocht", "kochen", N),
    RadVerb("travel", "travel", "cestuje", "cestují", "reist", "reisen", N),
    RadVerb("sleep", "sleep", "spí", "spí", "schläft", "schlafen", Y),
    RadVerb("run", "run", "běhá", "běhají", "läuft", "laufen", Y),
    RadVerb("draw", "draw", "kreslí", "kreslí", "zeichnet", "zeichnen", N),
    RadVerb("write", "write", "píše", "píší", "schreibt", "schreiben", N),
    RadVerb("jump", "jump", "skáče", "skáčou", "springt", "springen", Y),
)

PLACE_VERBS = (
    PlaceVerb("sit", "sitting", "", "sedí", "sedí", "seděl", "seděl",
              "sitzt", "sitzen", "saß", "saßen", Y),
    PlaceVerb("stand", "standing", "", "stojí", "stojí", "stál", "stál",
              "steht", "stehen", "stand", "standen", Y),
    PlaceVerb("wait", "waiting", "", "čeká", "čekají", "čekal", "čekal",
              "wartet", "warten", "wartete", "warteten", Y),
    PlaceVerb("sleep", "sleeping", "", "spí", "spí", "spal", "spal",
              "schläft", "schlafen", "schlief", "schliefen", Y),
    PlaceVerb("play", "playing", "si", "hraje", "hrají", "hrál", "hrál",
              "spielt", "spielen", "spielte", "spielten", Y),
    PlaceVerb("work", "working", "", "pracuje", "pracují", "pracoval", "pracoval",
              "arbeitet", "arbeiten", "arbeitete", "arbeiteten", N),
    PlaceVerb("lie", "lying", "", "leží", "leží", "ležel", "ležel",
              "liegt", "liegen", "lag", "lagen", Y),
)

EVENTS = (
    Event("find", "found a wallet", "", "našel", "našl", "peněženku",
          "fand eine Geldbörse", "fanden eine Geldbörse",
          "eine Geldbörse fand", "eine Geldbörse fanden", N),
    Event("buy", "bought a new book", "", "koupil", "koupil", "novou knihu",
          "kaufte ein neues Buch", "kauften ein neues Buch",
          "ein neues Buch kaufte", "ein neues Buch kauften", N),
    Event("write", "wrote a letter", "", "napsal", "napsal", "dopis",
          "schrieb einen Brief", "schrieben einen Brief",
          "einen Brief schrieb", "einen Brief schrieben", N),
    Event("win", "won the race", "", "vyhrál", "vyhrál", "závod",
          "gewann das Rennen", "gewannen das Rennen",
          "das Rennen gewann", "das Rennen gewannen", N),
    Event("lose", "lost the game", "", "prohrál", "prohrál", "zápas",
          "verlor das Spiel", "verloren das Spiel",
          "das Spiel verlor", "das Spiel verloren", N),
    Event("come_home", "came home late", "", "přišel", "přišl", "domů pozdě",
          "kam spät nach Hause", "kamen spät nach Hause",
          "spät nach Hause kam", "spät nach Hause kamen", N),
    Event("see", "saw a bird", "", "viděl", "viděl", "ptáka",
          "sah einen Vogel", "sahen einen Vogel",
          "einen Vogel sah", "einen Vogel sahen", Y),
    Event("eat", "ate the cake", "", "snědl", "snědl", "dort",
          "aß den Kuchen", "aßen den Kuchen", "den Kuchen aß", "den Kuchen aßen", N),
    Event("fall_asleep", "fell asleep", "", "usnul", "usnul", "",
          "schlief ein", "schliefen ein", "einschlief", "einschliefen", Y),
    Event("sing", "sang a song", "", "zazpíval", "zazpíval", "píseň",
          "sang ein Lied", "sangen ein Lied", "ein Lied sang", "ein Lied sangen", N),
    Event("drink", "drank the milk", "", "vypil", "vypil", "mléko",
          "trank die Milch", "tranken die Milch",
          "die Milch trank", "die Milch tranken", Y),
    Event("run_away", "ran away", "", "utekl", "utekl", "",
          "lief weg", "liefen weg", "weglief", "wegliefen", Y),
    Event("smile", "smiled", "se", "usmál", "usmál", "",
          "lächelte", "lächelten", "lächelte", "lächelten", N),
    Event("laugh", "laughed", "se", "zasmál", "zasmál", "",
          "lachte", "lachten", "lachte", "lachten", N),
    Event("wave", "waved", "", "zamával", "zamával", "",
          "winkte", "winkten", "winkte", "winkten", N),
    Event("cry", "cried", "", "plakal", "plakal", "",
          "weinte", "weinten", "weinte", "weinten", N),
    Event("disappear", "disappeared", "", "zmizel", "zmizel", "",
          "verschwand", "verschwanden", "verschwand", "verschwanden", Y),
    Event("come_back", "came back", "se", "vrátil", "vrátil", "",
          "kam zurück", "kamen zurück", "zurückkam", "zurückkamen", Y),
)

PLACES = (
    Place("bench", "f", "lavičce", "lavičky", "lavičkou", "Bank", "f",
          (ON, NEXT_TO, UNDER), True),
    Place("park", "m", "parku", "parku", "parkem", "Park", "m", (IN,), False),
    Place("car", "n", "autě", "auta", "autem", "Auto", "n",
          (IN, NEXT_TO, IN_FRONT, BEHIND), True),
    Place("house", "m", "domě", "domu", "domem", "Haus", "n",
          (IN, IN_FRONT, BEHIND, NEXT_TO), True),
    Place("garden", "f", "zahradě", "zahrady", "zahradou", "Garten", "m", (IN,), False),
    Place("bridge", "m", "mostě", "mostu", "mostem", "Brücke", "f", (ON, UNDER), True),
    Place("tree", "m", "stromě", "stromu", "stromem", "Baum", "m",
          (UNDER, NEXT_TO, BEHIND), False),
    Place("table", "m", "stole", "stolu", "stolem", "Tisch", "m", (AT_TABLE, UNDER), True),
    Place("window", "n", "okně", "okna", "oknem", "Fenster", "n", (BY,), False),
    Place("river", "f", "řece", "řeky", "řekou", "Fluss", "m", (BY,), False),
    Place("café", "f", "kavárně", "kavárny", "kavárnou", "Café", "n",
          (IN, IN_FRONT), False),
    Place("shop", "m", "obchodě", "obchodu", "obchodem", "Laden", "m",
          (IN, IN_FRONT), False),
    Place("train", "m", "vlaku", "vlaku", "vlakem", "Zug", "m", (ON_TRAIN,), True),
    Place("church", "m", "kostele", "kostela", "kostelem", "Kirche", "f",
          (IN, IN_FRONT, BEHIND), False),
    Place("beach", "f", "pláži", "pláže", "pláží", "Strand", "m", (ON_BEACH,), False),
    Place("sofa", "f", "pohovce", "pohovky", "pohovkou", "Sofa", "n",
          (ON, UNDER, BEHIND), True),
    Place("fountain", "f", "fontáně", "fontány", "fontánou", "Brunnen", "m",
          (BY, NEXT_TO), False),
    Place("station", "n", "nádraží", "nádraží", "nádražím", "Bahnhof", "m",
          (AT_STATION, IN_FRONT), False),
    Place("library", "f", "knihovně", "knihovny", "knihovnou", "Bibliothek", "f",
          (IN, IN_FRONT), False),
    Place("kitchen", "f", "kuchyni", "kuchyně", "kuchyní", "Küche", "f", (IN,), False),
)


class PlaceNP(NamedTuple):
    place: Place
    rel: Relation
    adj: tuple[str, str, str, bool] | None
    definite: bool


class ObjectNP(NamedTuple):
    """The object of an attractor sentence, which the relative clause is about."""

    noun: Noun
    plural: bool
    definite: bool


class Plan(NamedTuple):
    """All choices behind one sentence triple. With `obj`, the main clause is the
    subject, `main_item` (a TransVerb) and the object, and the relative clause
    (`rel_*`) is on the object."""

    noun: Noun
    plural: bool
    adj: Adj | None
    definite: bool
    rel_kind: str  # rad / place / event
    rel_item: RadVerb | PlaceVerb | Event
    rel_place: PlaceNP | None
    main_kind: str  # place / copula / event / object
    main_item: PlaceVerb | Adj | Event | TransVerb
    main_place: PlaceNP | None
    tense: str  # pres / past (main clause)
    obj: ObjectNP | None = None


class Slot(NamedTuple):
    """A token whose form agrees with the subject, and its wrong forms."""

    index: int
    category: str
    wrong: tuple[str, ...]


# ---------------------------------------------------------------- sampling


def _pick(rng: random.Random, items: Sequence, animal: bool) -> object:
    pool = [x for x in items if x.animal or not animal]
    return rng.choice(pool)


def sample_place(rng: random.Random) -> PlaceNP:
    """Pick a place, a relation it allows, an optional adjective and article."""
    place = rng.choice(PLACES)
    adjs = [a for a in PLACE_ADJS if place.colour or not a[3]]
    adj = rng.choice(adjs) if rng.random() < 0.5 else None
    return PlaceNP(place, rng.choice(place.relations), adj, rng.random() < 0.6)


def sample_plan(rng: random.Random, attractors: float = 0.0) -> Plan:
    """Sample one consistent set of choices (tenses, verbs, places); with probability
    `attractors` an attractor sentence (relative clause on the object)."""
    if attractors and rng.random() < attractors:
        return sample_attractor_plan(rng)
    noun = rng.choice(NOUNS)
    animal = noun.animal
    adj = _pick(rng, SUBJECT_ADJS, animal) if rng.random() < 0.6 else None
    tense = "past" if rng.random() < 0.6 else "pres"
    rel_kinds = ("rad", "place", "event") if tense == "past" else ("rad", "place")
    rel_kind = rng.choice(rel_kinds)
    rel_item = _pick(rng, {"rad": RAD_VERBS, "place": PLACE_VERBS,
                           "event": EVENTS}[rel_kind], animal)
    main_kinds = ("place", "copula", "event") if tense == "past" else ("place", "copula")
    main_kind = rng.choice(main_kinds)
    while True:
        main_item = _pick(rng, {"place": PLACE_VERBS, "copula": PREDICATE_ADJS,
                                "event": EVENTS}[main_kind], animal)
        if getattr(main_item, "key", None) != getattr(rel_item, "key", "") and not (
                adj is not None and main_kind == "copula" and main_item.en == adj.en):
            break
    return Plan(noun=noun, plural=rng.random() < 0.4, adj=adj,
                definite=rng.random() < 0.5, rel_kind=rel_kind, rel_item=rel_item,
                rel_place=sample_place(rng) if rel_kind == "place" else None,
                main_kind=main_kind, main_item=main_item,
                main_place=sample_place(rng) if main_kind == "place" else None,
                tense=tense)


def sample_attractor_plan(rng: random.Random) -> Plan:
    """Subject, transitive verb and an object of another noun, with the relative
    clause (present tense) on the object."""
    noun = rng.choice(NOUNS)
    obj = rng.choice([n for n in NOUNS if n != noun])
    adj = _pick(rng, SUBJECT_ADJS, noun.animal) if rng.random() < 0.6 else None
    verb = _pick(rng, TRANS_VERBS, noun.animal)
    rel_kind = rng.choice(("rad", "place"))
    rel_item = _pick(rng, {"rad": RAD_VERBS, "place": PLACE_VERBS}[rel_kind], obj.animal)
    return Plan(noun=noun, plural=rng.random() < 0.4, adj=adj,
                definite=rng.random() < 0.5, rel_kind=rel_kind, rel_item=rel_item,
                rel_place=sample_place(rng) if rel_kind == "place" else None,
                main_kind="object", main_item=verb, main_place=None, tense="pres",
                obj=ObjectNP(obj, rng.random() < 0.4, rng.random() < 0.5))


# ---------------------------------------------------------------- rendering


def render(tokens: Sequence[str]) -> str:
    """Join tokens, attaching punctuation, and capitalise the first letter."""
    out = ""
    for tok in tokens:
        if tok in {",", "."} or not out:
            out += tok
        else:
            out += " " + tok
    return out[:1].upper() + out[1:]


def rel_tense(plan: Plan) -> str:
    """Tense of the relative clause: events are past, rad-clauses present."""
    if plan.rel_kind == "place":
        return plan.tense
    return "past" if plan.rel_kind == "event" else "pres"


def _en_article(definite: bool, next_word: str) -> str:
    if definite:
        return "the"
    return "an" if next_word[0] in "aeiou" else "a"


def described(plan: Plan) -> Plan | ObjectNP:
    """Whom the relative clause is about: the object if there is one, else the subject."""
    return plan.obj or plan


def render_en(plan: Plan) -> str:
    """Render the English source sentence."""
    words = _en_np(plan.noun, plan.plural, plan.adj, plan.definite)
    if plan.obj:
        words += ["are" if plan.plural else "is", *plan.main_item.en_ing.split(),
                  *_en_np(plan.obj.noun, plan.obj.plural, None, plan.obj.definite)]
    about = described(plan)
    words += ["that" if about.noun.animal else "who",
              *_en_predicate(plan.rel_kind, plan.rel_item, plan.rel_place, about.plural,
                             rel_tense(plan))]
    if not plan.obj:
        words += _en_predicate(plan.main_kind, plan.main_item, plan.main_place, plan.plural,
                               plan.tense)
    return render([*words, "."])


def _en_np(noun: Noun, plural: bool, adj: Adj | None, definite: bool) -> list[str]:
    words = [noun.en_pl if plural else noun.en_sg]
    if adj:
        words = [adj.en, *words]
    if definite:
        return ["the", *words]
    return words if plural else [_en_article(False, words[0]), *words]


def _en_place(np: PlaceNP) -> list[str]:
    words = [np.adj[0], np.place.en] if np.adj else [np.place.en]
    return [np.rel.en, _en_article(np.definite, words[0]), *words]


def _en_predicate(kind: str, item, np: PlaceNP | None, plural: bool,
                  tense: str) -> list[str]:
    be = {("pres", False): "is", ("pres", True): "are",
          ("past", False): "was", ("past", True): "were"}[(tense, plural)]
    if kind == "rad":
        return ["like" if plural else "likes", "to", item.en]
    if kind == "place":
        return [be, item.en_ing, *_en_place(np)]
    if kind == "copula":
        return [be, item.en]
    return item.en.split()


def cs_gn(plan: Plan | ObjectNP) -> str:
    """Czech agreement class of the subject (or object), e.g. 'f_sg' or 'm_pl'."""
    if plan.plural:
        return plan.noun.cs_g_pl + "_pl"
    return plan.noun.cs_g_sg + "_sg"


def cs_adj(stem: str, m_pl: str, gn: str) -> str:
    """Nominative form of a hard Czech adjective."""
    return m_pl if gn == "m_pl" else stem + CS_ADJ_END[gn]


def cs_past(masc: str, stem: str, gn: str) -> str:
    """Czech past participle (stál, stála, stálo, stáli, stály, stála)."""
    return masc if gn == "m_sg" else stem + CS_PAST_END[gn]


def _others(form_of, gn: str) -> tuple[str, ...]:
    correct = form_of(gn)
    return tuple(sorted({form_of(g) for g in GN_CLASSES} - {correct}))


def _cs_vocalise(prep: str, next_word: str) -> str:
    consonants = "bcčdďfghjklmnňpqrřsštťvwxzž"
    if prep == "v" and (next_word[0] in "vf" or (
            next_word[0] in "szšžčcř" and next_word[1] in consonants)):
        return "ve"
    return prep


def _cs_place(np: PlaceNP) -> list[str]:
    place, case = np.place, np.rel.cs_case
    noun = {"loc": place.cs_loc, "gen": place.cs_gen, "ins": place.cs_ins}[case]
    words = [noun]
    if np.adj:
        mn, fem = CS_CASE_ADJ[case]
        words = [np.adj[1] + (fem if place.cs_g == "f" else mn), noun]
    return [_cs_vocalise(np.rel.cs_prep, words[0]), *words]


class _Builder:
    """Token list plus the agreement slots recorded while building it."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.slots: list[Slot] = []

    def add(self, *words: str) -> None:
        self.tokens.extend(w for w in words if w)

    def agree(self, category: str, form_of, gn: str) -> None:
        self.slots.append(Slot(len(self.tokens), category, _others(form_of, gn)))
        self.tokens.append(form_of(gn))


def _cs_clause(b: _Builder, kind: str, item, np: PlaceNP | None, gn: str,
               tense: str, plural: bool) -> None:
    if kind == "rad":
        b.agree("rad", CS_RAD.get, gn)
        b.add(item.cs_pl if plural else item.cs_sg)
    elif kind == "copula":
        if tense == "past":
            b.agree("past_verb", lambda g: cs_past("byl", "byl", g), gn)
        else:
            b.add("jsou" if plural else "je")
        b.agree("adjective", lambda g: cs_adj(item.cs_stem, item.cs_m_pl, g), gn)
    elif kind == "place" and tense == "pres":
        b.add(item.cs_refl, item.cs_pres_pl if plural else item.cs_pres_sg)
        b.add(*_cs_place(np))
    else:  # past place verb or event
        b.add(item.cs_refl)
        b.agree("past_verb", lambda g: cs_past(item.cs_past_m, item.cs_past_stem, g), gn)
        if kind == "place":
            b.add(*_cs_place(np))
        else:
            b.add(*item.cs_rest.split())


def render_cs(plan: Plan) -> tuple[list[str], list[Slot]]:
    """Czech tokens and agreement slots for a plan."""
    gn = cs_gn(plan)
    b = _Builder()
    if plan.adj:
        b.agree("adjective", lambda g: cs_adj(plan.adj.cs_stem, plan.adj.cs_m_pl, g), gn)
    b.add(plan.noun.cs_pl if plan.plural else plan.noun.cs_sg)
    if plan.obj:
        b.add(plan.main_item.cs_pl if plan.plural else plan.main_item.cs_sg,
              CS_ACC[plan.obj.noun.en_sg][plan.obj.plural])
    about = described(plan)
    about_gn = cs_gn(about)
    b.add(",")
    b.agree("rel_pronoun", CS_REL.get, about_gn)
    _cs_clause(b, plan.rel_kind, plan.rel_item, plan.rel_place, about_gn, rel_tense(plan),
               about.plural)
    if not plan.obj:
        b.add(",")
        _cs_clause(b, plan.main_kind, plan.main_item, plan.main_place, gn, plan.tense,
                   plan.plural)
    b.add(".")
    return b.tokens, b.slots


def de_key(plan: Plan | ObjectNP) -> str:
    """German agreement class of the subject (or object): m / f / n / pl."""
    return "pl" if plan.plural else plan.noun.de_g


def de_attr_adj(stem: str, definite: bool, key: str) -> str:
    """Nominative attributive adjective after der/ein (or no article in plural)."""
    if definite:
        return stem + ("en" if key == "pl" else "e")
    return stem + {"m": "er", "f": "e", "n": "es", "pl": "e"}[key]


def _de_place(np: PlaceNP) -> list[str]:
    place = np.place
    art = DE_DAT[np.definite][place.de_g]
    words = [np.adj[2] + "en", place.de] if np.adj else [place.de]
    contracted = DE_CONTRACT.get((np.rel.de_prep, art))
    if contracted:
        return [contracted, *words]
    return [np.rel.de_prep, art, *words]


def _de_wrong(correct: str, options: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(set(options) - {correct}))


def _de_main(kind: str, item, np: PlaceNP | None, tense: str, plural: bool) -> list[str]:
    if kind == "place":
        verb = {("pres", False): item.de_pres_sg, ("pres", True): item.de_pres_pl,
                ("past", False): item.de_past_sg, ("past", True): item.de_past_pl}
        return [verb[(tense, plural)], *_de_place(np)]
    if kind == "copula":
        be = {("pres", False): "ist", ("pres", True): "sind",
              ("past", False): "war", ("past", True): "waren"}[(tense, plural)]
        return [be, item.de]
    return (item.de_main_pl if plural else item.de_main_sg).split()


def _de_relative(plan: Plan) -> list[str]:
    item, plural = plan.rel_item, described(plan).plural
    if plan.rel_kind == "rad":
        return ["gerne", item.de_pl if plural else item.de_sg]
    if plan.rel_kind == "event":
        return (item.de_sub_pl if plural else item.de_sub_sg).split()
    verb = {("pres", False): item.de_pres_sg, ("pres", True): item.de_pres_pl,
            ("past", False): item.de_past_sg, ("past", True): item.de_past_pl}
    return [*_de_place(plan.rel_place), verb[(rel_tense(plan), plural)]]


def render_de(plan: Plan) -> tuple[list[str], list[Slot]]:
    """German tokens and agreement slots for a plan."""
    key = de_key(plan)
    b = _Builder()
    if plan.definite:
        b.slots.append(Slot(0, "article", _de_wrong(DE_DEF_NOM[key], ("der", "die", "das"))))
        b.add(DE_DEF_NOM[key])
    elif not plan.plural:
        b.slots.append(Slot(0, "article", _de_wrong(DE_INDEF_NOM[key], ("ein", "eine"))))
        b.add(DE_INDEF_NOM[key])
    if plan.adj:
        stem = plan.adj.de
        correct = de_attr_adj(stem, plan.definite, key)
        wrong = _de_wrong(correct, [stem + e for e in ("e", "er", "es", "en")])
        b.slots.append(Slot(len(b.tokens), "adjective", wrong))
        b.add(correct)
    b.add(plan.noun.de_pl if plan.plural else plan.noun.de_sg)
    if plan.obj:
        obj = plan.obj
        obj_noun = obj.noun.de_pl if obj.plural else DE_WEAK_ACC.get(obj.noun.de_sg,
                                                                      obj.noun.de_sg)
        b.add(plan.main_item.de_pl if plan.plural else plan.main_item.de_sg,
              DE_ACC_ART[obj.definite][de_key(obj)], obj_noun)
    rel_key = de_key(described(plan))
    b.add(",")
    b.slots.append(Slot(len(b.tokens), "rel_pronoun",
                        _de_wrong(DE_REL[rel_key], ("der", "die", "das"))))
    b.add(DE_REL[rel_key], *_de_relative(plan))
    if not plan.obj:
        b.add(",", *_de_main(plan.main_kind, plan.main_item, plan.main_place, plan.tense,
                             plan.plural))
    b.add(".")
    return b.tokens, b.slots


# ---------------------------------------------------------------- corpus


class Example(NamedTuple):
    en: str
    cs: str
    de: str
    cs_tokens: list[str]
    cs_slots: list[Slot]
    de_tokens: list[str]
    de_slots: list[Slot]


def make_example(plan: Plan) -> Example:
    """Render a plan in all three languages."""
    cs_tokens, cs_slots = render_cs(plan)
    de_tokens, de_slots = render_de(plan)
    return Example(render_en(plan), render(cs_tokens), render(de_tokens),
                   cs_tokens, cs_slots, de_tokens, de_slots)


def generate(n: int, rng: random.Random, max_tries_factor: int = 50,
             attractors: float = 0.0) -> list[Example]:
    """Sample n examples such that no sentence repeats in any language; a share
    `attractors` of them put the relative clause on an object (`sample_plan`)."""
    seen: dict[str, set[str]] = {lang: set() for lang in LANGS}
    out: list[Example] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > max_tries_factor * n + 1000:
            sys.exit(f"error: could only generate {len(out)} distinct sentences "
                     f"out of {n}; ask for fewer")
        ex = make_example(sample_plan(rng, attractors))
        texts = {"en": ex.en, "cs": ex.cs, "de": ex.de}
        if any(texts[lang] in seen[lang] for lang in LANGS):
            continue
        for lang in LANGS:
            seen[lang].add(texts[lang])
        out.append(ex)
    return out


def contrast_rows(examples: Sequence[Example], lang: str,
                  rng: random.Random) -> list[tuple[str, str, str, str]]:
    """One row per example and agreement category, swapping one slot."""
    rows = []
    for ex in examples:
        tokens = ex.cs_tokens if lang == "cs" else ex.de_tokens
        slots = ex.cs_slots if lang == "cs" else ex.de_slots
        correct = render(tokens)
        for category in sorted({s.category for s in slots}):
            slot = rng.choice([s for s in slots if s.category == category])
            swapped = list(tokens)
            swapped[slot.index] = rng.choice(slot.wrong)
            rows.append((ex.en, correct, render(swapped), category))
    return rows


def write_lines(path: Path, lines: Sequence[str]) -> None:
    """Write UTF-8 lines with '\\n' endings."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line + "\n")
    except OSError as e:
        sys.exit(f"error: cannot write {path}: {e.strerror}")


def write_corpus(out: Path, splits: dict[str, list[Example]],
                 rows: dict[str, list[tuple[str, str, str, str]]]) -> list[Path]:
    """Write all split files and contrast TSVs; return the written paths."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        sys.exit(f"error: cannot create {out}: {e.strerror}")
    written = []
    for split, examples in splits.items():
        for lang in LANGS:
            path = out / f"{split}.{lang}"
            write_lines(path, [getattr(ex, lang) for ex in examples])
            written.append(path)
    for lang, lang_rows in rows.items():
        path = out / f"test.contrast.{lang}.tsv"
        write_lines(path, ["\t".join(r) for r in lang_rows])
        written.append(path)
    return written


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {value}")
    return value


def share(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1: {value}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Generate a seeded synthetic en->cs/de corpus of long-distance "
                    "gender/number agreement, plus contrastive test pairs.",
        epilog="Example: python scripts/make_agreement_corpus.py --out data/agreement")
    p.add_argument("--out", type=Path, default=Path("data/agreement"),
                   help="output directory (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help="random seed; same seed gives identical files (default: %(default)s)")
    p.add_argument("--train", type=positive_int, default=20000,
                   help="training sentences (default: %(default)s)")
    p.add_argument("--dev", type=positive_int, default=500,
                   help="dev sentences (default: %(default)s)")
    p.add_argument("--test", type=positive_int, default=500,
                   help="test sentences (default: %(default)s)")
    p.add_argument("--attractors", type=share, default=0.0,
                   help="share of sentences whose relative clause is on the object, "
                        "with the subject as an attractor (default: %(default)s)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    examples = generate(args.train + args.dev + args.test, rng, attractors=args.attractors)
    splits = {"train": examples[:args.train],
              "dev": examples[args.train:args.train + args.dev],
              "test": examples[args.train + args.dev:]}
    contrast_rng = random.Random(args.seed + 1)
    rows = {lang: contrast_rows(splits["test"], lang, contrast_rng) for lang in ("cs", "de")}
    for path in write_corpus(args.out, splits, rows):
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
