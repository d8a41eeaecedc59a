//! Arguments converted by the binding, not by napi-rs, so that a wrong type names the argument
//! (napi-rs says only "Failed to convert JavaScript value `Undefined` into rust type `String`")
//! and a string that is not valid Unicode is refused instead of silently altered.
//!
//! JavaScript strings are UTF-16 and may hold a lone surrogate (half of a pair, e.g. from
//! slicing an emoji in two). Node's UTF-8 conversion replaces it with U+FFFD, so the text the core
//! would see differs from the caller's; such a string is refused with `InvalidInput` naming the
//! argument and the position (docs/errors.md).

use napi::bindgen_prelude::{
    FromNapiValue, JsObjectValue, JsValue, Object, Unknown, Utf16String, ValueType,
};

use crate::error::{Result, binding};

fn invalid(message: String) -> napi::Error<String> {
    binding("InvalidInput", format!("invalid input: {message}"))
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::External => "an external",
        ValueType::BigInt => "a bigint",
        _ => "an unknown value",
    }
}

fn kind(v: &Unknown) -> Result<ValueType> {
    v.get_type().map_err(|e| invalid(e.reason))
}

/// A string argument. `what` is its name in the message (`texts[3]` for an array element).
pub fn string(v: &Unknown, what: &str) -> Result<String> {
    let t = kind(v)?;
    if t != ValueType::String {
        return Err(invalid(format!(
            "`{what}` must be a string, got {}",
            type_name(t)
        )));
    }
    // SAFETY: the value was just checked to be a string.
    let s: String = unsafe { v.cast() }.map_err(|e| invalid(e.reason))?;
    // A lone surrogate arrives as U+FFFD: only then is the UTF-16 text read to tell it from a
    // real U+FFFD.
    if s.contains('\u{FFFD}') {
        // SAFETY: as above.
        let units: Utf16String = unsafe { v.cast() }.map_err(|e| invalid(e.reason))?;
        if let Some((at, unit)) = lone_surrogate(&units) {
            return Err(invalid(format!(
                "`{what}` holds a lone surrogate (U+{unit:04X} at UTF-16 index {at}), which is not \
                 valid Unicode text"
            )));
        }
    }
    Ok(s)
}

/// The first unpaired surrogate: its UTF-16 index and code unit.
fn lone_surrogate(units: &[u16]) -> Option<(usize, u16)> {
    let mut at = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => at += c.len_utf16(),
            Err(e) => return Some((at, e.unpaired_surrogate())),
        }
    }
    None
}

/// The elements of an array argument, each converted by `item` with its name `what[i]`.
fn array<T>(v: &Unknown, what: &str, item: impl Fn(&Unknown, &str) -> Result<T>) -> Result<Vec<T>> {
    let t = kind(v)?;
    let not_array = || invalid(format!("`{what}` must be an array, got {}", type_name(t)));
    if t != ValueType::Object {
        return Err(not_array());
    }
    // SAFETY: the value was just checked to be an object.
    let obj: Object = unsafe { v.cast() }.map_err(|e| invalid(e.reason))?;
    if !obj.is_array().map_err(|e| invalid(e.reason))? {
        return Err(invalid(format!("`{what}` must be an array, got an object")));
    }
    let n = obj.get_array_length().map_err(|e| invalid(e.reason))?;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let x: Unknown = obj.get_element(i).map_err(|e| invalid(e.reason))?;
        out.push(item(&x, &format!("{what}[{i}]"))?);
    }
    Ok(out)
}

/// An array of strings.
pub fn strings(v: &Unknown, what: &str) -> Result<Vec<String>> {
    array(v, what, string)
}

/// An array of arrays of strings (token lists).
pub fn string_lists(v: &Unknown, what: &str) -> Result<Vec<Vec<String>>> {
    array(v, what, strings)
}

/// An object argument napi-rs converts (a typed array, an options record): a value of another
/// type, or an object napi-rs cannot read as `T`, is refused naming the argument and `expected`.
pub fn value<T: FromNapiValue>(v: &Unknown, what: &str, expected: &str) -> Result<T> {
    let t = kind(v)?;
    if t != ValueType::Object {
        return Err(invalid(format!(
            "`{what}` must be {expected}, got {}",
            type_name(t)
        )));
    }
    // SAFETY: `cast` runs `T`'s own checked conversion on a live value of this call.
    unsafe { v.cast::<T>() }.map_err(|e| {
        // SAFETY: the value was checked to be an object.
        let array = unsafe { v.cast::<Object>() }.is_ok_and(|o| o.is_array().unwrap_or(false));
        if array {
            invalid(format!("`{what}` must be {expected}, got an array"))
        } else {
            invalid(format!("`{what}` is not {expected}: {}", e.reason))
        }
    })
}

/// An array of objects, each converted as [`value`].
pub fn values<T: FromNapiValue>(v: &Unknown, what: &str, expected: &str) -> Result<Vec<T>> {
    array(v, what, |x, w| value(x, w, expected))
}

#[cfg(test)]
mod tests {
    use super::lone_surrogate;

    #[test]
    fn lone_surrogates_are_found_and_pairs_are_not() {
        let pair: Vec<u16> = "a😀b".encode_utf16().collect();
        assert_eq!(lone_surrogate(&pair), None);
        assert_eq!(lone_surrogate(&[0x61, 0xD83D, 0x62]), Some((1, 0xD83D)));
        assert_eq!(lone_surrogate(&[0xDE00]), Some((0, 0xDE00)));
        assert_eq!(lone_surrogate(&[0x61, 0x62, 0xD83D]), Some((2, 0xD83D)));
    }
}
