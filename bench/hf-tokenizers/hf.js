#!/usr/bin/env node
// Drives HF tokenizers (Rust, through the @anush008/tokenizers napi binding, version pinned in package.json)
// for the polyv tokenizer benchmark and for generating reference encodings.
//
//   node hf.js bench TOKENIZER_JSON DOCS_JSON IDS_OUT REPS
//     DOCS_JSON is a JSON array of strings. Encodes them all with encodeBatch (add_special_tokens=false)
//     REPS times after one warm-up batch; threads come from RAYON_NUM_THREADS (set by the caller).
//     Writes the ids of the last repetition to IDS_OUT (little-endian int32: for each doc its count, then ids)
//     and prints one JSON line {"seconds": [...], "bytes": N, "tokens": N}.
//   node hf.js encode TOKENIZER_JSON TEXTS_JSON OUT_JSON
//     Writes {"tokenizer": "...", "samples": [{"text", "ids", "decoded"}]} for the given texts.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

async function bench(tokPath, docsPath, idsOut, reps) {
  const tok = Tokenizer.fromFile(tokPath);
  const docs = JSON.parse(fs.readFileSync(docsPath, 'utf8'));
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
  const opts = { addSpecialTokens: false };
  let encs = await tok.encodeBatch(docs, opts); // warm-up
  const seconds = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    encs = await tok.encodeBatch(docs, opts);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  let tokens = 0;
  const all = encs.map((e) => e.getIds());
  for (const ids of all) tokens += ids.length;
  const buf = Buffer.alloc(4 * (all.length + tokens));
  let off = 0;
  for (const ids of all) {
    buf.writeInt32LE(ids.length, off); off += 4;
    for (const id of ids) { buf.writeInt32LE(id, off); off += 4; }
  }
  fs.writeFileSync(idsOut, buf);
  console.log(JSON.stringify({ seconds, bytes, tokens, docs: docs.length }));
}

async function encode(tokPath, textsPath, outPath) {
  const tok = Tokenizer.fromFile(tokPath);
  const texts = JSON.parse(fs.readFileSync(textsPath, 'utf8'));
  const samples = [];
  for (const text of texts) {
    const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    samples.push({ text, ids: Array.from(ids), decoded: await tok.decode(Array.from(ids), false) });
  }
  fs.writeFileSync(outPath, JSON.stringify({ tokenizer: 'HF tokenizers via @anush008/tokenizers 0.6.0', samples }, null, 1) + '\n');
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === 'bench' ? bench(args[0], args[1], args[2], parseInt(args[3] || '5', 10))
  : mode === 'encode' ? encode(args[0], args[1], args[2])
  : Promise.reject(new Error('usage: hf.js bench|encode ...'));
run.catch((e) => { console.error('hf.js: ' + (e && e.stack || e)); process.exit(2); });
