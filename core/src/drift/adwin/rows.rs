//! The exponential histogram's rows of buckets, updated a block of values at a time.

/// Rows of buckets at most: a window of 2^64 values needs no more.
const ROWS: usize = 64;

/// Values added at a time: their variance increments, running sums and bucket merges are
/// computed array by array (the merges are the reference's, in a different order of time:
/// each merge's arithmetic depends only on its two buckets, and no check falls inside a block).
pub(super) const BLOCK: usize = 256;

/// `OFFSETS[i] = i + 1`: the width after the i-th value of a block, without a conversion.
pub(super) const OFFSETS: [f64; BLOCK] = {
    let mut o = [0.0; BLOCK];
    let mut i = 0;
    while i < BLOCK {
        o[i] = (i + 1) as f64;
        i += 1;
    }
    o
};

/// The exponential histogram's rows: row i holds up to `cap − 1` buckets of 2^i values (a row
/// that reaches `cap` is merged at once: its two oldest buckets become one of the next row),
/// oldest first, at `[i · stride, i · stride + len)` of `tot` and `var`. The room behind them
/// takes a block's incoming buckets, so a merge writes straight into the next row.
#[derive(Clone, Debug)]
pub(super) struct Rows {
    pub(super) cap: usize,
    /// `cap + BLOCK + 8`: a row's buckets, at most a block's incoming ones (a row of l < cap
    /// buckets and k incoming sends 1 + (l + k − cap) / 2 <= k up), and 8 to copy as a whole.
    pub(super) stride: usize,
    pub(super) tot: Vec<f64>,
    pub(super) var: Vec<f64>,
    pub(super) count: usize,
    pub(super) lens: [usize; ROWS],
}

impl Rows {
    pub(super) fn new(cap: usize) -> Self {
        let stride = cap + BLOCK + 8;
        Self {
            cap,
            stride,
            tot: vec![0.0; stride],
            var: vec![0.0; stride],
            count: 1,
            lens: [0; ROWS],
        }
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }

    pub(super) fn len(&self, i: usize) -> usize {
        self.lens[i % ROWS]
    }

    /// The k-th oldest bucket of row i.
    pub(super) fn get(&self, i: usize, k: usize) -> [f64; 2] {
        let at = i * self.stride + k;
        [self.tot[at], self.var[at]]
    }

    pub(super) fn add_row(&mut self) {
        self.count += 1;
        self.tot.resize(self.count * self.stride, 0.0);
        self.var.resize(self.count * self.stride, 0.0);
    }

    /// Appends a bucket to row i (a new top row when i is the row count); for loading only (no
    /// merge).
    pub(super) fn push(&mut self, i: usize, [t, v]: [f64; 2]) {
        if i == self.count {
            self.add_row();
        }
        let at = i * self.stride + self.len(i);
        (self.tot[at], self.var[at]) = (t, v);
        self.lens[i % ROWS] += 1;
    }

    /// Removes the oldest bucket of row i.
    pub(super) fn pop_front(&mut self, i: usize) {
        let (a, len) = (i * self.stride, self.len(i));
        self.tot.copy_within(a + 1..a + len, a);
        self.var.copy_within(a + 1..a + len, a);
        self.lens[i % ROWS] -= 1;
    }

    pub(super) fn pop_row(&mut self) {
        self.count -= 1;
        self.lens[self.count % ROWS] = 0;
        self.tot.truncate(self.count * self.stride);
        self.var.truncate(self.count * self.stride);
    }

    /// Adds up to [`BLOCK`] values to row 0 (variance 0 each) and merges as the reference does
    /// one value at a time: a row that reaches `cap` merges its two oldest buckets into the next
    /// row, so of a row's l buckets and k incoming ones the first 2m pair up, m = 1 + (l + k −
    /// cap) / 2 when l + k reaches `cap`, and the rest stay.
    pub(super) fn add(&mut self, xs: &[f64]) {
        const ZEROS: [f64; BLOCK] = [0.0; BLOCK];
        let (cap, stride) = (self.cap, self.stride);
        let k = xs.len().min(BLOCK);
        let l0 = self.lens[0];
        if let [x] = xs {
            // One value (`update`): no copy call.
            (self.tot[l0], self.var[l0]) = (*x, 0.0);
        } else {
            self.tot[l0..l0 + k].copy_from_slice(&xs[..k]);
            self.var[l0..l0 + k].copy_from_slice(&ZEROS[..k]);
        }
        let (mut i, mut total) = (0, l0 + k);
        while total >= cap {
            let m = 1 + (total - cap) / 2;
            if i + 1 == self.count {
                self.add_row();
            }
            let (a, up) = (i * stride, self.lens[(i + 1) % ROWS]);
            {
                let (t, tt) = self.tot.split_at_mut(a + stride);
                let (v, vv) = self.var.split_at_mut(a + stride);
                let (st, sv) = (&t[a..a + 2 * m], &v[a..a + 2 * m]);
                let (ot, ov) = (&mut tt[up..up + m], &mut vv[up..up + m]);
                // 2^i and 2^-i from their bits (i < 63). Dividing by the bucket size is
                // multiplying by its exact reciprocal: the same bits as the reference's division.
                let n1 = f64::from_bits((1023 + i as u64) << 52);
                let inv = f64::from_bits((1023 - i as u64) << 52);
                let half = n1 * 0.5;
                // Two merges at a time, written out, so they pair up in SSE2 registers.
                let pairs = (st.chunks_exact(4).zip(sv.chunks_exact(4)))
                    .zip(ot.chunks_exact_mut(2).zip(ov.chunks_exact_mut(2)));
                for ((a, b), (t, v)) in pairs {
                    let (mu1, mu2) = ([a[0] * inv, a[2] * inv], [a[1] * inv, a[3] * inv]);
                    let d = [mu1[0] - mu2[0], mu1[1] - mu2[1]];
                    t.copy_from_slice(&[a[0] + a[1], a[2] + a[3]]);
                    v.copy_from_slice(&[
                        b[0] + b[1] + half * d[0] * d[0],
                        b[2] + b[3] + half * d[1] * d[1],
                    ]);
                }
                let j = m & !1;
                if j < m {
                    let (t0, t1, v0, v1) = (st[2 * j], st[2 * j + 1], sv[2 * j], sv[2 * j + 1]);
                    let (mu1, mu2) = (t0 * inv, t1 * inv);
                    ot[j] = t0 + t1;
                    ov[j] = v0 + v1 + half * (mu1 - mu2) * (mu1 - mu2);
                }
            }
            // What stays moves to the front: with up to 8, as one fixed-size copy (no call).
            let rest = total - 2 * m;
            let from = a + 2 * m;
            if rest <= 8 {
                self.tot.copy_within(from..from + 8, a);
                self.var.copy_within(from..from + 8, a);
            } else {
                self.tot.copy_within(from..from + rest, a);
                self.var.copy_within(from..from + rest, a);
            }
            self.lens[i % ROWS] = rest;
            i += 1;
            total = up + m;
        }
        self.lens[i % ROWS] = total;
    }
}
