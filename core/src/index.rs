//! Similarity search over vectors and texts on HNSW (issue 4).
