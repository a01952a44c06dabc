"""Config files: typed, validated, and every error is one line naming file and key."""

from __future__ import annotations

import pytest

from seq2seq.config import ConfigError, load_config

VALID = """\
data: {src_lang: en, tgt_lang: de, train: a/train, dev: a/dev}
train: {out_dir: runs/x}
"""


def _write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_fills_defaults(tmp_path):
    config = load_config(_write(tmp_path, VALID + "model: {rnn: lstm, enc_layers: 2}\n"))
    assert config.model.rnn == "lstm" and config.model.enc_layers == 2
    assert config.train.batch_tokens == 4096 and config.decode.beam_size == 5


def test_exponent_without_a_dot_is_a_float(tmp_path):
    config = load_config(_write(tmp_path, VALID.replace("runs/x}", "runs/x, lr: 2e-4}")))
    assert config.train.lr == 0.0002


@pytest.mark.parametrize("text, expected", [
    (VALID + "model: {hiden: 3}\n", "unknown key 'model.hiden'"),
    ("data: {src_lang: en, tgt_lang: de, train: a}\ntrain: {out_dir: x}\n",
     "missing required key 'data.dev'"),
    (VALID + "model: {emb_dim: big}\n", "'model.emb_dim' must be int, got str 'big'"),
    (VALID + "model: {emb_dim: 2.5}\n", "'model.emb_dim' must be int"),
    (VALID + "model: {emb_dim: 1e3}\n", "'model.emb_dim' must be int, got str '1e3'"),
    (VALID + "model: {dropout: 1e-x}\n", "'model.dropout' must be float, got str '1e-x'"),
    (VALID + "model: {input_feeding: 1}\n", "'model.input_feeding' must be true or false"),
    (VALID + "model: {enc_layers: 0}\n", "'model.enc_layers' must be >= 1, got 0"),
    (VALID + "train: {out_dir: x, batch_tokens: -5}\n", "'train.batch_tokens' must be >= 1"),
    (VALID + "model: {dropout: 1.5}\n", "'model.dropout' must be < 1.0"),
    (VALID + "model: {attention: cosine}\n", "'model.attention' must be one of bahdanau"),
    (VALID + "model: [1, 2]\n", "model: expected a mapping"),
    ("data: {src_lang: en\n", "line 2: invalid YAML"),
    ("- 1\n- 2\n", "top level: expected a mapping"),
    (VALID + "model: {share_embeddings: true}\ntokenizer: {joint: false}\n",
     "needs 'tokenizer.joint: true'"),
    (VALID + "model: {attention: luong_dot, enc_hidden: 100, dec_hidden: 300}\n",
     "needs model.dec_hidden == 2 * enc_hidden"),
    (VALID + "tokenizer: {type: char, sampling: 0.1}\n", "'tokenizer.sampling' needs type bpe"),
    (VALID + "decode: {beam_size: 2, nbest: 3}\n",
     "'decode.nbest' (3) must not exceed 'decode.beam_size' (2)"),
    (VALID.replace("dev: a/dev}", "dev: a/dev, distill_nbest: 2}"),
     "'data.distill_nbest' needs 'data.distill_from'"),
])
def test_bad_config_is_one_line_naming_file_and_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert expected in message
    assert message.startswith(str(path)) and "\n" not in message


def test_missing_and_non_text_config_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)


def test_overrides_apply_on_top_of_the_file_and_are_validated(tmp_path):
    path = _write(tmp_path, VALID)
    config = load_config(path, ["train.max_steps=7", "model.rnn=lstm", "data.test=a/test"])
    assert (config.train.max_steps, config.model.rnn, config.data.test) == (7, "lstm", "a/test")
    with pytest.raises(ConfigError, match="'train.max_steps' must be int"):
        load_config(path, ["train.max_steps=lots"])
    with pytest.raises(ConfigError, match="unknown key 'model.layers'"):
        load_config(path, ["model.layers=2"])
    with pytest.raises(ConfigError, match="must look like section.key=value"):
        load_config(path, ["train.max_steps"])


def test_device_choice_resolves_to_cpu_without_a_gpu(tmp_path):
    import torch

    from seq2seq.distributed import device

    config = load_config(_write(tmp_path, VALID), ["train.device=auto"])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device(config.train.device).type == expected
    assert device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="'train.device' must be one of auto, cpu, cuda"):
        load_config(_write(tmp_path, VALID), ["train.device=tpu"])
