"""lincat from Python: the hybrid attention kernels and converted models of the lincat toolkit.

    import lincat
    y = lincat.hybrid_attention(q, k, v, fq, fk, logits, window=64, mode="hybrid")
    model = lincat.load("converted/")
    logits = model.forward(torch.tensor(ids), attention="window")

torch is imported first: the extension hands tensors to torch's own Python bindings.
"""
import torch  # noqa: F401  (must be loaded before the extension)

from ._lincat import Model, diagnose, hybrid_attention

MODES = ("hybrid", "window", "linear", "sinks", "none", "overlap")
FORMS = ("chunked", "reference", "recurrent")


def load(path, dtype="float32", device="cpu"):
    """Loads a model directory (config.json + safetensors), original or converted."""
    return Model(str(path), dtype=dtype, device=device)


__all__ = ["Model", "load", "diagnose", "hybrid_attention", "MODES", "FORMS"]
