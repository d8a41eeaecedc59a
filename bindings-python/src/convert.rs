//! Conversions between Python values and the JSON data model the core configs deserialize from.
//!
//! Keyword arguments become a JSON object that serde turns into the core config struct, so Python
//! uses exactly the Rust field names and `deny_unknown_fields` rejects unknown keywords. `int`
//! stays an integer and `float` a float (`min_df=2` is a count, `min_df=0.5` a fraction).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::error::Failure;

/// A Python value as JSON: `None`, `bool`, `int`, `float`, `str`, `list`/`tuple`, `dict` with
/// `str` keys, and a `Preprocessor` (its config). `Err` names the unsupported type.
pub(crate) fn py_to_json(v: &Bound<'_, PyAny>) -> Result<Value, String> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int subclass.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if v.cast::<PyInt>().is_ok() {
        return int_to_json(v);
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| format!("{} is not a finite number", f.value()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return s
            .to_cow()
            .map(|s| Value::String(s.into_owned()))
            .map_err(|e| e.to_string());
    }
    if let Ok(l) = v.cast::<PyList>() {
        return l
            .iter()
            .map(|x| py_to_json(&x))
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t
            .iter()
            .map(|x| py_to_json(&x))
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, x) in d.iter() {
            let k: String = k
                .extract()
                .map_err(|_| "dict keys must be str".to_owned())?;
            m.insert(k, py_to_json(&x)?);
        }
        return Ok(Value::Object(m));
    }
    // A `faultlens.Preprocessor` given as a config value (`preprocessor=Preprocessor(...)`)
    // stands for its configuration. Found by its class, not by type, so that conversions depend
    // on no binding class above them.
    if is_preprocessor(v) {
        let config = v.call_method0("config").map_err(|e| e.to_string())?;
        return py_to_json(&config);
    }
    // Integer-like scalars that are not `int` (numpy.int64, ...) go through `__index__`.
    if v.hasattr("__index__").unwrap_or(false) {
        return int_to_json(v);
    }
    let type_name = v
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Err(format!("unsupported value of type `{type_name}`"))
}

fn is_preprocessor(v: &Bound<'_, PyAny>) -> bool {
    let t = v.get_type();
    t.module().is_ok_and(|m| m == "faultlens") && t.name().is_ok_and(|n| n == "Preprocessor")
}

fn int_to_json(v: &Bound<'_, PyAny>) -> Result<Value, String> {
    if let Ok(u) = v.extract::<u64>() {
        return Ok(Value::from(u));
    }
    v.extract::<i64>()
        .map(Value::from)
        .map_err(|_| format!("integer {v} is out of range"))
}

/// A JSON value as Python: objects become `dict`, arrays `list`, integers `int`, others `float`.
pub(crate) fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.into_pyobject(py)?.into_any(),
            (None, Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, None, f) => f.unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Any serialisable core value (config, file info) as Python data.
pub(crate) fn to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    json_to_py(py, &value)
}

/// Keyword arguments as a JSON object. `rename_value` lets a class translate a Python idiom
/// before serde sees it (e.g. `norm=None` → `"none"`); it gets the key and the converted value.
pub(crate) fn kwargs_to_json(
    kwargs: Option<&Bound<'_, PyDict>>,
    rename_value: impl Fn(&str, Value) -> Value,
) -> Result<Map<String, Value>, Failure> {
    let mut m = Map::new();
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            let key: String = k
                .extract()
                .map_err(|_| Failure::invalid_config("keyword names must be str".into()))?;
            let value = py_to_json(&v).map_err(|reason| {
                Failure::invalid_config(format!("invalid config `{key}`: {reason}"))
            })?;
            let value = rename_value(&key, value);
            m.insert(key, value);
        }
    }
    Ok(m)
}

/// Deserializes a core config from a JSON object. serde's own messages do not say which field a
/// type error is about, so on failure each field is tried alone and the first failing one is
/// named, in the core's `invalid config `<field>`: <reason>` form.
pub(crate) fn decode_config<T: DeserializeOwned>(m: Map<String, Value>) -> Result<T, Failure> {
    match serde_json::from_value::<T>(Value::Object(m.clone())) {
        Ok(c) => Ok(c),
        Err(all) => {
            for (k, v) in m {
                let one = Map::from_iter([(k.clone(), v)]);
                if let Err(e) = serde_json::from_value::<T>(Value::Object(one)) {
                    return Err(Failure::invalid_config(format!(
                        "invalid config `{k}`: {e}"
                    )));
                }
            }
            Err(Failure::invalid_config(format!("invalid config: {all}")))
        }
    }
}

/// `Name(field=value, ...)` listing the fields that differ from the default config, as
/// scikit-learn prints estimators.
pub(crate) fn repr_config<T: serde::Serialize>(
    py: Python<'_>,
    name: &str,
    config: &T,
    default: &T,
) -> PyResult<String> {
    let err = |e: serde_json::Error| pyo3::exceptions::PyRuntimeError::new_err(e.to_string());
    let (Value::Object(cur), Value::Object(def)) = (
        serde_json::to_value(config).map_err(err)?,
        serde_json::to_value(default).map_err(err)?,
    ) else {
        return Ok(format!("{name}()"));
    };
    let mut parts = Vec::new();
    for (k, v) in &cur {
        let shown = match (v, def.get(k)) {
            (v, Some(d)) if v == d => continue,
            // A nested config (the vectorizer's preprocessor) also shows only what it changes.
            (Value::Object(o), Some(Value::Object(d))) => Value::Object(
                o.iter()
                    .filter(|(k, v)| d.get(k.as_str()) != Some(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            (v, _) => v.clone(),
        };
        parts.push(format!("{k}={}", json_to_py(py, &shown)?.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// A `str` argument as Rust text. Python strings may hold lone surrogates (`"\ud800"`, e.g. from
/// `errors="surrogateescape"` decoding), which are not Unicode text and have no UTF-8 form: they
/// are refused with an `InvalidInputError` naming the code point and its index, instead of
/// PyO3's "'utf-8' codec can't encode character" (or, inside a list, "must be a list of str").
#[derive(Clone, Debug)]
pub(crate) struct Text(pub(crate) String);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = obj.cast::<PyString>().map_err(PyErr::from)?.to_owned();
        match s.to_cow() {
            Ok(t) => Ok(Text(t.into_owned())),
            Err(e) => Err(lone_surrogate(obj.py(), s.as_any(), e)),
        }
    }
}

/// The clear error for a `str` that has no UTF-8 form (`e` is the codec's own error, kept as
/// `__cause__`).
fn lone_surrogate(py: Python<'_>, s: &Bound<'_, PyAny>, e: PyErr) -> PyErr {
    let at: Option<usize> = e.value(py).getattr("start").and_then(|v| v.extract()).ok();
    let code: Option<u32> = at.and_then(|i| {
        let c = s.get_item(i).ok()?;
        py.import("builtins")
            .ok()?
            .call_method1("ord", (c,))
            .ok()?
            .extract()
            .ok()
    });
    let message = match (code, at) {
        (Some(c), Some(i)) => format!(
            "invalid input: a string holds a lone surrogate U+{c:04X} at index {i}, which is not \
             Unicode text (decode bytes with errors=\"replace\", or fix the source)"
        ),
        _ => format!("invalid input: a string is not valid Unicode text ({e})"),
    };
    let err = crate::error::to_pyerr(
        py,
        Failure::Binding {
            code: Some("InvalidInput"),
            message,
        },
    );
    err.set_cause(py, Some(e));
    err
}
