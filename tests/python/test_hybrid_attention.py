"""lincat.hybrid_attention against a plain PyTorch reference written here from docs/algorithms.md
sections 2-5: outputs and gradients in float64, every mode and layout, GQA, sequences shorter than
the window and not a multiple of it, each form."""
import itertools
import math

import pytest
import torch

import lincat

WINDOW = 4
HEADS, KV_HEADS, HEAD_DIM, FEATURES = 4, 2, 6, 5
SINKS_MODE_KEYS = 3


def feature_map(x, projection, bias, kind):
    """phi(x): x [B, H, T, d] -> [B, H, T, F]."""
    if kind == "elu1":
        return 1 + torch.nn.functional.elu(x)
    if kind == "relu":
        return torch.relu(x)
    xa = torch.einsum("bhtd,hdf->bhtf", x, projection)
    if kind == "hedgehog":
        return torch.cat([torch.softmax(xa, -1), torch.softmax(-xa, -1)], -1).clamp_min(1e-12)
    if kind == "hedgehog_exp":
        shift = xa.abs().amax(-1, keepdim=True)
        return torch.cat([torch.exp(xa - shift), torch.exp(-xa - shift)], -1)
    assert kind == "t2r"
    return torch.relu(xa + bias[None, :, None, :])


def key_sets(length, mode, layout, sinks, window):
    """Boolean [T, T] masks: the keys of query i in the softmax branch and in the linear branch."""
    i = torch.arange(length)[:, None]
    j = torch.arange(length)[None, :]
    causal = j <= i
    if layout == "standard":
        recent = j > i - window
    else:  # terraced: the query's own block of `window` keys plus the whole previous block
        recent = (j // window) >= (i // window) - 1
    window = causal & (recent | (j < sinks))
    nothing = torch.zeros_like(causal)
    softmax_set = {"hybrid": window, "window": window, "overlap": window,
                   "sinks": causal & (j < SINKS_MODE_KEYS)}.get(mode, nothing)
    linear_set = {"hybrid": causal & ~window, "linear": causal, "overlap": causal}.get(mode, nothing)
    return softmax_set, linear_set


def reference(q, k, v, fq, fk, logits, mode, layout, sinks, kind="hedgehog", bq=None, bk=None, window=WINDOW):
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, 1)  # key/value head of query head h: h // groups
    v = v.repeat_interleave(groups, 1)
    length = q.shape[2]
    softmax_set, linear_set = key_sets(length, mode, layout, sinks, window)
    terms = torch.zeros(q.shape[0], q.shape[1], length, length, dtype=q.dtype)
    if softmax_set.any():
        scores = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).masked_fill(~softmax_set, -math.inf)
        top = scores.amax(-1, keepdim=True).clamp_min(-1e300)  # rows without keys: exp(-inf) = 0
        # gamma weighs the softmax terms where a linear branch shares the normaliser
        weight = torch.sigmoid(logits)[None, :, None, None] if mode in ("hybrid", "overlap") else 1.0
        terms = terms + weight * torch.exp(scores - top)
    if linear_set.any():
        phi_q, phi_k = feature_map(q, fq, bq, kind), feature_map(k, fk, bk, kind)
        terms = terms + (phi_q @ phi_k.transpose(-1, -2)) * linear_set
    return (terms @ v) / terms.sum(-1, keepdim=True).clamp_min(1e-6)


def inputs(length, kind="hedgehog", seed=0):
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)

    q, k, v = rand(2, HEADS, length, HEAD_DIM), rand(2, KV_HEADS, length, HEAD_DIM), rand(2, KV_HEADS, length, HEAD_DIM)
    fq = fk = bq = bk = None
    if kind in ("hedgehog", "hedgehog_exp", "t2r"):
        fq, fk = rand(HEADS, HEAD_DIM, FEATURES), rand(HEADS, HEAD_DIM, FEATURES)
    if kind == "t2r":
        bq, bk = rand(HEADS, FEATURES), rand(HEADS, FEATURES)
    logits = rand(HEADS)
    return q, k, v, fq, fk, logits, bq, bk


def leaves(tensors):
    return [t for t in tensors if t is not None]


def gradients(output, direction, wrt):
    """d(output . direction)/d(each of wrt), zeros where the output does not depend on it."""
    if not output.requires_grad:  # e.g. mode none: a constant zero
        return [torch.zeros_like(t) for t in wrt]
    grads = torch.autograd.grad((output * direction).sum(), wrt, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(wrt, grads)]


MODES = ["hybrid", "window", "linear", "sinks", "none", "overlap"]
LENGTHS = [3, 11, 12]  # shorter than the window, not a multiple of it, a multiple of it
CASES = list(itertools.product(MODES, ["standard", "terraced"], [0, 2], LENGTHS))


@pytest.mark.parametrize("form", ["chunked", "reference"])
@pytest.mark.parametrize("mode,layout,sinks,length", CASES)
def test_outputs_and_gradients_match_reference(form, mode, layout, sinks, length):
    q, k, v, fq, fk, logits, _, _ = inputs(length, seed=length)
    ours = lincat.hybrid_attention(q, k, v, fq, fk, logits, window=WINDOW, mode=mode, layout=layout, sinks=sinks,
                                   form=form, sinks_mode_keys=SINKS_MODE_KEYS)
    expected = reference(q, k, v, fq, fk, logits, mode, layout, sinks)
    assert ours.shape == (2, HEADS, length, HEAD_DIM) and ours.dtype == torch.float64
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)

    direction = torch.randn(ours.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    wrt = leaves([q, k, v, fq, fk, logits])
    for name, a, b in zip(["q", "k", "v", "fq", "fk", "logits"], gradients(ours, direction, wrt),
                          gradients(expected, direction, wrt)):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=f"gradient of {name}")


@pytest.mark.parametrize("mode,layout,sinks,length", CASES)
def test_recurrent_form_matches_reference(mode, layout, sinks, length):
    q, k, v, fq, fk, logits, _, _ = inputs(length, seed=length)
    ours = lincat.hybrid_attention(q, k, v, fq, fk, logits, window=WINDOW, mode=mode, layout=layout, sinks=sinks,
                                   form="recurrent", sinks_mode_keys=SINKS_MODE_KEYS)
    with torch.no_grad():
        expected = reference(q, k, v, fq, fk, logits, mode, layout, sinks)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)
    assert not ours.requires_grad  # inference only


@pytest.mark.parametrize("kind", ["hedgehog", "hedgehog_exp", "t2r", "elu1", "relu"])
def test_every_feature_map(kind):
    q, k, v, fq, fk, logits, bq, bk = inputs(11, kind)
    ours = lincat.hybrid_attention(q, k, v, fq, fk, logits, window=WINDOW, feature_map=kind, bias_q=bq, bias_k=bk)
    expected = reference(q, k, v, fq, fk, logits, "hybrid", "standard", 0, kind, bq, bk)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)
    wrt = leaves([q, k, v, fq, fk, logits, bq, bk])
    ones = torch.ones_like(expected)
    for a, b in zip(gradients(ours, ones, wrt), gradients(expected, ones, wrt)):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_float32_inputs_keep_their_dtype():
    q, k, v, fq, fk, logits, _, _ = inputs(9)
    ours = lincat.hybrid_attention(*(t.detach().float() for t in (q, k, v, fq, fk, logits)), window=WINDOW)
    assert ours.dtype == torch.float32
    expected = reference(q, k, v, fq, fk, logits, "hybrid", "standard", 0)
    torch.testing.assert_close(ours.double(), expected.detach(), rtol=1e-4, atol=1e-5)


def test_defaults_are_the_documented_ones():
    q, k, v, fq, fk, logits, _, _ = inputs(70)  # longer than the default window of 64
    ours = lincat.hybrid_attention(q, k, v, fq, fk, logits)
    expected = reference(q, k, v, fq, fk, logits, "hybrid", "standard", 0, window=64)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(window_logits=torch.zeros(3, dtype=torch.float64)), "window_logits has shape [3], expected [4]"),
    (lambda a: a.update(k=torch.zeros(2, 3, 5, HEAD_DIM, dtype=torch.float64),
                        v=torch.zeros(2, 3, 5, HEAD_DIM, dtype=torch.float64)), "k's heads (3) must divide q's (4)"),
    (lambda a: a.update(mode="softmax"), "attention mode 'softmax'"),
    (lambda a: a.update(mode="hybird"), "hybird"),
    (lambda a: a.update(form="fast"), "unknown form 'fast'"),
    (lambda a: a.update(feature_map_k=None), "needs feature_map_q and feature_map_k"),
])
def test_bad_input_raises_value_error_naming_it(change, message):
    q, k, v, fq, fk, logits, _, _ = inputs(5)
    arguments = dict(q=q, k=k, v=v, feature_map_q=fq, feature_map_k=fk, window_logits=logits, window=WINDOW)
    change(arguments)
    with pytest.raises(ValueError) as error:
        lincat.hybrid_attention(**arguments)
    assert message in str(error.value)
