"""Sequence-level distillation (`data.distill_from`) and back-translation
(`data.back_translate_from`): the training corpus gains a trained model's beam translations
of its sources, and a reverse model's of its references; made once per out_dir, refused if
it was made from another model or a model translates the wrong way."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_config

from seq2seq.config import ConfigError
from seq2seq.corpus import read_lines
from seq2seq.prepare import prepare, sampled_train
from seq2seq.train import train
from seq2seq.translate import Translator

REVERSE = {"src_lang": "tgt", "tgt_lang": "src"}


@pytest.fixture(scope="module")
def reverse_model(corpus: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the corpus the other way round (target -> source)."""
    out = tmp_path_factory.mktemp("reverse")
    train(make_config(corpus, out, data=REVERSE, train={"max_steps": 150}), log=lambda m: None)
    return out / "best.pt"


def test_distilled_corpus_is_references_then_teacher_beam_translations(corpus, trained,
                                                                       tmp_path):
    config = make_config(corpus, tmp_path / "student", data={"distill_from": str(trained)})
    messages: list[str] = []
    data = prepare(config, log=messages.append)

    sources = list(read_lines(f"{corpus['train']}.src"))
    references = list(read_lines(f"{corpus['train']}.tgt"))
    teacher = Translator.from_checkpoint(trained, method="beam")
    distilled = tmp_path / "student" / "distilled"
    assert list(read_lines(distilled / "train.src.gz")) == sources + sources
    assert list(read_lines(distilled / "train.tgt.gz")) == references + teacher.translate(sources)
    assert data.train.stats.read == 2 * len(sources)
    assert any(m.startswith(f"distilling: {trained} translates 2,000 lines") for m in messages)

    again: list[str] = []  # a second run (e.g. a resume) reuses the corpus
    assert prepare(config, log=again.append).train.stats.read == 2 * len(sources)
    assert not any(m.startswith("distilling") for m in again)


def test_distill_nbest_adds_each_rank_of_the_teachers_beam_in_turn(corpus, trained, tmp_path):
    config = make_config(corpus, tmp_path / "student",
                         data={"distill_from": str(trained), "distill_nbest": 2})
    messages: list[str] = []
    data = prepare(config, log=messages.append)

    sources = list(read_lines(f"{corpus['train']}.src"))
    references = list(read_lines(f"{corpus['train']}.tgt"))
    found = Translator.from_checkpoint(trained, method="beam", nbest=2).translate_full(sources)
    best, second = [f[0].text for f in found], [f[1].text for f in found]
    assert sum(b != s for b, s in zip(best, second)) > len(sources) // 2
    distilled = tmp_path / "student" / "distilled"
    assert list(read_lines(distilled / "train.src.gz")) == sources * 3
    assert list(read_lines(distilled / "train.tgt.gz")) == references + best + second
    assert data.train.stats.read == 3 * len(sources)
    assert any(m.endswith(", 2 best each") for m in messages)


def test_distill_nbest_beyond_the_teachers_beam_is_refused(corpus, trained, tmp_path):
    out = tmp_path / "student"
    config = make_config(corpus, out, data={"distill_from": str(trained), "distill_nbest": 6})
    with pytest.raises(ConfigError, match=r"distill_nbest is 6, more than the beam size of "
                                          rf".*{trained.name} \(5\)"):
        prepare(config, log=lambda m: None)
    assert not (out / "distilled").exists()


def test_an_ensemble_of_checkpoints_teaches_with_averaged_probabilities(corpus, trained,
                                                                      tmp_path):
    checkpoints = [str(trained), str(trained.parent / "best-step150.pt")]
    config = make_config(corpus, tmp_path / "student", data={"distill_from": ",".join(checkpoints)})
    messages: list[str] = []
    prepare(config, log=messages.append)

    sources = list(read_lines(f"{corpus['train']}.src"))
    references = list(read_lines(f"{corpus['train']}.tgt"))
    ensemble = Translator.from_checkpoint(checkpoints, method="beam").translate(sources)
    single = Translator.from_checkpoint(trained, method="beam").translate(sources)
    assert ensemble != single  # the second member changes the search
    distilled = tmp_path / "student" / "distilled" / "train.tgt.gz"
    assert list(read_lines(distilled)) == references + ensemble
    announced = f"distilling: {' + '.join(checkpoints)} (ensemble) translates 2,000 lines"
    assert any(m.startswith(announced) for m in messages)


def test_a_distilled_corpus_from_another_model_is_refused(corpus, trained, tmp_path):
    out = tmp_path / "student"
    prepare(make_config(corpus, out, data={"distill_from": str(trained)}), log=lambda m: None)
    before = (out / "distilled" / "train.tgt.gz").read_bytes()
    other = make_config(corpus, out, data={"distill_from": str(trained.parent / "last.pt")})
    refused = r"distilled\.json: .*distill_from .*another train\.out_dir"
    with pytest.raises(ConfigError, match=refused):
        prepare(other, log=lambda m: None)
    assert (out / "distilled" / "train.tgt.gz").read_bytes() == before


def test_subword_sampling_resamples_the_distilled_corpus(corpus, trained, tmp_path):
    config = make_config(corpus, tmp_path / "student", data={"distill_from": str(trained)},
                         tokenizer={"sampling": 0.1})
    data = prepare(config, log=lambda m: None)
    assert sampled_train(config, data, epoch=1).stats.read == data.train.stats.read == 4000


def test_back_translations_of_the_references_join_after_the_teachers(corpus, trained,
                                                                    reverse_model, tmp_path):
    config = make_config(corpus, tmp_path / "student",
                         data={"distill_from": str(trained),
                               "back_translate_from": str(reverse_model)})
    messages: list[str] = []
    data = prepare(config, log=messages.append)

    sources = list(read_lines(f"{corpus['train']}.src"))
    references = list(read_lines(f"{corpus['train']}.tgt"))
    teacher = Translator.from_checkpoint(trained, method="beam").translate(sources)
    back = Translator.from_checkpoint(reverse_model, method="beam").translate(references)
    assert back != sources and sum(b == s for b, s in zip(back, sources)) > len(sources) // 2
    distilled = tmp_path / "student" / "distilled"
    assert list(read_lines(distilled / "train.src.gz")) == sources + sources + back
    assert list(read_lines(distilled / "train.tgt.gz")) == references + teacher + references
    assert data.train.stats.read == 3 * len(sources)
    assert any(m.startswith(f"back-translating: {reverse_model} translates 2,000 lines of "
                            f"{corpus['train']}.tgt") for m in messages)


def test_back_translation_alone_adds_only_the_reverse_models_pairs(corpus, trained,
                                                                   reverse_model, tmp_path):
    config = make_config(corpus, tmp_path / "bt", data={"back_translate_from": str(reverse_model)})
    prepare(config, log=lambda m: None)
    references = list(read_lines(f"{corpus['train']}.tgt"))
    assert list(read_lines(tmp_path / "bt" / "distilled" / "train.tgt.gz")) == references * 2
    # the same out_dir with distillation added is another corpus: refused, not mixed
    both = make_config(corpus, tmp_path / "bt", data={"back_translate_from": str(reverse_model),
                                                      "distill_from": str(trained)})
    with pytest.raises(ConfigError, match=r"distilled\.json: .*distill_from \(None -> "):
        prepare(both, log=lambda m: None)


@pytest.mark.parametrize("key", ["back_translate_from", "distill_from"])
def test_a_model_translating_the_wrong_way_is_refused(corpus, trained, reverse_model, key,
                                                     tmp_path):
    wrong, direction = ((trained, "src->tgt") if key == "back_translate_from"
                        else (reverse_model, "tgt->src"))
    out = tmp_path / "student"
    with pytest.raises(ConfigError, match=rf"{wrong.name}: translates {direction}, but "
                                          rf"data\.{key} needs a"):
        prepare(make_config(corpus, out, data={key: str(wrong)}), log=lambda m: None)
    assert not (out / "distilled").exists()
