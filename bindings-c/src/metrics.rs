//! `fl_merge_prometheus`: several objects' Prometheus texts served as one scrape. Conversions only.

use std::ffi::c_char;

use crate::{FlStatus, guard, out_arg, owned_c_string, str_array_arg};

/// Several objects' `fl_*_metrics_prometheus` texts as one scrape: each family once (one
/// `# HELP`/`# TYPE` block), its samples told apart by the label `name` (`names[i]` for
/// `texts[i]`), as the Python and Node collectors report objects registered under those names.
/// Concatenating the texts instead repeats those lines and, for two objects of one kind, the
/// same series, which Prometheus rejects. `FL_STATUS_INVALID_INPUT` when a name is empty or
/// repeated, a text is not in the text format or already has a `name` label, or two texts give
/// one family different types.
///
/// `names` and `texts` are arrays of `n` borrowed strings. On success `*text` owns the merged
/// text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_merge_prometheus(
    names: *const *const c_char,
    texts: *const *const c_char,
    n: usize,
    text: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(text, "text") }?;
        let names = unsafe { str_array_arg(names, n, "names") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let parts: Vec<(&str, &str)> = names.into_iter().zip(texts).collect();
        *out = owned_c_string(faultlens::metrics::merge_prometheus(&parts)?)?;
        Ok(())
    })
}
