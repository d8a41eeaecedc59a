//! The quantised scan: every stored vector as int8 codes, scanned with integer kernels for the
//! best `rerank` candidates, which are then scored exactly in f32.
//!
//! A scan of f32 vectors is bound by memory: 20,000 x 128 vectors are 10 MB per query. Codes
//! are a quarter of that and their products are integers, so the candidate pass reads 4x fewer
//! bytes and its AVX2 kernel handles 32 components per instruction. The rerank uses the exact
//! scan's own kernel, so a returned score has the same bits an exact scan gives the same vector.
//!
//! Each vector gets its own scale (`max |x| / 127`), so codes span -127..=127 whatever the
//! vector's length (cosine stores unit vectors; dot products keep lengths): a per-dimension scale
//! would need the data's ranges up front and drift as vectors are added. The query is coded the
//! same way, and the approximate inner product is `scale_q * scale_v * sum(code_q * code_v)`.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Codes per 32-byte AVX2 load: rows are padded with zero codes to a multiple of this.
const CHUNK: usize = 32;
/// Rows scored per pass before their approximate keys meet the candidate heap.
const PASS: usize = 256;

/// The int8 codes of every stored node (tombstones included, as in `Store::vectors`).
#[derive(Clone, Debug, Default)]
pub(super) struct Codes {
    /// Bytes per row: `dim` rounded up to a multiple of 32.
    stride: usize,
    codes: Vec<i8>,
    /// Per row: the value of one code step.
    scales: Vec<f32>,
    /// Per row: the squared length (l2 only: `|q - v|^2` ranks as `|v|^2 - 2 q.v`).
    sq_norms: Vec<f32>,
    l2: bool,
}

impl Codes {
    /// Codes of every row of `vectors` (one pass).
    pub(super) fn build(vectors: &[f32], dim: usize, l2: bool) -> Self {
        let mut c = Self {
            stride: dim.div_ceil(CHUNK) * CHUNK,
            l2,
            ..Self::default()
        };
        let n = vectors.len() / dim.max(1);
        c.codes.reserve(n * c.stride);
        c.scales.reserve(n);
        for row in vectors.chunks_exact(dim) {
            c.push(row);
        }
        c
    }

    /// Appends the codes of one more row.
    pub(super) fn push(&mut self, row: &[f32]) {
        let at = self.codes.len();
        self.codes.resize(at + self.stride, 0);
        self.scales.push(quantize(row, &mut self.codes[at..]));
        if self.l2 {
            self.sq_norms.push(kernels::dot(row, row));
        }
    }

    /// Rows coded.
    pub(super) fn len(&self) -> usize {
        self.scales.len()
    }

    /// Heap bytes the codes hold.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.codes.len() + 4 * (self.scales.len() + self.sq_norms.len())
    }
}

/// Codes `row` into `out` (its length a multiple of 32; the tail stays zero) and returns the
/// value of one step. Codes stay within -127..=127 (the AVX2 kernel's products of two codes then
/// sum in pairs without saturating an i16).
fn quantize(row: &[f32], out: &mut [i8]) -> f32 {
    let max = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return 0.0;
    }
    let step = max / 127.0;
    let inv = 127.0 / max;
    for (o, &x) in out.iter_mut().zip(row) {
        *o = (x * inv).round().clamp(-127.0, 127.0) as i8;
    }
    step
}

/// `out[j] = sum(q[i] * rows[j * stride + i])` for every row (exact integer sums: the AVX2 and
/// portable paths give the same numbers).
pub(super) fn dots(q: &[i8], rows: &[i8], stride: usize, out: &mut [i32]) {
    debug_assert_eq!(rows.len(), out.len() * stride);
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { avx::dots(q, rows, stride, out) };
        return;
    }
    portable_dots(q, rows, stride, out);
}

pub(super) fn portable_dots(q: &[i8], rows: &[i8], stride: usize, out: &mut [i32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(stride)) {
        *o = q
            .iter()
            .zip(row)
            .map(|(&a, &b)| i32::from(a) * i32::from(b))
            .sum();
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx2")
    }

    /// One query x 4 rows per pass: the query's 32 codes are loaded once for four rows. The
    /// products go through `maddubs` (unsigned x signed bytes): |q| times v with q's sign moved
    /// onto v is q x v, and two products of codes within +-127 fit an i16.
    #[target_feature(enable = "avx2")]
    pub(super) fn dots(q: &[i8], rows: &[i8], stride: usize, out: &mut [i32]) {
        let chunks = stride / super::CHUNK;
        let n = out.len().min(rows.len() / stride.max(1));
        let ones = _mm256_set1_epi16(1);
        let (qp, rp) = (q.as_ptr(), rows.as_ptr());
        let mut j = 0;
        while j + 4 <= n {
            let mut acc = [_mm256_setzero_si256(); 4];
            for c in 0..chunks {
                // SAFETY (all loads): q holds `stride` codes and rows hold `n * stride`.
                let qv = unsafe { _mm256_loadu_si256(qp.add(c * 32).cast()) };
                let qa = _mm256_abs_epi8(qv);
                for (t, a) in acc.iter_mut().enumerate() {
                    let v = unsafe { _mm256_loadu_si256(rp.add((j + t) * stride + c * 32).cast()) };
                    let p = _mm256_maddubs_epi16(qa, _mm256_sign_epi8(v, qv));
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(p, ones));
                }
            }
            let h = _mm256_hadd_epi32(
                _mm256_hadd_epi32(acc[0], acc[1]),
                _mm256_hadd_epi32(acc[2], acc[3]),
            );
            let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            let mut four = [0i32; 4];
            // SAFETY: `four` holds 16 bytes.
            unsafe { _mm_storeu_si128(four.as_mut_ptr().cast(), s) };
            out[j..j + 4].copy_from_slice(&four);
            j += 4;
        }
        for (jj, o) in out.iter_mut().enumerate().take(n).skip(j) {
            let mut acc = _mm256_setzero_si256();
            for c in 0..chunks {
                let (qv, v) = unsafe {
                    (
                        _mm256_loadu_si256(qp.add(c * 32).cast()),
                        _mm256_loadu_si256(rp.add(jj * stride + c * 32).cast()),
                    )
                };
                let p = _mm256_maddubs_epi16(_mm256_abs_epi8(qv), _mm256_sign_epi8(v, qv));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
            }
            let s = _mm_add_epi32(
                _mm256_castsi256_si128(acc),
                _mm256_extracti128_si256(acc, 1),
            );
            let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
            *o = _mm_cvtsi128_si32(s);
        }
    }
}

impl SimilarityIndex {
    /// The `r` nodes whose approximate keys (from the codes) are lowest, in that order (ties by
    /// node). A prefix of this list is the list for a smaller `r`.
    pub(super) fn quant_candidates(
        &self,
        s: &Store,
        c: &Codes,
        q: &[f32],
        r: usize,
    ) -> Vec<Scored> {
        let n = c.len().min(s.n_nodes());
        if r == 0 || n == 0 {
            return Vec::new();
        }
        let r = r.min(n);
        let stride = c.stride;
        let mut qc = vec![0i8; stride];
        let q_step = quantize(q, &mut qc);
        let all_live = s.live_nodes == s.n_nodes();
        let mut heap: BinaryHeap<Scored> = BinaryHeap::with_capacity(r + 1);
        let mut raw = [0i32; PASS];
        let mut first = 0;
        while first < n {
            let m = PASS.min(n - first);
            dots(
                &qc,
                &c.codes[first * stride..(first + m) * stride],
                stride,
                &mut raw[..m],
            );
            for (i, &dot) in raw[..m].iter().enumerate() {
                let node = first + i;
                let ip = q_step * c.scales[node] * dot as f32;
                let key = if c.l2 {
                    c.sq_norms[node] - 2.0 * ip
                } else {
                    -ip
                };
                if heap.len() == r
                    && heap
                        .peek()
                        .is_some_and(|top| key.total_cmp(&top.key).is_ge())
                {
                    continue;
                }
                if !all_live && s.node_ids[node].is_empty() {
                    continue;
                }
                if heap.len() == r {
                    heap.pop();
                }
                heap.push(Scored {
                    key,
                    node: node as u32,
                });
            }
            first += m;
        }
        heap.into_sorted_vec()
    }

    /// The `k` best of `candidates` by exact key (the exact scan's kernel: the same bits), best
    /// first, ties by node.
    pub(super) fn rerank(
        &self,
        s: &Store,
        q: &[f32],
        candidates: &[Scored],
        k: usize,
    ) -> Vec<Scored> {
        let d = self.config.dim;
        let l2 = self.config.metric == Metric::L2;
        let rows: Vec<&[f32]> = candidates
            .iter()
            .map(|sc| &s.vectors[sc.node as usize * d..(sc.node as usize + 1) * d])
            .collect();
        let mut keys = vec![0.0f32; rows.len()];
        kernels::block(&[q], &rows, l2, &mut keys);
        let mut out: Vec<Scored> = candidates
            .iter()
            .zip(keys)
            .map(|(sc, x)| Scored {
                key: if l2 { x } else { -x },
                node: sc.node,
            })
            .collect();
        out.sort_unstable();
        out.truncate(k);
        out
    }

    /// The quantised search: `rerank` (at least `k`) candidates from the codes, the best `k` of
    /// them by exact key.
    pub(super) fn quant_nodes(
        &self,
        s: &Store,
        c: &Codes,
        q: &[f32],
        k: usize,
        rerank: usize,
    ) -> Vec<Scored> {
        let cands = self.quant_candidates(s, c, q, rerank.max(k));
        self.rerank(s, q, &cands, k)
    }

    /// Codes to match `t`: built (one pass over the vectors) when it chooses the quantised scan,
    /// dropped when it does not. The codes are in place before a search can see the tuning ask
    /// for them, and a search that finds none scans exactly.
    pub(super) fn apply_tuning(&self, t: Tuning) -> Result<()> {
        if t.rerank > 0 {
            let mut s = self.write()?;
            if s.codes.as_ref().is_none_or(|c| c.len() != s.n_nodes()) {
                let codes = Codes::build(
                    &s.vectors,
                    self.config.dim,
                    self.config.metric == Metric::L2,
                );
                s.codes = Some(codes);
            }
            drop(s);
            self.set_tuning(t)
        } else {
            self.set_tuning(t)?;
            self.write()?.codes = None;
            Ok(())
        }
    }

    /// Bytes the int8 codes add (0 unless the quantised scan is chosen): `n x dim` rounded up
    /// to 32 per vector, plus 4 bytes of scale per vector (8 under l2).
    #[cfg(test)]
    pub(super) fn code_bytes(&self) -> usize {
        self.read()
            .ok()
            .and_then(|s| s.codes.as_ref().map(Codes::bytes))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(n: usize, seed: &mut u64) -> Vec<i8> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                // Anywhere in -127..=127, often at the extremes.
                match (*seed >> 33) % 8 {
                    0 => 127,
                    1 => -127,
                    _ => (((*seed >> 40) % 255) as i32 - 127) as i8,
                }
            })
            .collect()
    }

    #[test]
    fn avx2_and_portable_dots_agree_exactly() {
        let mut seed = 0x51ed_0001;
        for stride in [32, 64, 128, 384, 416] {
            for n in [0, 1, 3, 4, 5, 9, 257] {
                let q = codes(stride, &mut seed);
                let rows = codes(n * stride, &mut seed);
                let mut a = vec![0; n];
                let mut b = vec![0; n];
                dots(&q, &rows, stride, &mut a);
                portable_dots(&q, &rows, stride, &mut b);
                assert_eq!(a, b, "stride {stride}, {n} rows");
                // And the extremes: every product 127 x 127 or -127 x 127.
                let q = vec![127i8; stride];
                let rows: Vec<i8> = (0..n * stride)
                    .map(|i| if i % 3 == 0 { -127 } else { 127 })
                    .collect();
                dots(&q, &rows, stride, &mut a);
                portable_dots(&q, &rows, stride, &mut b);
                assert_eq!(a, b, "extremes, stride {stride}, {n} rows");
            }
        }
        #[cfg(target_arch = "x86_64")]
        if !avx::available() {
            eprintln!("no AVX2 on this CPU: only the portable path ran");
        }
    }

    #[test]
    fn quantize_keeps_codes_in_range_and_pads_with_zero() {
        let row = [1.0f32, -1.0, 0.5, -0.25, 0.0];
        let mut out = [0i8; 32];
        let step = quantize(&row, &mut out);
        assert_eq!(step, 1.0 / 127.0);
        assert_eq!(&out[..5], &[127, -127, 64, -32, 0]);
        assert!(out[5..].iter().all(|&x| x == 0));
        let mut z = [0i8; 32];
        assert_eq!(quantize(&[0.0; 3], &mut z), 0.0);
    }
}
