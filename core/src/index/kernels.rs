//! Distance kernels and the base64 codec of saved vectors.
//!
//! The portable kernels keep 16 independent partial sums so the compiler can vectorise them
//! without reordering a single sum (float addition is not associative). On x86-64 CPUs with
//! AVX2+FMA, hand-written intrinsics are picked at run time (what hnswlib gets from
//! `-march=native`): one pair at a time for graph walks, blocks of queries x vectors for exact
//! scans.

const LANES: usize = 16;

#[inline(always)]
fn dot_body(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn l2_body(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx {
    /// One pair, two 8-lane FMA accumulators and a tree reduction: a graph search computes one
    /// distance at a time, so the final horizontal sum must be short (the portable body's
    /// 16-lane sequential sum cost as much as the products at 128 dims).
    #[target_feature(enable = "avx2,fma")]
    fn pair<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        // SAFETY (all loads): i + 8 <= n or i + 16 <= n, the length of both rows.
        while i + 16 <= n {
            let (x0, y0) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
            let (x1, y1) = unsafe {
                (
                    _mm256_loadu_ps(pa.add(i + 8)),
                    _mm256_loadu_ps(pb.add(i + 8)),
                )
            };
            if L2 {
                let (d0, d1) = (_mm256_sub_ps(x0, y0), _mm256_sub_ps(x1, y1));
                acc0 = _mm256_fmadd_ps(d0, d0, acc0);
                acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            } else {
                acc0 = _mm256_fmadd_ps(x0, y0, acc0);
                acc1 = _mm256_fmadd_ps(x1, y1, acc1);
            }
            i += 16;
        }
        if i + 8 <= n {
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
            if L2 {
                let d = _mm256_sub_ps(x, y);
                acc0 = _mm256_fmadd_ps(d, d, acc0);
            } else {
                acc0 = _mm256_fmadd_ps(x, y, acc0);
            }
            i += 8;
        }
        let mut s = hsum(_mm256_add_ps(acc0, acc1));
        for k in i..n {
            s += if L2 {
                (a[k] - b[k]) * (a[k] - b[k])
            } else {
                a[k] * b[k]
            };
        }
        s
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum(a: __m256) -> f32 {
        let s4 = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)))
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        pair::<false>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn l2(a: &[f32], b: &[f32]) -> f32 {
        pair::<true>(a, b)
    }

    use std::arch::x86_64::*;

    /// `Q` queries x `V` vectors, one 8-lane accumulator per pair, then a fixed-order
    /// horizontal sum and a scalar tail: the same arithmetic for a pair in any block shape.
    #[target_feature(enable = "avx2,fma")]
    fn tile<const Q: usize, const V: usize, const L2: bool>(
        qs: [&[f32]; Q],
        vs: [&[f32]; V],
    ) -> [[f32; V]; Q] {
        let n = qs
            .iter()
            .map(|q| q.len())
            .chain(vs.iter().map(|v| v.len()))
            .min()
            .unwrap_or(0);
        let body = n / 8 * 8;
        let mut acc = [[_mm256_setzero_ps(); V]; Q];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= body <= len of every row.
            let mut vv = [_mm256_setzero_ps(); V];
            for (x, v) in vv.iter_mut().zip(vs.iter()) {
                *x = unsafe { _mm256_loadu_ps(v.as_ptr().add(i)) };
            }
            for (a, q) in acc.iter_mut().zip(qs.iter()) {
                let qv = unsafe { _mm256_loadu_ps(q.as_ptr().add(i)) };
                for (aj, v) in a.iter_mut().zip(vv.iter()) {
                    *aj = if L2 {
                        let d = _mm256_sub_ps(qv, *v);
                        _mm256_fmadd_ps(d, d, *aj)
                    } else {
                        _mm256_fmadd_ps(qv, *v, *aj)
                    };
                }
            }
            i += 8;
        }
        let mut out = [[0.0f32; V]; Q];
        for (qi, q) in qs.iter().enumerate() {
            for (vj, v) in vs.iter().enumerate() {
                let mut tail = 0.0f32;
                for k in body..n {
                    tail += if L2 {
                        (q[k] - v[k]) * (q[k] - v[k])
                    } else {
                        q[k] * v[k]
                    };
                }
                out[qi][vj] = hsum(acc[qi][vj]) + tail;
            }
        }
        out
    }

    /// Asks for the next rows of a 4 x 2 pass ahead of time (the first query block over a tile
    /// reads it from memory).
    #[inline(always)]
    fn prefetch_row(v: &[f32]) {
        let p = v.as_ptr().cast::<i8>();
        for off in (0..v.len() * 4).step_by(64) {
            // SAFETY: a prefetch never faults; the address is inside the row anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }

    /// Vectors per pass for a lone query.
    const ONE_BY: usize = 4;

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn block(qs: &[&[f32]], vs: &[&[f32]], l2: bool, out: &mut [f32]) {
        if l2 {
            block_for::<true>(qs, vs, out)
        } else {
            block_for::<false>(qs, vs, out)
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn block_for<const L2: bool>(qs: &[&[f32]], vs: &[&[f32]], out: &mut [f32]) {
        let nv = vs.len();
        let mut i = 0;
        while i + 4 <= qs.len() {
            let q4 = [qs[i], qs[i + 1], qs[i + 2], qs[i + 3]];
            let mut j = 0;
            while j + 2 <= nv {
                for v in vs.iter().skip(j + 2).take(2) {
                    prefetch_row(v);
                }
                let r = tile::<4, 2, L2>(q4, [vs[j], vs[j + 1]]);
                for (a, row) in r.iter().enumerate() {
                    out[(i + a) * nv + j..(i + a) * nv + j + 2].copy_from_slice(row);
                }
                j += 2;
            }
            if j < nv {
                let r = tile::<4, 1, L2>(q4, [vs[j]]);
                for (a, row) in r.iter().enumerate() {
                    out[(i + a) * nv + j] = row[0];
                }
            }
            i += 4;
        }
        // Leftover queries (a lone query above all): 1 x 4 tiles, four independent sums in
        // flight where one pair at a time waits on its own chain of dependent multiply-adds.
        for (a, q) in qs.iter().enumerate().skip(i) {
            let mut j = 0;
            while j + ONE_BY <= nv {
                let r = tile::<1, ONE_BY, L2>([q], std::array::from_fn(|t| vs[j + t]));
                out[a * nv + j..a * nv + j + ONE_BY].copy_from_slice(&r[0]);
                j += ONE_BY;
            }
            for (jj, v) in vs.iter().enumerate().skip(j) {
                out[a * nv + jj] = tile::<1, 1, L2>([q], [v])[0][0];
            }
        }
    }

    pub(super) fn available() -> bool {
        // `is_x86_feature_detected!` caches its answer; this is one relaxed atomic load.
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
}

/// Inner product.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { avx::dot(a, b) };
    }
    portable_dot(a, b)
}

/// Squared Euclidean distance.
#[inline]
pub(crate) fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { avx::l2(a, b) };
    }
    portable_l2(a, b)
}

fn portable_dot(a: &[f32], b: &[f32]) -> f32 {
    dot_body(a, b)
}

fn portable_l2(a: &[f32], b: &[f32]) -> f32 {
    l2_body(a, b)
}

/// Keys of every (query, vector) pair of a block, written row-major to `out`
/// (`out[i * vs.len() + j]` for query `i`, vector `j`): squared L2 when `l2`, else the inner
/// product. Exact search runs on this: with AVX2+FMA it computes 4 queries x 2 vectors per pass
/// (8 independent accumulators, each loaded vector reused by 4 queries), which is what closes
/// most of the gap to a BLAS matrix product. Every pair is summed in the same order whatever
/// block it falls in, so one query alone scores bit-for-bit as it does inside a batch.
pub(crate) fn block(qs: &[&[f32]], vs: &[&[f32]], l2: bool, out: &mut [f32]) {
    debug_assert_eq!(out.len(), qs.len() * vs.len());
    #[cfg(target_arch = "x86_64")]
    if avx::available() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx::block(qs, vs, l2, out) };
        return;
    }
    let nv = vs.len();
    for (i, q) in qs.iter().enumerate() {
        for (j, v) in vs.iter().enumerate() {
            out[i * nv + j] = if l2 {
                portable_l2(q, v)
            } else {
                portable_dot(q, v)
            };
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Little-endian f32 bytes as standard base64 (a JSON string is ~3x smaller and ~20x faster to
/// read than a JSON array of decimal floats, and bit-exact).
pub(crate) fn f32s_to_base64(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(B64[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Inverse of [`f32s_to_base64`]; `None` on any malformed input.
pub(crate) fn base64_to_f32s(s: &str) -> Option<Vec<f32>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut rev = [255u8; 256];
    for (i, &c) in B64.iter().enumerate() {
        rev[c as usize] = i as u8;
    }
    let mut bytes = Vec::with_capacity(s.len() / 4 * 3);
    for (ci, c) in s.chunks(4).enumerate() {
        let last = ci == s.len() / 4 - 1;
        let pad = c.iter().rev().take_while(|&&x| x == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &x in &c[..4 - pad] {
            let v = rev[x as usize];
            if v == 255 {
                return None;
            }
            n = n << 6 | v as u32;
        }
        n <<= 6 * pad as u32;
        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        bytes.extend_from_slice(&b[..3 - pad]);
    }
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_naive_sums() {
        for n in [0, 1, 7, 16, 17, 100, 384] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 13 % 7) as f32 - 3.0) / 2.0).collect();
            let d: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let l: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!((dot(&a, &b) - d).abs() <= 1e-3 * (1.0 + d.abs()), "{n}");
            assert!(
                (portable_dot(&a, &b) - d).abs() <= 1e-3 * (1.0 + d.abs()),
                "{n}"
            );
            assert!((l2_squared(&a, &b) - l).abs() <= 1e-3 * (1.0 + l), "{n}");
            assert!((portable_l2(&a, &b) - l).abs() <= 1e-3 * (1.0 + l), "{n}");
        }
    }

    #[test]
    fn block_matches_pairs_and_is_shape_independent() {
        for d in [1, 7, 8, 19, 384] {
            let rows: Vec<Vec<f32>> = (0..11)
                .map(|r| {
                    (0..d)
                        .map(|i| ((i * 31 + r * 7) % 13) as f32 / 6.0 - 1.0)
                        .collect()
                })
                .collect();
            let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
            for l2 in [false, true] {
                let (qs, vs) = (&refs[..6], &refs[4..]);
                let mut all = vec![0.0; qs.len() * vs.len()];
                block(qs, vs, l2, &mut all);
                for (i, q) in qs.iter().enumerate() {
                    for (j, v) in vs.iter().enumerate() {
                        let want = if l2 { l2_squared(q, v) } else { dot(q, v) };
                        let got = all[i * vs.len() + j];
                        assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{d} {l2}");
                        // One pair alone gives the same bits as inside the block.
                        let mut one = [0.0];
                        block(&[q], &[v], l2, &mut one);
                        assert_eq!(one[0].to_bits(), got.to_bits(), "{d} {l2} {i} {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn base64_round_trips_bit_exactly() {
        for n in 0..7 {
            let v: Vec<f32> = (0..n)
                .map(|i| (i as f32 * 0.1).sin() * 1e-7 - 3.5)
                .collect();
            let back = base64_to_f32s(&f32s_to_base64(&v)).unwrap();
            assert_eq!(
                v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                back.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        assert!(base64_to_f32s("abc").is_none());
        assert!(base64_to_f32s("ab!d").is_none());
        assert!(base64_to_f32s("AAAA").is_none()); // 3 bytes is not whole f32s
    }
}
