//! Distance kernels and the base64 codec of saved vectors.
//!
//! The kernels keep 16 independent partial sums so the compiler can vectorise them without
//! reordering a single sum (float addition is not associative). On x86-64 CPUs with AVX2+FMA the
//! same code is compiled a second time with those features enabled and picked at run time, which
//! is what hnswlib gets from `-march=native`.

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
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        super::dot_body(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn l2(a: &[f32], b: &[f32]) -> f32 {
        super::l2_body(a, b)
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
