#!/usr/bin/env python3
"""Wall time of the commands users wait on with 1 thread, 2 threads and lincat's own choice.

For each model and command the three settings run in turn, their order rotating from round to
round, so that a change in the machine's load falls on all three alike: compare the ratios, not
the absolute times. Prints a markdown table and writes JSON.

    scripts/bench_threads.py [--rounds N] [--out out/bench]    # after scripts/build.sh
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINCAT = os.path.join(ROOT, "build", "lincat")
FIXTURE = os.path.join(ROOT, "tests/data/hf-reference/llama-gqa")
TEACHER = os.path.join(ROOT, "models/teacher")
TINY_TOKENIZER = os.path.join(ROOT, "tests/data/tokenizer/tiny.model")
EVAL_DATA = os.path.join(ROOT, "tests/data/eval")
TRAIN_TEXT = os.path.join(ROOT, "data/convert/train.txt")
SETTINGS = ["1", "2", "default"]


def run(args, threads, scratch):
    """Seconds the command took, and the thread count it reported (--verbose)."""
    env = dict(os.environ)
    env.pop("LINCAT_THREADS", None)
    if threads != "default":
        env["LINCAT_THREADS"] = threads
    start = time.monotonic()
    result = subprocess.run([LINCAT] + args + ["--verbose"], env=env, cwd=scratch,
                            capture_output=True, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"failed: lincat {' '.join(args)}\n{result.stderr}")
    chosen = re.search(r"threads: (\d+)", result.stderr)
    return seconds, int(chosen.group(1)) if chosen else None


def commands(model, tokenizer, ids, scratch):
    """(name, arguments) of the measured commands for one model."""
    out = os.path.join(scratch, "out")
    return [
        ("forward (128 tokens)", ["forward", model, "--ids", ids, "--out", os.path.join(scratch, "l.safetensors")]),
        ("generate (128 + 32 tokens)", ["generate", model, "--ids", ids, "--max-new-tokens", "32"]),
        ("eval (hellaswag, 20 items)", ["eval", model, "--tokenizer", tokenizer, "--data-dir", EVAL_DATA,
                                        "--tasks", "hellaswag", "--limit", "20"]),
        ("convert (1 stage-1 step, 256 tokens)",
         ["convert", model, "--recipe", "lolcats", "--data", TRAIN_TEXT, "--tokenizer", tokenizer, "--out", out,
          "--stage1-steps", "1", "--stage2-steps", "0", "--set", "data.sequence_length=256",
          "--set", "data.tokens_per_step=256", "--set", f"data.cache_dir={scratch}/cache"]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "out/bench"))
    parser.add_argument("--models", default="fixture,teacher,random-100m,attention",
                        help="comma-separated: fixture, teacher, random-100m, attention (a Llama-7B layer)")
    options = parser.parse_args()
    options.out = os.path.abspath(options.out)  # the commands run in a scratch directory
    os.makedirs(options.out, exist_ok=True)
    random_model = os.path.join(options.out, "random-100m")
    if "random-100m" in options.models and not os.path.exists(os.path.join(random_model, "config.json")):
        subprocess.run([LINCAT, "random-model", "--params", "100000000", "--out", random_model], check=True,
                       capture_output=True)
    models = {"fixture": (FIXTURE, TINY_TOKENIZER, 512), "teacher": (TEACHER, os.path.join(TEACHER, "tokenizer.model"), 4096),
              "random-100m": (random_model, TINY_TOKENIZER, 32000)}
    jobs = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.models.split(","):
            if name == "attention":
                continue
            if name not in models:
                sys.exit(f"--models: unknown model '{name}' (fixture, teacher, random-100m, attention)")
            model, tokenizer, vocab = models[name]
            ids = ",".join(str((7 * i + 3) % min(vocab, 512)) for i in range(128))
            jobs += [(name, command, args) for command, args in commands(model, tokenizer, ids, scratch)]
        if "attention" in options.models.split(","):
            jobs.append(("Llama-7B layer", "bench attention (n = 4096)",
                         ["bench", "attention", "--min-length", "4096", "--max-length", "4096", "--repetitions", "1"]))
        times = {(model, command): {s: [] for s in SETTINGS} for model, command, _ in jobs}
        chosen = {}
        for round_index in range(options.rounds):
            order = SETTINGS[round_index % 3:] + SETTINGS[:round_index % 3]
            for model, command, args in jobs:
                for setting in order:
                    subprocess.run(["rm", "-rf", os.path.join(scratch, "out")])
                    seconds, threads = run(args, setting, scratch)
                    times[(model, command)][setting].append(seconds)
                    if setting == "default":
                        chosen[(model, command)] = threads
    rows = []
    print("| model | command | 1 thread s | 2 threads s | default s (threads) | default / best of 1, 2 |")
    print("|---|---|---:|---:|---:|---:|")
    for (model, command), by_setting in times.items():
        median = {s: statistics.median(v) for s, v in by_setting.items()}
        ratio = median["default"] / min(median["1"], median["2"])
        threads = chosen.get((model, command))
        print(f"| {model} | {command} | {median['1']:.2f} | {median['2']:.2f} | {median['default']:.2f} ({threads}) "
              f"| {ratio:.2f} |")
        rows.append({"model": model, "command": command, "median_seconds": median, "seconds": by_setting,
                     "default_threads": threads, "default_over_best": ratio})
    with open(os.path.join(options.out, "threads.json.tmp"), "w") as f:
        json.dump({"rounds": options.rounds, "cores": os.cpu_count(), "rows": rows}, f, indent=2)
    os.replace(os.path.join(options.out, "threads.json.tmp"), os.path.join(options.out, "threads.json"))


if __name__ == "__main__":
    main()
