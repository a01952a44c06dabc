"""Search over `model.step`: greedy, sampling, and batched beam search.

Every sentence in a batch is searched independently: its maximum length comes
from its own source length, and finished sentences leave the batch (so the
remaining ones run on smaller tensors). The result for a sentence does not
depend on which other sentences share its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seq2seq.model import Seq2Seq
from seq2seq.model.decoder import DecoderState
from seq2seq.model.encoder import Memory
from seq2seq.model.ensemble import Ensemble, EnsembleMemory, EnsembleState
from seq2seq.tokenizer import BOS, EOS, PAD

# what search runs on: one model or an ensemble, with their memories and states
SearchModel = Seq2Seq | Ensemble
SearchMemory = Memory | EnsembleMemory
SearchState = DecoderState | EnsembleState


@dataclass
class Hypothesis:
    """One output sentence: ids without BOS/EOS, its log-probability (EOS included), and
    the score its search ranks by: divided by the GNMT length penalty in beam search, by
    the length (EOS included) in greedy search and sampling."""

    tokens: list[int]
    score: float
    normalized_score: float
    attention: torch.Tensor | None = None  # (len(tokens) + 1, src_len), last row for EOS


def max_lengths(src_len: torch.Tensor, ratio: float, extra: int) -> torch.Tensor:
    """Per-sentence output limit (tokens before EOS): ceil(ratio * src_len) + extra."""
    return torch.ceil(src_len.double() * ratio).long() + extra  # (batch,)


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ((5 + length) / 6) ** alpha; length counts EOS."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def sample_search(
    model: SearchModel, memory: SearchMemory, state: SearchState, max_len: torch.Tensor,
    temperature: float = 0.0, top_k: int = 0, return_attention: bool = False,
) -> list[list[Hypothesis]]:
    """Greedy search (temperature 0) or ancestral sampling (temperature > 0, optional
    top-k). Returns one hypothesis per sentence, each in a list for symmetry with beam."""
    batch, device = memory.mask.size(0), memory.mask.device
    sentences = torch.arange(batch, device=device)  # original index of each row still decoding
    prev = torch.full((batch,), BOS, dtype=torch.long, device=device)
    tokens: list[list[int]] = [[] for _ in range(batch)]
    scores = [0.0] * batch
    attention: list[list[torch.Tensor]] = [[] for _ in range(batch)]
    for t in range(int(max_len.max()) + 1):
        logits, state, weights = model.step(prev, state, memory)  # (rows, vocab), (rows, src)
        probs = _next_token_probs(logits, t, t >= max_len[sentences])  # (rows, vocab)
        choice = _choose(probs, temperature, top_k)  # (rows,)
        chosen_scores = probs.gather(1, choice.unsqueeze(1)).squeeze(1).log()
        for row, (b, token, score) in enumerate(
            zip(sentences.tolist(), choice.tolist(), chosen_scores.tolist())
        ):
            scores[b] += score
            if token != EOS:
                tokens[b].append(token)
            if return_attention:
                attention[b].append(weights[row])
        running = choice != EOS
        if not running.all():
            rows = running.nonzero().squeeze(1)
            sentences, prev = sentences[rows], choice[rows]
            memory, state = memory.select(rows), state.select(rows)
        else:
            prev = choice
        if len(sentences) == 0:
            break
    return [
        [Hypothesis(tokens[b], scores[b], scores[b] / (len(tokens[b]) + 1),
                    torch.stack(attention[b]) if return_attention else None)]
        for b in range(batch)
    ]


def _next_token_probs(logits: torch.Tensor, t: int, at_limit: torch.Tensor) -> torch.Tensor:
    """Softmax of logits (rows, vocab) at output position t, with the tokens that may not
    come next set to zero: PAD and BOS always; EOS first (an output is never empty, as
    with fairseq's default minimum length); everything but EOS in rows at their length
    limit (at_limit, (rows,)). Not renormalised, so scores equal forced decoding's
    log-probabilities."""
    probs = torch.softmax(logits, dim=-1)
    probs[:, [PAD, BOS]] = 0.0
    if t == 0:
        probs[~at_limit, EOS] = 0.0
    if at_limit.any():
        eos = probs[at_limit, EOS]
        probs[at_limit] = 0.0
        probs[at_limit, EOS] = eos
    return probs


def largest(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest values of each row of x (rows, n) and their columns, in no particular
    order: `torch.topk(x, k, sorted=False)`, but 2-4x faster on CPU for a vocabulary-wide
    x and a small k (the cost of topk grows with the elements it scans).

    The row is cut into chunks of c columns. The k largest values lie in the k chunks with
    the largest maxima (an element outside them is beaten by k chunk maxima), or in the
    last n mod c columns, so only those k*c + n mod c columns are searched.
    """
    rows, n = x.shape
    # c near sqrt(n/k) balances the chunk search (n/c) against the final one (k*c); a
    # multiple of 16 keeps the chunk maxima vectorised (c = 28 takes 4x longer than 32)
    c = max(32, 16 * round((n / k) ** 0.5 / 16))
    chunks = n // c
    if chunks < 4 * k:  # too narrow to gain
        return x.topk(k, dim=1, sorted=False)
    maxima = x[:, :chunks * c].view(rows, chunks, c).amax(-1)  # (rows, chunks)
    best = maxima.topk(k, dim=1, sorted=False).indices  # (rows, k)
    offsets = torch.arange(c, device=x.device)
    columns = (best.unsqueeze(-1) * c + offsets).view(rows, k * c)  # (rows, k*c)
    if chunks * c < n:
        rest = torch.arange(chunks * c, n, device=x.device).expand(rows, -1)
        columns = torch.cat([columns, rest], dim=1)
    values, where = x.gather(1, columns).topk(k, dim=1, sorted=False)  # (rows, k)
    return values, columns.gather(1, where)


def _choose(probs: torch.Tensor, temperature: float, top_k: int) -> torch.Tensor:
    """The most probable token (temperature 0), or a sample over the top k from
    probs ** (1 / temperature), i.e. softmax(logits / temperature). probs (rows, vocab)
    come from `_next_token_probs`. -> (rows,)"""
    if temperature <= 0:
        return largest(probs, 1)[1].squeeze(1)  # faster than max/argmax
    # scaled so each row's maximum is 1: no row underflows to all zeros at low temperature
    weights = (probs / probs.max(dim=-1, keepdim=True).values) ** (1.0 / temperature)
    if top_k > 0:
        kth = largest(weights, min(top_k, weights.size(-1)))[0].amin(dim=-1, keepdim=True)
        weights = weights.masked_fill(weights < kth, 0.0)
    return torch.multinomial(weights, 1).squeeze(1)


@torch.no_grad()
def beam_search(
    model: SearchModel, memory: SearchMemory, state: SearchState, max_len: torch.Tensor,
    beam_size: int, alpha: float = 0.6, nbest: int = 1, return_attention: bool = False,
) -> list[list[Hypothesis]]:
    """Batched beam search with GNMT length normalisation.

    A sentence is finished when `beam_size` hypotheses have ended with EOS, or at
    its length limit; its rows then leave the batch. Returns the `nbest` best
    hypotheses per sentence, best first, by normalised score.
    """
    batch, k, device = memory.mask.size(0), beam_size, memory.mask.device
    rows = torch.arange(batch, device=device).repeat_interleave(k)
    memory, state = memory.select(rows), state.select(rows)
    sentences = torch.arange(batch, device=device)  # original index of each sentence
    scores = torch.full((batch, k), float("-inf"), device=device)  # (sentences, beam)
    scores[:, 0] = 0.0
    history = torch.zeros(batch * k, 0, dtype=torch.long, device=device)  # (sent*beam, t)
    attn_history = torch.zeros(batch * k, 0, memory.mask.size(1), device=device)
    prev = torch.full((batch * k,), BOS, dtype=torch.long, device=device)
    beam_ranks = torch.arange(2 * k, device=device)  # rank of each candidate
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    for t in range(int(max_len.max()) + 1):
        logits, state, weights = model.step(prev, state, memory)  # (rows, vocab)
        at_limit = t >= max_len[sentences]  # (sentences,)
        probs = _next_token_probs(logits, t, at_limit.repeat_interleave(k))  # (rows, vocab)
        top_scores, origin_rows, token = _best_continuations(probs, scores)  # (n, 2k) each
        if return_attention:
            attn_history = torch.cat([attn_history, weights.unsqueeze(1)], dim=1)
        ended = (token == EOS) & (beam_ranks < k) & top_scores.isfinite()
        for i, j in ended.nonzero().tolist():
            row, score = int(origin_rows[i, j]), float(top_scores[i, j])
            finished[int(sentences[i])].append(Hypothesis(
                history[row].tolist(), score,
                score / length_penalty(history.size(1) + 1, alpha),  # length counts EOS
                attn_history[row].clone() if return_attention else None,
            ))
        # The best `k` candidates that did not end continue; EOS ones sort last.
        order = ((token == EOS).long() * 2 * k + beam_ranks).argsort(dim=1)[:, :k]
        scores = top_scores.gather(1, order)  # (sentences, beam)
        next_rows = origin_rows.gather(1, order).view(-1)  # (sentences*beam,)
        next_tokens = token.gather(1, order).view(-1)
        full = [len(finished[b]) >= k for b in sentences.tolist()]
        done = torch.tensor(full, device=device) | at_limit
        if done.all():
            break
        if done.any():  # memory rows are equal within a sentence: select only on drops
            keep = (~done).repeat_interleave(k)
            next_rows, next_tokens = next_rows[keep], next_tokens[keep]
            sentences, scores = sentences[~done], scores[~done]
            kept = (~done).nonzero() * k + beam_ranks[:k]  # (kept sentences, beam)
            memory = memory.select(kept.view(-1))
        history = torch.cat([history[next_rows], next_tokens.unsqueeze(1)], dim=1)
        if return_attention:
            attn_history = attn_history[next_rows]
        state, prev = state.select(next_rows), next_tokens
    return [
        sorted(hyps, key=lambda h: h.normalized_score, reverse=True)[:nbest]
        for hyps in finished
    ]


def _best_continuations(
    probs: torch.Tensor, scores: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The 2k best one-token extensions of each sentence's k hypotheses.

    probs (sentences*k, vocab) next-token probabilities, scores (sentences, k) the
    hypotheses' log-probabilities -> scores, rows of `probs` they extend, and tokens,
    each (sentences, 2k), best first.
    """
    n, k = scores.shape
    width = min(2 * k, probs.size(-1))
    # The best 2k continuations of a sentence are among the best 2k of each beam;
    # only those few need a log.
    row_probs, row_tokens = largest(probs, width)  # (n*k, width)
    candidates = (scores.view(-1, 1) + row_probs.log()).view(n, k * width)
    top_scores, top_ids = candidates.topk(2 * k, dim=1)  # (n, 2k)
    token = row_tokens.view(n, k * width).gather(1, top_ids)
    origin_rows = top_ids // width + (torch.arange(n, device=probs.device) * k).unsqueeze(1)
    return top_scores, origin_rows, token


def search(
    model: SearchModel, src: torch.Tensor, src_len: torch.Tensor, method: str, *,
    beam_size: int = 5, alpha: float = 0.6, nbest: int = 1, max_len_ratio: float = 2.0,
    max_len_extra: int = 10, temperature: float = 1.0, top_k: int = 0,
    return_attention: bool = False,
) -> list[list[Hypothesis]]:
    """Encode a padded source batch and search with `method` (greedy, beam, sample)."""
    memory, state = model.encode(src, src_len)
    limits = max_lengths(src_len, max_len_ratio, max_len_extra)
    if method == "beam":
        return beam_search(model, memory, state, limits, beam_size, alpha, nbest,
                           return_attention)
    temperature = 0.0 if method == "greedy" else temperature
    return sample_search(model, memory, state, limits, temperature, top_k, return_attention)

