"""Piece embeddings with shared ending vectors (`model.piece_endings`)."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import make_config

from seq2seq.checkpoint import load_checkpoint, save_checkpoint
from seq2seq.config import ModelConfig
from seq2seq.model import Seq2Seq
from seq2seq.model.embedding import PieceEmbedding, ending_table
from seq2seq.train import train
from seq2seq.translate import Translator

PIECES = ["<pad>", "<unk>", "<s>", "</s>", "▁dívka", "▁kočka", "▁most", "▁pes", "a"]


def test_only_endings_that_pieces_share_get_a_row_and_control_pieces_get_none():
    ids, offsets, rows = ending_table(PIECES, 2)
    shared = sorted(["a", "ka"])  # "▁dívka", "▁kočka" and "a" end in "a"; two in "ka"
    assert rows == len(shared)
    bags = [ids[start:end].tolist() for start, end
            in zip(offsets.tolist(), offsets.tolist()[1:] + [len(ids)])]
    a, ka = shared.index("a"), shared.index("ka")
    assert bags == [[], [], [], [], [a, ka], [a, ka], [], [], [a]]


def test_pieces_that_end_alike_share_the_mean_of_their_ending_vectors():
    embedding = PieceEmbedding(len(PIECES), 4, ending_chars=2, pieces=PIECES)
    with torch.no_grad():
        embedding.endings.weight.normal_()
    ids = torch.arange(len(PIECES)).unsqueeze(0)  # (1, vocab)
    added = (embedding(ids) - embedding.weight)[0]  # (vocab, 4): what the endings add
    a, ka = embedding.endings.weight  # rows in sorted order: "a", "ka"
    assert torch.allclose(added[4], (a + ka) / 2) and torch.allclose(added[5], (a + ka) / 2)
    assert torch.allclose(added[8], a)
    assert torch.equal(added[[0, 1, 2, 3, 6, 7]], torch.zeros(6, 4))  # no shared ending


def test_a_new_model_embeds_as_without_endings_and_only_the_input_side_changes():
    config = ModelConfig(emb_dim=8, enc_hidden=8, dec_hidden=16, attention_dim=8,
                         piece_endings=2, share_embeddings=True, tie_output=True)
    model = Seq2Seq(config, len(PIECES), len(PIECES), (PIECES, PIECES))
    ids = torch.tensor([[4, 5, 8]])
    assert torch.equal(model.tgt_embed(ids), model.tgt_embed.weight[ids])  # endings start at 0
    assert model.generator.weight is model.tgt_embed.weight  # the output uses the piece rows


def test_a_model_built_without_its_pieces_counts_parameters_but_cannot_embed():
    config = ModelConfig(emb_dim=8, enc_hidden=8, dec_hidden=16, attention_dim=8,
                         piece_endings=3, share_embeddings=True)
    plain = Seq2Seq(ModelConfig(emb_dim=8, enc_hidden=8, dec_hidden=16, attention_dim=8,
                                share_embeddings=True), 30, 30)
    counted = Seq2Seq(config, 30, 30)
    assert counted.num_parameters() == plain.num_parameters() + 30 * 3 * 8  # the worst case
    with pytest.raises(ValueError, match="built without its pieces"):
        counted.src_embed(torch.tensor([[4]]))
    with pytest.raises(ValueError, match="3 pieces for a vocabulary of 30"):
        Seq2Seq(config, 30, 30, (["a", "b", "c"], ["a", "b", "c"]))


def test_training_with_piece_endings_learns_them_and_the_checkpoint_uses_them(corpus, tmp_path):
    config = make_config(corpus, tmp_path / "run", model={"piece_endings": 3},
                         train={"max_steps": 300, "eval_every": 300})
    train(config, log=lambda m: None)
    dev = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
           .splitlines() if '"dev"' in line]
    assert dev[-1]["bleu"] > 80, dev
    payload = load_checkpoint(tmp_path / "run" / "best.pt")
    endings = payload["model"]["src_embed.endings.weight"]
    assert endings.abs().sum() > 0  # trained away from their zero start
    sources = (corpus["dir"] / "dev.src").read_text().splitlines()
    translator = Translator.from_checkpoint(tmp_path / "run" / "best.pt", method="beam",
                                            beam_size=3)
    with_endings = [h[0].score for h in translator.translate_full(sources)]
    payload["model"]["src_embed.endings.weight"] = torch.zeros_like(endings)
    save_checkpoint(tmp_path / "zeroed.pt", payload)
    zeroed = Translator.from_checkpoint(tmp_path / "zeroed.pt", method="beam", beam_size=3)
    assert [h[0].score for h in zeroed.translate_full(sources)] != with_endings
