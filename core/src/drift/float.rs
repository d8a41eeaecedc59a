//! A lossless JSON form for `f64` state that may legitimately be infinite (Page-Hinkley's running
//! minimum starts at +inf). JSON has no infinity: serde_json writes `null`, which then fails to
//! load, so a fresh detector's save could not be read back. Here a finite value stays a plain
//! number and a non-finite one becomes the string `"inf"`, `"-inf"` or `"nan"`.

use serde::Serializer;
use serde::de::{self, Deserializer, Visitor};

pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("nan")
    } else if *x > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// Reads a number or one of the three strings; `null` is `null_as` (what files written before
/// this encoding hold for a non-finite value).
struct Lossless {
    null_as: Option<f64>,
}

impl Visitor<'_> for Lossless {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number, \"inf\", \"-inf\" or \"nan\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        self.null_as
            .ok_or_else(|| E::invalid_type(de::Unexpected::Unit, &self))
    }
}

/// A number or a non-finite string, with `null` read as +inf: a running minimum that was still +inf when an
/// older version saved it.
pub(super) fn deserialize_null_as_inf<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(Lossless {
        null_as: Some(f64::INFINITY),
    })
}
