"""Attention never looks at padding, and a padded sentence decodes like an unpadded one."""

from __future__ import annotations

import pytest
import torch

from seq2seq.batching import pad_sequences
from seq2seq.config import ModelConfig
from seq2seq.model import Seq2Seq
from seq2seq.model.seq2seq import drop_words
from seq2seq.tokenizer import BOS, PAD, UNK


@pytest.mark.parametrize("attention", ["bahdanau", "luong_dot", "luong_general"])
@pytest.mark.parametrize("input_feeding", [False, True])
@pytest.mark.parametrize("rnn", ["gru", "lstm"])
@pytest.mark.parametrize("context_rnn", [False, True])
def test_padding_gets_no_weight_and_changes_nothing(attention, input_feeding, rnn, context_rnn):
    torch.manual_seed(0)
    config = ModelConfig(rnn=rnn, emb_dim=16, enc_hidden=8, dec_hidden=16, attention=attention,
                         attention_dim=8, input_feeding=input_feeding, dropout=0.0,
                         context_rnn=context_rnn, readout_embedding=context_rnn,
                         target_attention=context_rnn)
    model = Seq2Seq(config, src_vocab=30, tgt_vocab=30).eval()
    short, long_ = [5, 6, 7], [8, 9, 10, 11, 12, 13, 14]
    tgt_in = torch.tensor([[2, 5, 6, 7], [2, 9, 9, 9]])
    src, src_len = pad_sequences([short, long_])  # (2, 7): the first row is padded
    with torch.no_grad():
        memory, state = model.encode(src, src_len)
        logits, _, weights = model.decode(tgt_in, state, memory)
        alone_src, alone_len = pad_sequences([short])
        alone_memory, alone_state = model.encode(alone_src, alone_len)
        alone_logits, _, alone_weights = model.decode(tgt_in[:1], alone_state, alone_memory)
    assert torch.all(weights[0, :, len(short):] == 0)
    assert torch.allclose(weights[0, :, :len(short)], alone_weights[0], atol=1e-6)
    assert torch.allclose(logits[0], alone_logits[0], atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4), atol=1e-6)


@pytest.mark.parametrize("input_feeding", [False, True])
@pytest.mark.parametrize("rnn", ["gru", "lstm"])
@pytest.mark.parametrize("context_rnn", [False, True])
@pytest.mark.parametrize("readout_embedding", [False, True])
@pytest.mark.parametrize("target_attention", [False, True])
def test_decoding_step_by_step_equals_all_positions_at_once(
    input_feeding, rnn, context_rnn, readout_embedding, target_attention,
):
    """What search does (one position per call, state carried) gives the teacher-forced
    logits and attention, and the state after the last step is the same."""
    torch.manual_seed(0)
    config = ModelConfig(rnn=rnn, emb_dim=16, enc_hidden=8, dec_hidden=16, dec_layers=2,
                         attention_dim=8, input_feeding=input_feeding, dropout=0.0,
                         context_rnn=context_rnn, readout_embedding=readout_embedding,
                         target_attention=target_attention)
    model = Seq2Seq(config, src_vocab=30, tgt_vocab=30).eval()
    src, src_len = pad_sequences([[5, 6, 7], [8, 9, 10, 11, 12]])
    tgt_in = torch.tensor([[BOS, 5, 6, 7, 8], [BOS, 9, 9, 13, 14]])
    with torch.no_grad():
        memory, start = model.encode(src, src_len)
        logits, end, weights = model.decode(tgt_in, start, memory)
        state, step_logits, step_weights = start, [], []
        for t in range(tgt_in.size(1)):
            step, state, weight = model.step(tgt_in[:, t], state, memory)
            step_logits.append(step)
            step_weights.append(weight)
    assert torch.allclose(torch.stack(step_logits, 1), logits, atol=1e-5)
    assert torch.allclose(torch.stack(step_weights, 1), weights, atol=1e-6)
    assert (state.context_hidden is not None) == context_rnn
    assert (state.history is not None) == target_attention
    for carried, whole in zip(state, end):
        assert (carried is None) == (whole is None)
        if carried is not None:
            assert all(torch.allclose(a, b, atol=1e-6)
                       for a, b in zip(_tensors(carried), _tensors(whole)))


@pytest.mark.parametrize("input_feeding", [False, True])
def test_a_position_never_sees_later_target_tokens(input_feeding):
    """Changing the target from position 3 on leaves the logits of positions 0-2 as they
    were, with every decoder option on (target attention must mask what lies ahead)."""
    torch.manual_seed(0)
    config = ModelConfig(emb_dim=16, enc_hidden=8, dec_hidden=16, attention_dim=8,
                         input_feeding=input_feeding, dropout=0.0, context_rnn=True,
                         readout_embedding=True, target_attention=True)
    model = Seq2Seq(config, src_vocab=30, tgt_vocab=30).eval()
    src, src_len = pad_sequences([[5, 6, 7, 8]])
    tgt_in = torch.tensor([[BOS, 5, 6, 7, 8, 9]])
    changed = tgt_in.clone()
    changed[0, 3:] = torch.tensor([20, 21, 22])
    with torch.no_grad():
        logits = model(src, src_len, tgt_in)
        changed_logits = model(src, src_len, changed)
    assert torch.allclose(logits[:, :3], changed_logits[:, :3], atol=1e-6)
    assert not torch.allclose(logits[:, 3:], changed_logits[:, 3:], atol=1e-3)


def _tensors(state: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def test_tied_and_shared_embeddings_are_one_tensor():
    config = ModelConfig(emb_dim=16, enc_hidden=8, dec_hidden=16, tie_output=True,
                         share_embeddings=True)
    model = Seq2Seq(config, 30, 30)
    assert model.generator.weight is model.tgt_embed.weight is model.src_embed.weight


def test_word_dropout_hides_tokens_in_training_only():
    torch.manual_seed(0)
    ids = torch.randint(3, 30, (64, 50))
    ids[:, 0], ids[:, 40:] = BOS, PAD
    dropped = drop_words(ids, 0.3)
    assert torch.equal(dropped[:, 0], ids[:, 0]) and torch.equal(dropped[:, 40:], ids[:, 40:])
    hidden = (dropped[:, 1:40] == UNK).float().mean()
    assert 0.27 < hidden < 0.33
    assert torch.equal(dropped[dropped != UNK], ids[dropped != UNK])

    config = ModelConfig(emb_dim=16, enc_hidden=8, dec_hidden=16, dropout=0.0, word_dropout=1.0)
    model = Seq2Seq(config, 30, 30)
    src_a, src_b = torch.tensor([[5, 6, 7]]), torch.tensor([[8, 9, 10]])
    lengths, tgt_in = torch.tensor([3]), torch.tensor([[BOS, 11, 12]])
    with torch.no_grad():
        # training: every input token is UNK, so the sources cannot be told apart
        assert torch.equal(model.train()(src_a, lengths, tgt_in), model(src_b, lengths, tgt_in))
        assert not torch.allclose(model.eval()(src_a, lengths, tgt_in),
                                  model(src_b, lengths, tgt_in))


@pytest.mark.parametrize("side", ["source", "target"])
def test_word_dropout_hides_only_its_side(side):
    torch.manual_seed(0)
    config = ModelConfig(emb_dim=16, enc_hidden=8, dec_hidden=16, dropout=0.0, word_dropout=1.0,
                         word_dropout_side=side)
    model = Seq2Seq(config, 30, 30).train()
    src_a, src_b = torch.tensor([[5, 6, 7]]), torch.tensor([[8, 9, 10]])
    tgt_a, tgt_b = torch.tensor([[BOS, 11, 12]]), torch.tensor([[BOS, 13, 14]])
    lengths = torch.tensor([3])
    with torch.no_grad():
        base = model(src_a, lengths, tgt_a)
        same_for_other_source = torch.equal(base, model(src_b, lengths, tgt_a))
        same_for_other_target = torch.equal(base, model(src_a, lengths, tgt_b))
    assert same_for_other_source == (side == "source")
    assert same_for_other_target == (side == "target")
