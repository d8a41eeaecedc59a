// A stand-in for the platform's embedding model (the plan calls an Ollama endpoint): character
// 3-grams hashed into DIM buckets, L2-normalised. It is deterministic and needs no download, so
// the example and its tests run offline; swap `embed` for your model's client (any fixed width,
// set DIM to it). Similar spellings get similar vectors; it knows no synonyms, as a real model would.
export const DIM = 128

export function embedOne(text) {
  const v = new Float32Array(DIM)
  const s = ` ${text.toLowerCase().replace(/\s+/g, ' ').trim()} `
  for (let i = 0; i + 3 <= s.length; i++) {
    let h = 0x811c9dc5 // FNV-1a, 32-bit
    for (let j = i; j < i + 3; j++) {
      h ^= s.charCodeAt(j)
      h = Math.imul(h, 0x01000193) >>> 0
    }
    v[h % DIM] += 1
  }
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  for (let i = 0; i < DIM; i++) v[i] /= norm
  return v
}

/** Row-major `texts.length x DIM` vectors, as faultlens takes them. */
export function embed(texts) {
  const out = new Float32Array(texts.length * DIM)
  texts.forEach((t, i) => out.set(embedOne(t), i * DIM))
  return out
}
