"""lincat.load(...): forward equals the `lincat forward` program in every mode, generate follows
the logits, the linear share and diagnose reports come back as Python objects."""
import os

import pytest
import torch

import lincat
from conftest import LLAMA, TEST_DATA, read_safetensors, run_lincat

IDS = [3, 17, 250, 9, 42, 7, 101, 5, 77, 13, 2, 60, 33, 8]  # longer than the window of 8


@pytest.mark.parametrize("attention", [None, "hybrid", "window", "linear", "sinks", "none", "overlap", "softmax"])
def test_forward_equals_the_program(converted_model, tmp_path, attention):
    model = lincat.load(converted_model)
    ours = model.forward(torch.tensor(IDS), attention=attention)
    flags = [] if attention is None else ["--attention", attention]
    run_lincat("forward", converted_model, "--ids", ",".join(map(str, IDS)), "--out", tmp_path / "logits.safetensors", *flags)
    expected = read_safetensors(tmp_path / "logits.safetensors")["logits"]
    assert ours.shape == (len(IDS), model.config["vocab_size"]) and ours.dtype == torch.float32
    assert torch.equal(ours, expected)


def test_forward_of_original_model_and_batches(tmp_path):
    model = lincat.load(LLAMA)
    assert model.default_mode == "softmax"
    batch = torch.tensor([IDS, list(reversed(IDS))])
    logits = model.forward(batch)
    assert logits.shape == (2, len(IDS), 512)
    assert torch.allclose(logits[1], model.forward(batch[1]), atol=1e-5)


def test_generate_is_greedy_over_the_logits(converted_model):
    model = lincat.load(converted_model)
    new = model.generate(IDS, max_new_tokens=4, stop_at_eos=False)
    assert len(new) == 4
    for step, token in enumerate(new):
        logits = model.forward(torch.tensor(IDS + new[:step]))
        assert token == int(logits[-1].argmax())


def test_encode_decode_and_linear_share(converted_model):
    model = lincat.load(converted_model)
    ids = model.encode("the cat sat on the mat and then the dog sat on the log all day long")
    assert ids[0] == model.config["bos_token_id"]
    assert "cat" in model.decode(ids[1:])
    usage = model.linear_share([IDS * 2])
    assert len(usage["linear_share"]) == model.config["num_hidden_layers"]
    assert all(len(layer) == model.config["num_attention_heads"] for layer in usage["linear_share"])
    assert all(0 < share < 1 for layer in usage["linear_share"] for share in layer)
    assert usage["first_linear_position"] == 8


def test_diagnose_returns_the_report(converted_model):
    model, base = lincat.load(converted_model), lincat.load(LLAMA)
    report = lincat.diagnose(model, base, tasks=["piqa"], data_dir=os.path.join(TEST_DATA, "eval"), limit=2,
                             probe_items=1, max_probe_distance=16)
    assert {"base", "hybrid", "window", "linear", "sinks", "none"} <= set(report["modes"])
    assert report["modes"]["hybrid"]["tasks"]["piqa"]["samples"] == 2
    assert report["verdict"] in ("used", "collapsed", "linear_only")
    assert len(report["linear_share"]) == model.config["num_hidden_layers"]


def test_bad_input_raises_value_error(converted_model, tmp_path):
    model = lincat.load(converted_model)
    with pytest.raises(ValueError, match="ids"):
        model.forward(torch.tensor([1, 100000]))
    with pytest.raises(ValueError, match="int64"):
        model.forward(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="model directory not found"):
        lincat.load(tmp_path / "absent")
    with pytest.raises(ValueError, match="convert it first"):
        lincat.load(LLAMA).forward(torch.tensor(IDS), attention="hybrid")
