"""Fixtures for the Python module's tests: the built program, the test data, a converted model."""
import json
import os
import shutil
import struct
import subprocess

import pytest
import torch

BINARY = os.environ.get("LINCAT_BINARY", "lincat")
TEST_DATA = os.environ.get("LINCAT_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
LLAMA = os.path.join(TEST_DATA, "hf-reference", "llama-gqa")  # 4 heads, 2 kv heads, head_dim 16, 2 layers

torch.set_num_threads(1)  # tiny tensors: one thread is fastest and leaves the machine to others


def run_lincat(*args):
    """Runs the built `lincat` program on one thread, as the tests run torch (the same reductions,
    so the same bits); fails the test with its stderr when it fails."""
    environment = dict(os.environ, LINCAT_THREADS="1")
    result = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, f"lincat {' '.join(map(str, args))}: {result.stderr}"
    return result.stdout


def read_safetensors(path):
    """The F32 tensors of a safetensors file (the format is an 8-byte header length, a JSON header, data)."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_length])
    data = blob[8 + header_length :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: {entry['dtype']}"
        begin, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    return tensors


@pytest.fixture(scope="session")
def converted_model(tmp_path_factory):
    """The llama-gqa fixture converted (window 8, feature dim 8), with a tokenizer."""
    directory = tmp_path_factory.mktemp("converted")
    run_lincat("convert-init", LLAMA, "--out", directory, "--window", 8, "--feature-dim", 8)
    shutil.copy(os.path.join(TEST_DATA, "tokenizer", "tiny.model"), directory / "tokenizer.model")
    return directory
