//! Sliding-window aggregation over event time and incidents (issue 7).
