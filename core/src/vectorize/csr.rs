//! [`CsrMatrix`], the sparse rows every vectoriser call returns.

/// A sparse matrix in compressed sparse row form, laid out as scipy's `csr_matrix`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsrMatrix {
    /// Row `i` holds entries `indptr[i]..indptr[i + 1]`; length `n_rows + 1`.
    pub indptr: Vec<usize>,
    /// Column of each stored entry, ascending within a row.
    pub indices: Vec<u32>,
    /// Value of each stored entry.
    pub data: Vec<f64>,
    /// Number of rows (documents).
    pub n_rows: usize,
    /// Number of columns (features).
    pub n_cols: usize,
}

impl CsrMatrix {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// The matrix as dense rows (for small matrices, tests and display).
    pub fn to_dense(&self) -> Vec<Vec<f64>> {
        (0..self.n_rows)
            .map(|i| {
                let mut r = vec![0.0; self.n_cols];
                let (idx, val) = self.row(i);
                for (&j, &v) in idx.iter().zip(val) {
                    r[j as usize] = v;
                }
                r
            })
            .collect()
    }

    /// Cosine similarity of row `i` of `self` and row `j` of `other` (0 when either row is empty).
    pub fn cosine(&self, i: usize, other: &CsrMatrix, j: usize) -> f64 {
        let (ai, av) = self.row(i);
        let (bi, bv) = other.row(j);
        let (mut p, mut q, mut dot) = (0, 0, 0.0);
        while p < ai.len() && q < bi.len() {
            match ai[p].cmp(&bi[q]) {
                std::cmp::Ordering::Less => p += 1,
                std::cmp::Ordering::Greater => q += 1,
                std::cmp::Ordering::Equal => {
                    dot += av[p] * bv[q];
                    p += 1;
                    q += 1;
                }
            }
        }
        let na = av.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nb = bv.iter().map(|x| x * x).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            dot / (na * nb)
        }
    }

    /// Row `i` is `rows[slot[i]]`.
    pub(super) fn from_shared_rows(
        rows: &[(Vec<u32>, Vec<f64>)],
        slot: &[usize],
        n_cols: usize,
    ) -> Self {
        let nnz = slot.iter().map(|&r| rows[r].0.len()).sum();
        let mut m = CsrMatrix {
            indptr: Vec::with_capacity(slot.len() + 1),
            indices: Vec::with_capacity(nnz),
            data: Vec::with_capacity(nnz),
            n_rows: slot.len(),
            n_cols,
        };
        m.indptr.push(0);
        for &r in slot {
            m.indices.extend_from_slice(&rows[r].0);
            m.data.extend_from_slice(&rows[r].1);
            m.indptr.push(m.indices.len());
        }
        m
    }

    pub(super) fn from_rows(rows: Vec<(Vec<u32>, Vec<f64>)>, n_cols: usize) -> Self {
        let nnz = rows.iter().map(|r| r.0.len()).sum();
        let mut m = CsrMatrix {
            indptr: Vec::with_capacity(rows.len() + 1),
            indices: Vec::with_capacity(nnz),
            data: Vec::with_capacity(nnz),
            n_rows: rows.len(),
            n_cols,
        };
        m.indptr.push(0);
        for (idx, val) in rows {
            m.indices.extend_from_slice(&idx);
            m.data.extend_from_slice(&val);
            m.indptr.push(m.indices.len());
        }
        m
    }
}
