//! Writes the JSON Schemas of the configs the bindings accept into `docs/api.json`, under the
//! last top-level key `"configs"`: one entry per options type, named as the bindings name it
//! (`ClassifierOptions`, ...), plus `"$defs"` for the nested types. Everything before that key is
//! kept byte for byte (the rest of the file is edited by hand). `scripts/gen_option_types.py`
//! turns the entries into the Python and TypeScript option types.
//!
//! ```text
//! cargo run -p faultlens-suite --features schema --example gen_schema            # write
//! cargo run -p faultlens-suite --features schema --example gen_schema -- --check # compare
//! ```

use std::path::Path;
use std::process::ExitCode;

use faultlens::drift::{AdwinConfig, KlDriftConfig, PageHinkleyConfig};
use faultlens::index::{IndexConfig, SearchOptions, TextIndexConfig};
use faultlens::resolve::ResolverConfig;
use faultlens::{ClassifierConfig, GrouperConfig, PreprocessorConfig, TfidfConfig, WindowConfig};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

const KEY: &str = "\n  \"configs\": ";
const DEFS: &str = "#/configs/$defs/";

const ABOUT: &str = "JSON Schemas (draft 2020-12) of the options each binding accepts, generated from the core's config structs by examples/gen_schema.rs (field doc comments are the descriptions, Default gives the defaults). Keys as Python takes them; Node takes them in camelCase. `required` lists what a constructor needs (a nested use, such as TextIndexOptions.index, may leave it out). scripts/gen_option_types.py turns them into the Python TypedDicts and the TypeScript interfaces; `make check` fails when either is stale.";

/// The options types: the name the bindings use, the core type's schema, keys a constructor
/// cannot do without (those the core defaults to an invalid placeholder).
fn options(
    g: &mut schemars::SchemaGenerator,
) -> Vec<(&'static str, String, &'static [&'static str])> {
    macro_rules! entry {
        ($name:literal, $t:ty $(, $req:literal)*) => {{
            g.subschema_for::<$t>();
            ($name, <$t as JsonSchema>::schema_name().into_owned(), &[$($req),*][..])
        }};
    }
    vec![
        entry!("PreprocessorOptions", PreprocessorConfig),
        entry!("TfidfOptions", TfidfConfig),
        entry!("ClassifierOptions", ClassifierConfig),
        entry!("ResolverOptions", ResolverConfig),
        entry!("IndexOptions", IndexConfig, "dim"),
        entry!("IndexSearchOptions", SearchOptions),
        entry!("TextIndexOptions", TextIndexConfig),
        entry!("WindowOptions", WindowConfig, "allowed_lateness_ms"),
        entry!("GrouperOptions", GrouperConfig),
        entry!("KlDriftOptions", KlDriftConfig),
        entry!("AdwinOptions", AdwinConfig),
        entry!("PageHinkleyOptions", PageHinkleyConfig),
    ]
}

/// Points references to an options type's core schema at the options entry.
fn rewrite_refs(v: &mut Value, renames: &[(String, String)]) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some((_, to)) = renames.iter().find(|(from, _)| from == r)
            {
                *r = to.clone();
            }
            m.values_mut().for_each(|x| rewrite_refs(x, renames));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, renames)),
        _ => {}
    }
}

fn configs() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/configs/$defs".into();
    let mut g = settings.into_generator();
    let entries = options(&mut g);
    let mut defs = g.take_definitions(true);
    let renames: Vec<(String, String)> = entries
        .iter()
        .map(|(name, core, _)| (format!("{DEFS}{core}"), format!("#/configs/{name}")))
        .collect();
    let mut out = Map::new();
    out.insert("about".into(), json!(ABOUT));
    for (name, core, required) in &entries {
        let mut schema = defs.remove(core).unwrap_or_else(|| json!({}));
        if !required.is_empty()
            && let Some(s) = schema.as_object_mut()
        {
            // A key the constructor needs has no meaningful default.
            if let Some(Value::Object(props)) = s.get_mut("properties") {
                for r in *required {
                    if let Some(Value::Object(p)) = props.get_mut(*r) {
                        p.remove("default");
                    }
                }
            }
            s.insert("required".into(), json!(required));
        }
        out.insert((*name).into(), schema);
    }
    let mut rest: Vec<(String, Value)> = defs.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    out.insert("$defs".into(), Value::Object(rest.into_iter().collect()));
    let mut v = Value::Object(out);
    rewrite_refs(&mut v, &renames);
    tidy(&mut v);
    v
}

/// Rustdoc links read as code in other languages: `` [`Outcome::rejected`] `` and
/// `` [`TextIndex`](super::TextIndex) `` become `` `Outcome::rejected` `` and `` `TextIndex` ``.
fn plain_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("[`") {
        let Some(j) = rest[i + 2..].find("`]") else {
            break;
        };
        out.push_str(&rest[..i]);
        out.push_str(&rest[i + 1..i + 2 + j + 1]);
        rest = &rest[i + 2 + j + 2..];
        if rest.starts_with('(')
            && let Some(k) = rest.find(')')
        {
            rest = &rest[k + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Descriptions without rustdoc links; f32 defaults as written (0.95, not 0.949999988079071).
fn tidy(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = plain_links(d);
            }
            if m.get("format").and_then(Value::as_str) == Some("float")
                && let Some(x) = m.get("default").and_then(Value::as_f64)
                && let Ok(short) = serde_json::from_str::<Value>(&(x as f32).to_string())
            {
                m.insert("default".into(), short);
            }
            m.values_mut().for_each(tidy);
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// The file with `"configs"` (re)placed at its end; the text before it is kept as it is.
fn render(current: &str, configs: &Value) -> Result<String, String> {
    let prefix = match current.find(KEY) {
        Some(i) => current[..i].strip_suffix(',').unwrap_or(&current[..i]),
        None => current
            .trim_end()
            .strip_suffix('}')
            .map(str::trim_end)
            .ok_or("docs/api.json does not end with `}`")?,
    };
    let pretty = serde_json::to_string_pretty(configs).map_err(|e| e.to_string())?;
    let text = format!("{prefix},{KEY}{}\n}}\n", pretty.replace('\n', "\n  "));
    serde_json::from_str::<Value>(&text).map_err(|e| format!("the result is not JSON: {e}"))?;
    Ok(text)
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.json");
    let result = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|current| Ok((render(&current, &configs())?, current)));
    let (text, current) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gen_schema: {e}");
            return ExitCode::FAILURE;
        }
    };
    if text == current {
        println!("docs/api.json: \"configs\" matches the core's config structs");
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "docs/api.json: \"configs\" is stale (a core config struct changed): run `make options` \
             and commit docs/api.json and the generated option types"
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("gen_schema: {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("docs/api.json: \"configs\" written");
    ExitCode::SUCCESS
}
