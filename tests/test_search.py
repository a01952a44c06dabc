"""Search behaviour on a trained model: beam/greedy agreement, batch independence."""

from __future__ import annotations

import pytest
import torch

from seq2seq.tokenizer import EOS
from seq2seq.translate import Translator


@pytest.fixture(scope="module")
def sources(corpus) -> list[str]:
    return (corpus["dir"] / "dev.src").read_text().splitlines()[:40]


def test_beam_of_one_equals_greedy(trained, sources):
    greedy = Translator.from_checkpoint(trained, method="greedy").translate_full(sources)
    beam = Translator.from_checkpoint(trained, method="beam", beam_size=1).translate_full(sources)
    for g, b in zip(greedy, beam):
        assert g[0].text == b[0].text
        assert g[0].score == pytest.approx(b[0].score, abs=1e-4)


@pytest.mark.parametrize("method", ["beam", "greedy"])
def test_output_does_not_depend_on_batch_composition(trained, sources, method):
    together = Translator.from_checkpoint(trained, method=method, beam_size=4, batch_size=64)
    alone = Translator.from_checkpoint(trained, method=method, beam_size=4, batch_size=1)
    mixed = Translator.from_checkpoint(trained, method=method, beam_size=4, batch_size=7)
    a, b = together.translate_full(sources), alone.translate_full(sources)
    c = mixed.translate_full(list(reversed(sources)))[::-1]
    for x, y, z in zip(a, b, c):
        assert x[0].text == y[0].text == z[0].text
        assert x[0].score == pytest.approx(y[0].score, abs=1e-4)
        assert x[0].score == pytest.approx(z[0].score, abs=1e-4)


def test_nbest_is_sorted_and_distinct(trained, sources):
    translator = Translator.from_checkpoint(trained, method="beam", beam_size=5, nbest=3)
    for nbest in translator.translate_full(sources[:10]):
        assert len(nbest) == 3
        scores = [h.normalized_score for h in nbest]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tgt_pieces) for h in nbest}) == 3


def test_sampling_with_top_k_one_is_greedy(trained, sources):
    greedy = Translator.from_checkpoint(trained, method="greedy").translate(sources)
    sampled = Translator.from_checkpoint(trained, method="sample", top_k=1,
                                         temperature=5.0).translate(sources)
    assert sampled == greedy


def test_sampling_at_high_temperature_varies(trained, sources):
    torch.manual_seed(0)
    translator = Translator.from_checkpoint(trained, method="sample", temperature=3.0)
    assert translator.translate(sources) != translator.translate(sources)


def test_empty_line_gives_empty_output_and_alignment_holds(trained):
    translator = Translator.from_checkpoint(trained, method="beam")
    out = translator.translate(["red cat", "", "   ", "sun moon"])
    assert out[1] == "" and out[2] == ""
    assert out[0] == "cat red" and out[3] == "moon sun"


@pytest.mark.parametrize("method", ["beam", "greedy", "sample"])
def test_output_is_never_empty_even_when_eos_is_most_likely_first(trained, sources, method):
    # A real trained model whose output layer gains a bias that makes EOS the most likely
    # token at every position: searches must still emit one token before it.
    translator = Translator.from_checkpoint(trained, method=method, beam_size=3, nbest=3)
    old = translator.model.generator
    biased = torch.nn.Linear(old.in_features, old.out_features)
    with torch.no_grad():
        biased.weight.copy_(old.weight)
        biased.bias.zero_()
        biased.bias[EOS] = 50.0
    translator.model.generator = biased
    for nbest in translator.translate_full(sources[:8]):
        assert [len(h.tgt_pieces) for h in nbest] == [1] * len(nbest)


def test_output_length_limit_follows_each_source(trained):
    translator = Translator.from_checkpoint(trained, method="greedy", max_len_ratio=0.5,
                                            max_len_extra=0)
    (nbest,) = translator.translate_full(["red cat big sun old tree"])
    src_len = len(nbest[0].src_pieces)
    assert len(nbest[0].tgt_pieces) <= -(-src_len // 2)


def test_forced_scores_match_beam_scores_and_batch_size(trained, sources):
    translator = Translator.from_checkpoint(trained, method="beam", beam_size=3)
    best = [n[0] for n in translator.translate_full(sources)]
    forced = translator.score(sources, [h.text for h in best])
    for h, f in zip(best, forced):
        assert f.total == pytest.approx(h.score, abs=1e-3)
    targets = [h.text for h in best]
    single = Translator.from_checkpoint(trained, batch_size=1).score(sources, targets)
    assert [f.total for f in forced] == pytest.approx([f.total for f in single], abs=1e-4)


def test_int8_decoding_is_quantised_and_agrees_with_fp32(trained, sources):
    fp32 = Translator.from_checkpoint(trained, method="beam", beam_size=3)
    int8 = Translator.from_checkpoint(trained, method="beam", beam_size=3, int8=True)
    assert ".quantized." in type(int8.model.generator).__module__
    assert ".quantized." in type(int8.model.decoder.rnn).__module__
    assert ".quantized." not in type(int8.model.decoder.attention.energy).__module__
    assert ".quantized." not in type(fp32.model.generator).__module__
    same = sum(a == b for a, b in zip(fp32.translate(sources), int8.translate(sources)))
    assert same >= 0.9 * len(sources)


def test_bf16_decoding_runs_in_bfloat16_and_agrees_with_fp32(trained, sources):
    fp32 = Translator.from_checkpoint(trained, method="beam", beam_size=3)
    bf16 = Translator.from_checkpoint(trained, method="beam", beam_size=3, bf16=True)
    assert bf16.model.generator.weight.dtype == torch.bfloat16
    same = sum(a == b for a, b in zip(fp32.translate(sources), bf16.translate(sources)))
    assert same >= 0.9 * len(sources)
    with pytest.raises(ValueError, match="int8 or bf16"):
        Translator.from_checkpoint(trained, int8=True, bf16=True)
