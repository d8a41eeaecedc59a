//! Conversions between JavaScript option objects and the core's serde config structs.
//!
//! Options arrive as JSON (napi's `serde-json` feature: integral numbers become JSON integers,
//! others floats), keys are renamed camelCase → snake_case at every depth, and serde builds the
//! core struct, whose `deny_unknown_fields` rejects unknown keys. `config()` goes back the other
//! way. Nothing here knows what a field means, with one exception documented on
//! [`config_to_js`].

use napi::bindgen_prelude::{Function, JsObjectValue, JsValue, Object, Unknown, ValueType};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Result, invalid_config};

/// `ngramRange` → `ngram_range` (ASCII upper-case letters start a new word).
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `ngram_range` → `ngramRange`.
pub fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Renames every object key of `v`, at every depth.
fn rename_keys(v: Value, rename: &dyn Fn(&str) -> String) -> Result<Value> {
    Ok(match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, x) in m {
                insert_once(&mut out, &k, rename(&k), rename_keys(x, rename)?)?;
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| rename_keys(x, rename))
                .collect::<Result<_>>()?,
        ),
        other => other,
    })
}

fn insert_once(out: &mut Map<String, Value>, given: &str, key: String, v: Value) -> Result<()> {
    if out.contains_key(&key) {
        return Err(invalid_config(format!(
            "option `{given}` is given twice (as camelCase and snake_case)"
        )));
    }
    out.insert(key, v);
    Ok(())
}

/// The options argument of a constructor as snake_case JSON, ready for [`from_snake`].
///
/// `undefined`/`null` (or no argument) is `{}`: every field at its default. Object keys are
/// renamed camelCase → snake_case at every depth; keys whose value is `undefined` are left out
/// (as if absent); numbers that are integers become JSON integers, others floats (`minDf: 2` is
/// a count, `minDf: 0.5` a fraction). A `Preprocessor` instance stands for its config.
/// Anything else that JSON cannot hold (functions, symbols, non-finite numbers) is
/// `InvalidConfig`, as is a non-object argument.
pub fn options_json(options: Option<Unknown>) -> Result<Value> {
    let Some(options) = options else {
        return Ok(Value::Object(Map::new()));
    };
    match js_to_json(&options, "options", 0)? {
        Some(v @ Value::Object(_)) => Ok(v),
        Some(Value::Null) | None => Ok(Value::Object(Map::new())),
        Some(other) => Err(invalid_config(format!(
            "options must be an object, got {other}"
        ))),
    }
}

/// Deepest nesting of an options object (configs nest three levels); it also stops cycles.
const MAX_DEPTH: usize = 32;

/// `None` for `undefined`.
fn js_to_json(v: &Unknown, path: &str, depth: usize) -> Result<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(invalid_config(format!(
            "`{path}` is nested more than {MAX_DEPTH} levels deep (a cycle?)"
        )));
    }
    let kind = v.get_type().map_err(invalid_config)?;
    // SAFETY (every `cast` below): the value's type was just checked to be the one cast to.
    Ok(Some(match kind {
        ValueType::Undefined => return Ok(None),
        ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { v.cast::<bool>() }.map_err(invalid_config)?),
        ValueType::String => Value::String(unsafe { v.cast::<String>() }.map_err(invalid_config)?),
        ValueType::Number => {
            let f = unsafe { v.cast::<f64>() }.map_err(invalid_config)?;
            number(f)
                .ok_or_else(|| invalid_config(format!("`{path}` is {f}, not a finite number")))?
        }
        ValueType::Object => {
            let obj: Object = unsafe { v.cast() }.map_err(invalid_config)?;
            if let Some(config) = preprocessor_config(&obj)? {
                return js_to_json(&config, path, depth + 1);
            }
            if obj.is_array().map_err(invalid_config)? {
                let n = obj.get_array_length().map_err(invalid_config)?;
                let mut items = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let x: Unknown = obj.get_element(i).map_err(invalid_config)?;
                    items.push(
                        js_to_json(&x, &format!("{path}[{i}]"), depth + 1)?.unwrap_or(Value::Null),
                    );
                }
                Value::Array(items)
            } else {
                let mut out = Map::new();
                for key in Object::keys(&obj).map_err(invalid_config)? {
                    let Some(x) = obj.get::<Unknown>(&key).map_err(invalid_config)? else {
                        continue;
                    };
                    if let Some(x) = js_to_json(&x, &format!("{path}.{key}"), depth + 1)? {
                        insert_once(&mut out, &key, snake_case(&key), x)?;
                    }
                }
                Value::Object(out)
            }
        }
        other => {
            return Err(invalid_config(format!(
                "`{path}` is a {other:?}, which an option cannot be"
            )));
        }
    }))
}

/// The `config()` of a faultlens `Preprocessor` given as an option (`preprocessor: new
/// Preprocessor(...)`), which stands for its config; `None` for any other object. Recognised by
/// its class name and method, so that conversions depend on no binding class above them.
fn preprocessor_config<'env>(obj: &Object<'env>) -> Result<Option<Unknown<'env>>> {
    let Some(ctor) = obj.get::<Object>("constructor").map_err(invalid_config)? else {
        return Ok(None);
    };
    if ctor.get::<String>("name").ok().flatten().as_deref() != Some("Preprocessor") {
        return Ok(None);
    }
    let Ok(Some(config)) = obj.get::<Function<(), Unknown>>("config") else {
        return Ok(None);
    };
    config.apply(obj, ()).map(Some).map_err(invalid_config)
}

/// A JS number as JSON: an integer when it is one (within 2^53), else a float.
fn number(f: f64) -> Option<Value> {
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.fract() == 0.0 && f.abs() <= SAFE {
        Some(if f >= 0.0 {
            Value::from(f as u64)
        } else {
            Value::from(f as i64)
        })
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

/// Snake_case JSON → a core config struct. serde's message (unknown field, wrong type) is kept,
/// with the field names it quotes in backticks put back in camelCase, as the caller wrote them.
pub fn from_snake<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| invalid_config(camel_quoted(&e.to_string())))
}

/// `` unknown field `min_dff` `` → `` unknown field `minDff` ``.
fn camel_quoted(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                camel_case(part)
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A core config struct → a JS-ready object with camelCase keys. (The core already writes a
/// whole-number df fraction as `{fraction: 1}`, since JavaScript would read `1.0` back as a count.)
pub fn config_to_js<T: Serialize>(config: &T) -> Result<Value> {
    let v = serde_json::to_value(config).map_err(invalid_config)?;
    rename_keys(v, &camel_case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_cases_round_trip() {
        for (camel, snake) in [
            ("ngramRange", "ngram_range"),
            ("minDf", "min_df"),
            ("stemmer", "stemmer"),
            ("extraStopWords", "extra_stop_words"),
        ] {
            assert_eq!(snake_case(camel), snake);
            assert_eq!(camel_case(snake), camel);
        }
    }

    #[test]
    fn serde_messages_name_camel_case_fields() {
        assert_eq!(
            camel_quoted("unknown field `min_dff`, expected one of `ngram_range`, `norm`"),
            "unknown field `minDff`, expected one of `ngramRange`, `norm`"
        );
    }

    #[test]
    fn numbers_and_fractions() {
        assert_eq!(number(2.0), Some(serde_json::json!(2)));
        assert_eq!(number(0.5), Some(serde_json::json!(0.5)));
        assert_eq!(number(f64::NAN), None);
        let c = config_to_js(&faultlens::TfidfConfig::default()).ok();
        assert_eq!(
            c.as_ref().map(|c| c["maxDf"].clone()),
            Some(serde_json::json!({"fraction": 1.0}))
        );
        assert_eq!(c.map(|c| c["minDf"].clone()), Some(serde_json::json!(1)));
    }
}
