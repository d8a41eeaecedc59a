//! Arrow in, Arrow out: any object with the Arrow PyCapsule interface (`__arrow_c_array__` /
//! `__arrow_c_stream__`: pyarrow Array/ChunkedArray/RecordBatch/Table, polars Series/DataFrame,
//! pandas, DuckDB results) is read through `pyo3-arrow`, which imports it over the Arrow C data
//! interface without copying the buffers.
//!
//! Only conversion lives here, as everywhere in this crate:
//! - [`Texts`]: a text argument, a list of `str` or an Arrow string column. Arrow strings are
//!   borrowed from the Arrow buffers (no copy); nulls, non-UTF-8 binary values and non-string
//!   columns are refused with an `InvalidInputError` naming the column (and row).
//! - [`Floats`]: a float64 Arrow column for the drift detectors (one chunk without nulls is read
//!   in place; chunks are joined once).
//! - [`push_arrow`]: a window batch read from named columns into the core's `Event`s, borrowed
//!   from the Arrow buffers, pushed with the GIL released, results out as Arrow tables.
//! - [`resolutions`]: `Resolver.resolve_batch` results as an Arrow RecordBatch/Table.
//!
//! Output objects are pyarrow's (`pyarrow.Table`/`RecordBatch`, pyarrow ≥ 14): asking for
//! Arrow output needs pyarrow; Arrow input does not.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use faultlens::window::{Event, Outcome, WindowAggregator};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::{PyRecordBatch, PyTable};

use crate::convert::Text;
use crate::error::{Failure, run_unlocked};
use crate::lock::Shared;

/// Whether `obj` speaks the Arrow PyCapsule interface.
pub(crate) fn is_arrow(obj: &Bound<'_, PyAny>) -> bool {
    let py = obj.py();
    obj.hasattr(intern!(py, "__arrow_c_array__"))
        .unwrap_or(false)
        || obj
            .hasattr(intern!(py, "__arrow_c_stream__"))
            .unwrap_or(false)
}

fn invalid(message: String) -> Failure {
    Failure::Binding {
        code: Some("InvalidInput"),
        message: format!("invalid input: {message}"),
    }
}

fn raise(py: Python<'_>, f: Failure) -> PyErr {
    crate::error::to_pyerr(py, f)
}

/// An Arrow column: its name (the field's, else the argument's) and its chunks.
struct Column {
    name: String,
    chunks: Vec<ArrayRef>,
}

/// Reads an Arrow array, chunked array or stream. A struct column (a RecordBatch, a Table, a
/// DataFrame) must have exactly one field, which is taken: `predict(table)` means its only
/// column; with several, the error lists them.
fn column(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Column> {
    let py = obj.py();
    let any: AnyArray = obj.extract()?;
    let reader = any.into_reader()?;
    let field = reader.field();
    let chunks = reader.collect::<Result<Vec<_>, _>>().map_err(|e| {
        raise(
            py,
            invalid(format!("`{what}`: reading the Arrow data failed: {e}")),
        )
    })?;
    let name = if field.name().is_empty() {
        what.to_owned()
    } else {
        field.name().clone()
    };
    if let DataType::Struct(fields) = field.data_type() {
        if fields.len() != 1 {
            let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
            return Err(raise(
                py,
                invalid(format!(
                    "`{what}` has {} columns ({}); pass the one column to use, e.g. table[\"{}\"]",
                    names.len(),
                    names.join(", "),
                    names.first().copied().unwrap_or("text")
                )),
            ));
        }
        let inner = fields[0].name().clone();
        let chunks = chunks
            .iter()
            .map(|c| c.as_struct().column(0).clone())
            .collect();
        return Ok(Column {
            name: inner,
            chunks,
        });
    }
    Ok(Column { name, chunks })
}

fn is_text_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

/// Dictionary-encoded strings (pandas categoricals, polars Categorical/Enum) are decoded once
/// into plain strings; every other non-string type is an error naming the column.
fn text_chunks(col: Column) -> Result<Column, Failure> {
    let mut out = Vec::with_capacity(col.chunks.len());
    for c in col.chunks {
        match c.data_type() {
            t if is_text_type(t) => out.push(c),
            DataType::Dictionary(_, v) if is_text_type(v) => {
                let plain = arrow_cast::cast(&c, v).map_err(|e| {
                    invalid(format!(
                        "column `{}`: decoding the dictionary failed: {e}",
                        col.name
                    ))
                })?;
                out.push(plain);
            }
            t => {
                return Err(invalid(format!(
                    "column `{}` must hold strings (utf8, large_utf8, utf8_view, or binary \
                     holding UTF-8), got {t}",
                    col.name
                )));
            }
        }
    }
    Ok(Column {
        name: col.name,
        chunks: out,
    })
}

/// Appends the strings of one text chunk (already type-checked) to `out`; `start` is the row of
/// the chunk's first value in the whole column, for error messages.
fn push_strs<'a>(
    name: &str,
    chunk: &'a ArrayRef,
    start: usize,
    out: &mut Vec<&'a str>,
) -> Result<(), Failure> {
    if let Some(i) = (0..chunk.len()).find(|&i| chunk.is_null(i)) {
        return Err(invalid(format!(
            "column `{name}` has a null at row {}: every row needs a string (drop or fill the \
             nulls first)",
            start + i
        )));
    }
    let binary = |i: usize, b: &'a [u8]| -> Result<&'a str, Failure> {
        std::str::from_utf8(b).map_err(|e| {
            invalid(format!(
                "column `{name}` row {} is not valid UTF-8 ({e}); decode it first, e.g. \
                 pyarrow.compute.cast after replacing invalid bytes",
                start + i
            ))
        })
    };
    match chunk.data_type() {
        DataType::Utf8 => out.extend(chunk.as_string::<i32>().iter().flatten()),
        DataType::LargeUtf8 => out.extend(chunk.as_string::<i64>().iter().flatten()),
        DataType::Utf8View => out.extend(chunk.as_string_view().iter().flatten()),
        DataType::Binary => {
            for (i, b) in chunk.as_binary::<i32>().iter().flatten().enumerate() {
                out.push(binary(i, b)?);
            }
        }
        DataType::LargeBinary => {
            for (i, b) in chunk.as_binary::<i64>().iter().flatten().enumerate() {
                out.push(binary(i, b)?);
            }
        }
        DataType::BinaryView => {
            for (i, b) in chunk.as_binary_view().iter().flatten().enumerate() {
                out.push(binary(i, b)?);
            }
        }
        t => {
            return Err(invalid(format!(
                "column `{name}` must hold strings, got {t}"
            )));
        }
    }
    Ok(())
}

/// A batch of texts: a list/tuple of `str`, or an Arrow string column (array, chunked array,
/// one-column RecordBatch/Table, polars Series/DataFrame). `strs()` gives `&str`s borrowed from
/// wherever the text lives (Arrow buffers are not copied), checked without the GIL.
pub(crate) enum Texts {
    List(Vec<Text>),
    Arrow { name: String, chunks: Vec<ArrayRef> },
}

impl Texts {
    /// The texts as `&str`, in row order; an Arrow column's nulls and invalid UTF-8 are errors.
    pub(crate) fn strs(&self) -> Result<Vec<&str>, Failure> {
        match self {
            Texts::List(v) => Ok(v.iter().map(|t| &**t).collect()),
            Texts::Arrow { name, chunks } => {
                let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
                let mut start = 0;
                for c in chunks {
                    push_strs(name, c, start, &mut out)?;
                    start += c.len();
                }
                Ok(out)
            }
        }
    }

    /// Reads `obj` as texts; `what` names the argument in errors.
    pub(crate) fn extract_named(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if is_arrow(obj) {
            let col = text_chunks(column(obj, what)?).map_err(|f| raise(obj.py(), f))?;
            return Ok(Texts::Arrow {
                name: col.name,
                chunks: col.chunks,
            });
        }
        Ok(Texts::List(obj.extract()?))
    }

    /// The texts as owned strings (for the few calls whose arguments are lists of `String`).
    pub(crate) fn into_strings(self) -> Result<Vec<String>, Failure> {
        match self {
            Texts::List(v) => Ok(v.into_iter().map(String::from).collect()),
            arrow => Ok(arrow.strs()?.into_iter().map(str::to_owned).collect()),
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Texts {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Texts::extract_named(&obj.to_owned(), "texts")
    }
}

/// A float64 Arrow column for the drift detectors: one chunk without nulls is read in place.
pub(crate) enum Floats {
    One(Float64Array),
    Joined(Vec<f64>),
}

impl Floats {
    pub(crate) fn as_slice(&self) -> &[f64] {
        match self {
            Floats::One(a) => a.values(),
            Floats::Joined(v) => v,
        }
    }

    /// `Ok(None)` when `obj` is not Arrow (the caller reads numpy or a sequence instead).
    pub(crate) fn extract(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<Self>> {
        if !is_arrow(obj) {
            return Ok(None);
        }
        let py = obj.py();
        let col = column(obj, what)?;
        let mut arrays = Vec::with_capacity(col.chunks.len());
        let mut start = 0;
        for c in &col.chunks {
            let Some(a) = c.as_primitive_opt::<arrow_array::types::Float64Type>() else {
                return Err(raise(
                    py,
                    invalid(format!(
                        "column `{}` must be float64, got {} (cast it first)",
                        col.name,
                        c.data_type()
                    )),
                ));
            };
            if let Some(i) = (0..a.len()).find(|&i| a.is_null(i)) {
                return Err(raise(
                    py,
                    invalid(format!(
                        "column `{}` has a null at row {}: drop or fill the nulls first",
                        col.name,
                        start + i
                    )),
                ));
            }
            start += a.len();
            arrays.push(a.clone());
        }
        Ok(Some(match arrays.len() {
            1 => Floats::One(arrays.remove(0)),
            _ => Floats::Joined(
                arrays
                    .iter()
                    .flat_map(|a| a.values().iter().copied())
                    .collect(),
            ),
        }))
    }
}

// ---- WindowAggregator.push_arrow ----------------------------------------------------------

/// The event fields in `Event` order, after the timestamp.
const EVENT_FIELDS: [&str; 5] = ["service", "route", "error_code", "message", "trace_id"];

/// Where each event field is in a batch: the timestamp column and, for each string field, its
/// column (absent fields are empty strings and, for key fields, a clear error from the core).
struct Layout {
    timestamp: usize,
    fields: [Option<usize>; 5],
}

fn layout(schema: &Schema, names: &HashMap<String, String>) -> Result<Layout, Failure> {
    let name_of = |f: &str| names.get(f).cloned().unwrap_or_else(|| f.to_owned());
    let ts_name = name_of("timestamp_ms");
    let timestamp = schema.index_of(&ts_name).map_err(|_| {
        invalid(format!(
            "the batch has no timestamp column `{ts_name}` (columns: {}); name it with \
             columns={{\"timestamp_ms\": \"...\"}}",
            schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    match schema.field(timestamp).data_type() {
        DataType::Int64 | DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _) => {}
        t => {
            return Err(invalid(format!(
                "column `{ts_name}` must be int64 milliseconds (or timestamp[ms]), got {t}"
            )));
        }
    }
    let mut fields = [None; 5];
    for (slot, f) in fields.iter_mut().zip(EVENT_FIELDS) {
        let col = name_of(f);
        if let Ok(i) = schema.index_of(&col) {
            let t = schema.field(i).data_type();
            let ok = is_text_type(t)
                || matches!(t, DataType::Dictionary(_, v) if is_text_type(v))
                || matches!(t, DataType::Null);
            if !ok {
                return Err(invalid(format!(
                    "column `{col}` must hold strings, got {t}"
                )));
            }
            *slot = Some(i);
        }
    }
    for k in names.keys() {
        if k != "timestamp_ms" && !EVENT_FIELDS.contains(&k.as_str()) {
            return Err(invalid(format!(
                "columns: `{k}` is not an event field (timestamp_ms, {})",
                EVENT_FIELDS.join(", ")
            )));
        }
    }
    Ok(Layout { timestamp, fields })
}

/// One string column of a batch, readable per row; a null (or a missing column) reads as absent.
enum StrCol<'a> {
    Absent,
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Bytes(Vec<Option<&'a str>>),
    /// Dictionary-encoded strings (Parquet key columns read with `read_dictionary`): each
    /// distinct value is read once, each row through its key; nothing is decoded per row.
    Dict {
        keys: DictKeys<'a>,
        nulls: Option<arrow_buffer::NullBuffer>,
        values: Vec<Option<&'a str>>,
    },
}

/// A dictionary's keys: the usual 32-bit ones borrowed in place, others widened once.
enum DictKeys<'a> {
    I32(&'a [i32]),
    U32(&'a [u32]),
    Other(Vec<usize>),
}

impl DictKeys<'_> {
    #[inline]
    fn at(&self, i: usize) -> usize {
        match self {
            // A negative key reads as out of range (absent), never as a wrapped index.
            DictKeys::I32(k) => usize::try_from(k[i]).unwrap_or(usize::MAX),
            DictKeys::U32(k) => k[i] as usize,
            DictKeys::Other(k) => k[i],
        }
    }
}

impl<'a> StrCol<'a> {
    fn new(name: &str, offset: usize, a: Option<&'a ArrayRef>) -> Result<Self, Failure> {
        let Some(a) = a else {
            return Ok(StrCol::Absent);
        };
        Ok(match a.data_type() {
            DataType::Utf8 => StrCol::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => StrCol::Large(a.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(a.as_string_view()),
            DataType::Null => StrCol::Absent,
            DataType::Dictionary(_, v) if is_text_type(v) => {
                let d = a.as_any_dictionary();
                let k = d.keys();
                let keys = if let Some(k) = k.as_primitive_opt::<arrow_array::types::Int32Type>() {
                    DictKeys::I32(k.values())
                } else if let Some(k) = k.as_primitive_opt::<arrow_array::types::UInt32Type>() {
                    DictKeys::U32(k.values())
                } else {
                    DictKeys::Other(d.normalized_keys())
                };
                let v = StrCol::new(name, 0, Some(d.values()))?;
                StrCol::Dict {
                    keys,
                    nulls: a.logical_nulls(),
                    values: (0..d.values().len()).map(|i| v.get(i)).collect(),
                }
            }
            _ => {
                // Binary columns: each value checked once.
                let mut out = Vec::with_capacity(a.len());
                let mut check = |i: usize, b: Option<&'a [u8]>| -> Result<(), Failure> {
                    out.push(match b {
                        None => None,
                        Some(b) => Some(std::str::from_utf8(b).map_err(|e| {
                            invalid(format!(
                                "column `{name}` row {} is not valid UTF-8 ({e})",
                                offset + i
                            ))
                        })?),
                    });
                    Ok(())
                };
                match a.data_type() {
                    DataType::Binary => {
                        for (i, b) in a.as_binary::<i32>().iter().enumerate() {
                            check(i, b)?;
                        }
                    }
                    DataType::LargeBinary => {
                        for (i, b) in a.as_binary::<i64>().iter().enumerate() {
                            check(i, b)?;
                        }
                    }
                    DataType::BinaryView => {
                        for (i, b) in a.as_binary_view().iter().enumerate() {
                            check(i, b)?;
                        }
                    }
                    t => {
                        return Err(invalid(format!(
                            "column `{name}` must hold strings, got {t}"
                        )));
                    }
                }
                StrCol::Bytes(out)
            }
        })
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Absent => None,
            StrCol::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::Bytes(v) => v[i],
            StrCol::Dict {
                keys,
                nulls,
                values,
            } => {
                if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                values.get(keys.at(i)).copied().flatten()
            }
        }
    }

    /// The first of `len` rows that reads as absent, if any (without a per-row read when the
    /// column has no nulls).
    fn first_absent(&self, len: usize) -> Option<usize> {
        let nulls = match self {
            StrCol::Absent => return (len > 0).then_some(0),
            StrCol::Utf8(a) => a.nulls(),
            StrCol::Large(a) => a.nulls(),
            StrCol::View(a) => a.nulls(),
            StrCol::Bytes(v) => return v.iter().position(Option::is_none),
            // Keys may point at null values or past the dictionary.
            StrCol::Dict {
                keys: DictKeys::I32(k),
                nulls: None,
                values,
            } if values.iter().all(Option::is_some) => {
                let n = values.len();
                return k
                    .iter()
                    .position(|&k| usize::try_from(k).map_or(true, |k| k >= n));
            }
            StrCol::Dict { .. } => return (0..len).find(|&i| self.get(i).is_none()),
        };
        match nulls {
            Some(n) if n.null_count() > 0 => n.iter().position(|valid| !valid),
            _ => None,
        }
    }

    /// Sets one field of each event (one per row) from this column; absent rows keep "".
    #[inline(always)]
    fn fill(&self, events: &mut [Event<'a>], set: impl Fn(&mut Event<'a>, &'a str)) {
        let each = |events: &mut [Event<'a>], get: &dyn Fn(usize) -> Option<&'a str>| {
            for (i, e) in events.iter_mut().enumerate() {
                if let Some(s) = get(i) {
                    set(e, s);
                }
            }
        };
        match self {
            StrCol::Absent => {}
            StrCol::Utf8(a) if a.null_count() == 0 => {
                for (i, e) in events.iter_mut().enumerate() {
                    set(e, a.value(i));
                }
            }
            StrCol::Dict {
                keys: DictKeys::I32(k),
                nulls: None,
                values,
            } => {
                for (e, &k) in events.iter_mut().zip(*k) {
                    if let Some(Some(s)) = usize::try_from(k).ok().and_then(|k| values.get(k)) {
                        set(e, s);
                    }
                }
            }
            _ => each(events, &|i| self.get(i)),
        }
    }
}

/// One RecordBatch read as events: the timestamps and the five string columns, borrowed.
struct Rows<'a> {
    ts: &'a [i64],
    cols: Vec<StrCol<'a>>,
    len: usize,
}

/// The column as it is: dictionaries are read through their keys, not decoded.
fn plain(a: &ArrayRef, _name: &str) -> Result<ArrayRef, Failure> {
    Ok(a.clone())
}

/// The batch's columns as `layout` places them (owned by the caller).
fn plain_columns(batch: &RecordBatch, layout: &Layout) -> Result<Vec<Option<ArrayRef>>, Failure> {
    let schema = batch.schema();
    layout
        .fields
        .iter()
        .map(|idx| {
            idx.map(|i| plain(batch.column(i), schema.field(i).name()))
                .transpose()
        })
        .collect()
}

/// Reads one batch; `offset` is the row of its first event in the whole input (for errors).
fn rows<'a>(
    batch: &'a RecordBatch,
    plain_cols: &'a [Option<ArrayRef>],
    layout: &Layout,
    offset: usize,
) -> Result<Rows<'a>, Failure> {
    let schema = batch.schema();
    let ts_col = batch.column(layout.timestamp);
    if let Some(i) = ts_col
        .logical_nulls()
        .filter(|n| n.null_count() > 0)
        .and_then(|n| n.iter().position(|valid| !valid))
    {
        return Err(invalid(format!(
            "column `{}` has a null at row {}: every event needs a time",
            schema.field(layout.timestamp).name(),
            offset + i
        )));
    }
    let ts: &[i64] = match ts_col.data_type() {
        DataType::Int64 => ts_col.as_primitive::<Int64Type>().values(),
        _ => ts_col
            .as_primitive::<arrow_array::types::TimestampMillisecondType>()
            .values(),
    };
    let cols = plain_cols
        .iter()
        .zip(layout.fields)
        .map(|(a, idx)| {
            let name = idx.map_or("", |i| schema.field(i).name().as_str());
            StrCol::new(name, offset, a.as_ref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rows {
        ts,
        cols,
        len: batch.num_rows(),
    })
}

impl<'a> Rows<'a> {
    /// The core's key-field check. Only the first absent row of each string column can be the
    /// first failing row (a column absent there without an error is no key field), so the core
    /// checks those few rows, in order.
    fn check(&self, w: &WindowAggregator, offset: usize) -> Result<(), Failure> {
        let mut firsts: Vec<usize> = self.cols[..3]
            .iter()
            .filter_map(|c| c.first_absent(self.len))
            .collect();
        firsts.sort_unstable();
        for i in firsts {
            w.check_fields(
                offset + i,
                self.cols[0].get(i).is_some(),
                self.cols[1].get(i).is_some(),
                self.cols[2].get(i).is_some(),
            )?;
        }
        Ok(())
    }

    /// The batch's events into `out` (cleared first), filled column by column.
    fn events(&self, out: &mut Vec<Event<'a>>) {
        out.clear();
        out.extend(self.ts.iter().map(|&t| Event::new(t, "", "", "")));
        let [s, r, c, m, t] = &self.cols[..] else {
            return;
        };
        s.fill(out, |e, v| e.service = v);
        r.fill(out, |e, v| e.route = v);
        c.fill(out, |e, v| e.error_code = v);
        m.fill(out, |e, v| e.message = v);
        t.fill(out, |e, v| e.trace_id = v);
    }
}

fn incidents_schema() -> SchemaRef {
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("service", DataType::Utf8, true),
        Field::new("route", DataType::Utf8, true),
        Field::new("error_code", DataType::Utf8, true),
        Field::new("start_ms", DataType::Int64, false),
        Field::new("end_ms", DataType::Int64, false),
        Field::new("count", DataType::UInt64, false),
        Field::new("threshold", DataType::UInt64, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("samples", list(), false),
        Field::new("trace_ids", list(), false),
    ]))
}

/// Incidents as one RecordBatch (the columns of `incidents_schema`).
pub(crate) fn incidents_batch(
    incidents: &[faultlens::window::Incident],
) -> Result<RecordBatch, Failure> {
    let strings = |f: &dyn Fn(&faultlens::window::Incident) -> Option<&str>| -> ArrayRef {
        Arc::new(incidents.iter().map(f).collect::<StringArray>())
    };
    let lists = |f: &dyn Fn(&faultlens::window::Incident) -> &Vec<String>| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for i in incidents {
            for s in f(i) {
                b.values().append_value(s);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    let severity = |i: &faultlens::window::Incident| {
        serde_json::to_value(i.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let columns: Vec<ArrayRef> = vec![
        strings(&|i| Some(i.id.as_str())),
        strings(&|i| i.key.service.as_deref()),
        strings(&|i| i.key.route.as_deref()),
        strings(&|i| i.key.error_code.as_deref()),
        Arc::new(Int64Array::from_iter_values(
            incidents.iter().map(|i| i.start_ms),
        )),
        Arc::new(Int64Array::from_iter_values(
            incidents.iter().map(|i| i.end_ms),
        )),
        Arc::new(UInt64Array::from_iter_values(
            incidents.iter().map(|i| i.count),
        )),
        Arc::new(UInt64Array::from_iter_values(
            incidents.iter().map(|i| i.threshold),
        )),
        Arc::new(
            incidents
                .iter()
                .map(|i| Some(severity(i)))
                .collect::<StringArray>(),
        ),
        lists(&|i| &i.samples),
        lists(&|i| &i.trace_ids),
    ];
    RecordBatch::try_new(incidents_schema(), columns)
        .map_err(|e| invalid(format!("building the incidents table failed: {e}")))
}

/// The rows `rows` (indices into the whole input) of the input batches, with their index in a
/// leading `row` column: the late or rejected events, as they came in.
fn take_rows(
    batches: &[RecordBatch],
    schema: &SchemaRef,
    rows: &[usize],
) -> Result<(Vec<RecordBatch>, SchemaRef), Failure> {
    let mut fields = vec![Arc::new(Field::new("row", DataType::UInt64, false))];
    fields.extend(schema.fields().iter().cloned());
    let out_schema = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    let (mut start, mut r) = (0usize, 0usize);
    for b in batches {
        let end = start + b.num_rows();
        let first = r;
        while r < rows.len() && rows[r] < end {
            r += 1;
        }
        if r > first {
            let picked = &rows[first..r];
            let local = UInt64Array::from_iter_values(picked.iter().map(|&i| (i - start) as u64));
            let mut cols: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(
                picked.iter().map(|&i| i as u64),
            ))];
            for c in b.columns() {
                cols.push(
                    arrow_select::take::take(c, &local, None)
                        .map_err(|e| invalid(format!("selecting rows failed: {e}")))?,
                );
            }
            out.push(
                RecordBatch::try_new(out_schema.clone(), cols)
                    .map_err(|e| invalid(format!("selecting rows failed: {e}")))?,
            );
        }
        start = end;
    }
    Ok((out, out_schema))
}

/// `WindowAggregator.push_arrow`: the batch's RecordBatches are pushed in order (the state
/// carries over between them exactly as between calls), then the results become Arrow tables:
/// `{"incidents": Table, "late": Table, "rejected": Table}` (late/rejected: the input rows with
/// their `row` index).
pub(crate) fn push_arrow<'py>(
    py: Python<'py>,
    shared: &Shared<WindowAggregator>,
    batch: &Bound<'py, PyAny>,
    columns: Option<HashMap<String, String>>,
) -> PyResult<Bound<'py, PyAny>> {
    if !is_arrow(batch) {
        return Err(raise(
            py,
            invalid(format!(
                "push_arrow needs an Arrow RecordBatch/Table (or a polars/pandas DataFrame), got \
                 `{}`; use push_batch for lists of events",
                batch
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            )),
        ));
    }
    let any: AnyRecordBatch = batch.extract()?;
    let reader = any.into_reader()?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| raise(py, invalid(format!("reading the Arrow batch failed: {e}"))))?;
    let names = columns.unwrap_or_default();
    let (incidents, late, rejected) = run_unlocked(py, || {
        let layout = layout(&schema, &names)?;
        let plain = batches
            .iter()
            .map(|b| plain_columns(b, &layout))
            .collect::<Result<Vec<_>, _>>()?;
        // Every batch is read and every row checked before any is pushed, so an error leaves the
        // aggregator as it was.
        let mut all = Vec::with_capacity(batches.len());
        let mut offset = 0;
        for (b, p) in batches.iter().zip(&plain) {
            all.push((rows(b, p, &layout, offset)?, offset));
            offset += b.num_rows();
        }
        let mut w = shared.write()?;
        for (r, offset) in &all {
            r.check(&w, *offset)?;
        }
        // Then each batch is pushed in order: the state carries over exactly as between calls.
        let mut outcome = Outcome::default();
        let mut events = Vec::new();
        for (r, offset) in &all {
            r.events(&mut events);
            let o = w.push_batch(&events);
            outcome.incidents.extend(o.incidents);
            outcome.late.extend(o.late.iter().map(|i| i + offset));
            outcome
                .rejected
                .extend(o.rejected.iter().map(|i| i + offset));
        }
        drop(w);
        let incidents = incidents_batch(&outcome.incidents)?;
        let late = take_rows(&batches, &schema, &outcome.late)?;
        let rejected = take_rows(&batches, &schema, &outcome.rejected)?;
        Ok((incidents, late, rejected))
    })?;
    let out = pyo3::types::PyDict::new(py);
    let schema = incidents.schema();
    out.set_item(
        "incidents",
        PyTable::try_new(vec![incidents], schema)?.into_pyarrow(py)?,
    )?;
    out.set_item("late", PyTable::try_new(late.0, late.1)?.into_pyarrow(py)?)?;
    out.set_item(
        "rejected",
        PyTable::try_new(rejected.0, rejected.1)?.into_pyarrow(py)?,
    )?;
    Ok(out.into_any())
}

// ---- Resolver.resolve_batch(output=...) ---------------------------------------------------

/// What a batch call returns: Python objects (default), or Arrow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Objects,
    RecordBatch,
    Table,
}

impl Output {
    pub(crate) fn parse(py: Python<'_>, s: Option<&str>) -> PyResult<Self> {
        match s {
            None | Some("objects") => Ok(Output::Objects),
            Some("record_batch") => Ok(Output::RecordBatch),
            Some("table") | Some("arrow") => Ok(Output::Table),
            Some(other) => Err(raise(
                py,
                Failure::invalid_config(format!(
                    "invalid config `output`: `{other}` is not one of \"objects\", \
                     \"record_batch\", \"table\""
                )),
            )),
        }
    }
}

/// Resolutions as Arrow columns `solution` (utf8, null when none), `method` (utf8),
/// `confidence` (float64), `reliable` (bool), `novelty` (float64), `novel` (bool).
pub(crate) fn resolutions<'py>(
    py: Python<'py>,
    rs: &[faultlens::resolve::Resolution],
    output: Output,
) -> PyResult<Bound<'py, PyAny>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("solution", DataType::Utf8, true),
        Field::new("method", DataType::Utf8, false),
        Field::new("confidence", DataType::Float64, false),
        Field::new("reliable", DataType::Boolean, false),
        Field::new("novelty", DataType::Float64, false),
        Field::new("novel", DataType::Boolean, false),
    ]));
    let method = |r: &faultlens::resolve::Resolution| {
        serde_json::to_value(r.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            rs.iter()
                .map(|r| r.solution.as_deref())
                .collect::<StringArray>(),
        ),
        Arc::new(rs.iter().map(|r| Some(method(r))).collect::<StringArray>()),
        Arc::new(Float64Array::from_iter_values(
            rs.iter().map(|r| r.confidence),
        )),
        Arc::new(
            rs.iter()
                .map(|r| Some(r.reliable))
                .collect::<BooleanArray>(),
        ),
        Arc::new(Float64Array::from_iter_values(rs.iter().map(|r| r.novelty))),
        Arc::new(rs.iter().map(|r| Some(r.novel)).collect::<BooleanArray>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| raise(py, invalid(format!("building the result failed: {e}"))))?;
    match output {
        Output::RecordBatch => PyRecordBatch::new(batch).into_pyarrow(py),
        _ => PyTable::try_new(vec![batch], schema)?.into_pyarrow(py),
    }
}
