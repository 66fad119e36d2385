// The @lenml/tokenizers side of scripts/bench_tokenizer.sh: encodes and decodes FILE (as one
// text, like `lincat bench tokenize`) and prints one JSON line with the MB/s.
// usage: node bench_tokenizer.js LENML_TOKENIZERS_DIR TOKENIZER_DIR FILE REPETITIONS
'use strict';
const fs = require('fs');
const path = require('path');
const [lib, dir, file, repetitions] = process.argv.slice(2);
const {TokenizerLoader} = require(path.join(lib, 'dist', 'main.js'));
const loadStart = process.hrtime.bigint();
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
});
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const loadSeconds = seconds(loadStart);
const text = fs.readFileSync(file, 'utf8');
const megabytes = Buffer.byteLength(text, 'utf8') / 1e6;
const encode = [], decode = [];
let ids = [];
for (let r = 0; r < Number(repetitions); ++r) {
  let start = process.hrtime.bigint();
  ids = tokenizer.encode(text, {add_special_tokens: false});
  encode.push(seconds(start));
  start = process.hrtime.bigint();
  tokenizer.decode(ids, {clean_up_tokenization_spaces: false});
  decode.push(seconds(start));
}
console.log(JSON.stringify({
  tokens: ids.length, load_seconds: loadSeconds, encode_seconds: encode, decode_seconds: decode,
  encode_mb_per_s_first: megabytes / encode[0], encode_mb_per_s_best: megabytes / Math.min(...encode),
  decode_mb_per_s_best: megabytes / Math.min(...decode),
}));
