//! The C API of faultlens: opaque handles, `FlStatus` return codes, a thread-local last-error
//! message, and result containers the caller frees. `build.rs` turns this crate into
//! `include/faultlens.h` with cbindgen; every `///` comment below ends up in that header.
//!
//! Shape (after regex's `regex-capi`):
//! - every exported body runs through [`guard`] / [`guard_or`]: `catch_unwind`, then one
//!   mapping from the core [`faultlens::Error`] to [`FlStatus`] ([`status_of`]) plus the message;
//! - inputs are checked here (NULL, UTF-8), everything else is the core's job;
//! - outputs go through out-pointers, which are set to NULL / 0 first, so on failure they hold
//!   nothing to free.
//!
//! Capabilities live in `text.rs` (Preprocessor), `vectorize.rs` (TfidfVectorizer, CSR) and
//! `models.rs` (inspect), `resolve.rs` (Resolver, resolutions); this file holds status, errors, module functions and memory helpers.
#![allow(clippy::missing_safety_doc)] // safety contracts are written in each function's doc
#![cfg_attr(test, allow(clippy::unwrap_used))]
// The crate docs are for maintainers (C users read the header): they may name private items.
#![allow(rustdoc::private_intra_doc_links)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

pub(crate) mod artifact;
pub mod classify;
pub mod drift;
pub mod grouper;
pub mod index;
pub mod metrics;
pub mod models;
pub mod resolve;
pub mod text;
pub mod vectorize;
pub mod window;

/// The result of every faultlens call that can fail. `FL_STATUS_OK` (0) is success; on any other
/// value `fl_last_error()` returns a message for the calling thread. Stored as an `int32_t`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlStatus {
    /// Success.
    Ok = 0,
    /// A configuration field is out of range, unknown, or the config JSON does not parse.
    InvalidConfig = 1,
    /// An argument cannot be used as given (empty corpus, empty vocabulary, bad path, ...).
    InvalidInput = 2,
    /// A model was used before `fit`.
    NotFitted = 3,
    /// A vector or matrix has the wrong width.
    Dimension = 4,
    /// A model file of a format version this build does not read (the message names both).
    Format = 5,
    /// A truncated, damaged or foreign model file.
    Corrupt = 6,
    /// A valid model file holding another kind of artifact.
    WrongKind = 7,
    /// An operating-system I/O failure.
    Io = 8,
    /// A required pointer argument was NULL.
    NullPointer = 9,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 10,
    /// faultlens panicked: a bug, please report it with the message from `fl_last_error()`.
    Panic = 11,
    /// A lock a thread of the parent held when this process forked: rebuild or re-load the
    /// handle in the child (see `fl_after_fork`).
    Inherited = 12,
}

/// Core error code (`faultlens::Error::code()`) → C status: the one table of this binding
/// (`docs/errors.md`). Exhaustive: a new core code does not compile until it has a status.
fn status_of(e: &faultlens::Error) -> FlStatus {
    use faultlens::ErrorCode as C;
    match e.code() {
        C::InvalidConfig => FlStatus::InvalidConfig,
        C::InvalidInput => FlStatus::InvalidInput,
        C::NotFitted => FlStatus::NotFitted,
        C::Dimension => FlStatus::Dimension,
        C::Format => FlStatus::Format,
        C::Corrupt => FlStatus::Corrupt,
        C::WrongKind => FlStatus::WrongKind,
        C::Io => FlStatus::Io,
        C::Inherited => FlStatus::Inherited,
    }
}

/// A failure on its way to the caller: a status and the message `fl_last_error()` will return.
#[derive(Debug)]
pub(crate) struct Fail {
    status: FlStatus,
    message: String,
}

impl Fail {
    pub(crate) fn new(status: FlStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<faultlens::Error> for Fail {
    fn from(e: faultlens::Error) -> Self {
        Fail::new(status_of(&e), e.to_string())
    }
}

pub(crate) type Res<T> = Result<T, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: String) {
    // A message with an interior NUL is cut there rather than lost.
    let message = match CString::new(message) {
        Ok(c) => c,
        Err(e) => {
            let pos = e.nul_position();
            let mut bytes = e.into_vec();
            bytes.truncate(pos);
            CString::new(bytes).unwrap_or_default()
        }
    };
    // `try_with`: during thread teardown the slot may be gone; the message is dropped then.
    let _ = LAST_ERROR.try_with(|m| *m.borrow_mut() = message);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into());
    format!("panic inside faultlens (a bug, please report it): {what}")
}

/// Runs the body of a status-returning `extern "C"` function: catches panics, maps failures to a
/// status and stores their message for `fl_last_error()`. Every such function goes through here.
pub(crate) fn guard(body: impl FnOnce() -> Res<()>) -> FlStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FlStatus::Ok,
        Ok(Err(fail)) => {
            set_last_error(fail.message);
            fail.status
        }
        Err(payload) => {
            set_last_error(panic_message(payload.as_ref()));
            FlStatus::Panic
        }
    }
}

/// [`guard`] for the accessors and `_free` functions that return a value instead of a status:
/// a panic yields `fallback` (and sets `fl_last_error()`).
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(panic_message(payload.as_ref()));
            fallback
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Argument helpers (all `unsafe`: callers promise the pointers follow the documented contract).

/// A borrowed `&str` from a NUL-terminated C string; `what` names the argument in messages.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Res<&'a str> {
    if p.is_null() {
        return Err(Fail::new(
            FlStatus::NullPointer,
            format!("`{what}` is NULL"),
        ));
    }
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Fail::new(
            FlStatus::InvalidUtf8,
            format!(
                "`{what}` is not valid UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// `n` borrowed strings from an array of C strings (NULL is allowed only when `n == 0`).
pub(crate) unsafe fn str_array_arg<'a>(
    p: *const *const c_char,
    n: usize,
    what: &str,
) -> Res<Vec<&'a str>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(Fail::new(
            FlStatus::NullPointer,
            format!("`{what}` is NULL but its length is {n}"),
        ));
    }
    let ptrs = unsafe { std::slice::from_raw_parts(p, n) };
    ptrs.iter()
        .enumerate()
        .map(|(i, &s)| unsafe { str_arg(s, &format!("{what}[{i}]")) })
        .collect()
}

/// A borrowed slice of plain values (NULL is allowed only when `n == 0`).
pub(crate) unsafe fn slice_arg<'a, T>(p: *const T, n: usize, what: &str) -> Res<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Fail::new(
            FlStatus::NullPointer,
            format!("`{what}` is NULL but its length is {n}"),
        ));
    }
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Values an out-pointer is reset to before any work: NULL, 0, false.
pub(crate) trait Empty {
    fn empty() -> Self;
}
impl<T> Empty for *mut T {
    fn empty() -> Self {
        std::ptr::null_mut()
    }
}
impl Empty for usize {
    fn empty() -> Self {
        0
    }
}
impl Empty for f64 {
    fn empty() -> Self {
        0.0
    }
}
impl Empty for f32 {
    fn empty() -> Self {
        0.0
    }
}
impl Empty for u64 {
    fn empty() -> Self {
        0
    }
}
impl Empty for bool {
    fn empty() -> Self {
        false
    }
}

/// An out-pointer, checked and reset to NULL / zero so a failed call leaves nothing to free.
pub(crate) unsafe fn out_arg<'a, T: Empty>(p: *mut T, what: &str) -> Res<&'a mut T> {
    let out = unsafe { p.as_mut() }.ok_or_else(|| {
        Fail::new(
            FlStatus::NullPointer,
            format!("out-pointer `{what}` is NULL"),
        )
    })?;
    *out = T::empty();
    Ok(out)
}

/// A file-system path: raw bytes on Unix (any path the OS accepts), UTF-8 elsewhere.
pub(crate) unsafe fn path_arg(p: *const c_char, what: &str) -> Res<std::path::PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        if p.is_null() {
            return Err(Fail::new(
                FlStatus::NullPointer,
                format!("`{what}` is NULL"),
            ));
        }
        let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
        Ok(std::ffi::OsStr::from_bytes(bytes).into())
    }
    #[cfg(not(unix))]
    {
        Ok(unsafe { str_arg(p, what) }?.into())
    }
}

/// A Rust string as a NUL-terminated C string (fails on an interior NUL, e.g. from a crafted file).
pub(crate) fn c_string(s: String) -> Res<CString> {
    CString::new(s).map_err(|e| {
        Fail::new(
            FlStatus::InvalidInput,
            format!(
                "a result string holds a NUL byte at offset {} and cannot be returned to C",
                e.nul_position()
            ),
        )
    })
}

/// A Rust string handed to the caller; released by `fl_string_free`.
pub(crate) fn owned_c_string(s: String) -> Res<*mut c_char> {
    Ok(c_string(s)?.into_raw())
}

/// JSON text of a serialisable value, handed to the caller.
pub(crate) fn owned_json<T: serde::Serialize + ?Sized>(v: &T) -> Res<*mut c_char> {
    let s = serde_json::to_string(v)
        .map_err(|e| Fail::new(FlStatus::InvalidInput, format!("cannot encode JSON: {e}")))?;
    owned_c_string(s)
}

/// The whole body of a function that hands out one JSON text: checks and clears the out-pointer
/// `out` (named `what` in messages), then stores the JSON of what `value` returns. Caller frees
/// the text with `fl_string_free`.
pub(crate) unsafe fn give_json<T: serde::Serialize>(
    out: *mut *mut c_char,
    what: &str,
    value: impl FnOnce() -> Res<T>,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, what) }?;
        *out = owned_json(&value()?)?;
        Ok(())
    })
}

/// [`give_json`] for a text handed out as it is (e.g. Prometheus exposition text).
pub(crate) unsafe fn give_text(
    out: *mut *mut c_char,
    what: &str,
    value: impl FnOnce() -> Res<String>,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, what) }?;
        *out = owned_c_string(value()?)?;
        Ok(())
    })
}

/// Parses a config from JSON (NULL means the defaults). Any parse problem is `InvalidConfig`.
pub(crate) unsafe fn config_arg<T: serde::de::DeserializeOwned + Default>(
    p: *const c_char,
    what: &str,
) -> Res<T> {
    if p.is_null() {
        return Ok(T::default());
    }
    let s = unsafe { str_arg(p, what) }?;
    json_object(s, what, "a valid config", FlStatus::InvalidConfig)
}

/// Decodes `s`, which must be a JSON object: serde would also build a struct from an array
/// (`[]` or `[1, 2]` filling fields by position), which no caller means. An object is decoded
/// straight from the text, so serde's messages keep their line and column.
pub(crate) fn json_object<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
    meant: &str,
    status: FlStatus,
) -> Res<T> {
    let invalid = |e: serde_json::Error| Fail::new(status, format!("`{what}` is not {meant}: {e}"));
    if !s
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        let found = match serde_json::from_str::<serde_json::Value>(s).map_err(invalid)? {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        return Err(Fail::new(
            status,
            format!("`{what}` must be a JSON object ({{...}}), got {found}"),
        ));
    }
    serde_json::from_str(s).map_err(invalid)
}

/// Hands a buffer to the caller as `(pointer, length)`; released by `fl_bytes_free` /
/// `fl_doubles_free` with the same length.
pub(crate) fn give_slice<T>(v: Vec<T>) -> (*mut T, usize) {
    let b = v.into_boxed_slice();
    let len = b.len();
    (Box::into_raw(b).cast::<T>(), len)
}

unsafe fn take_slice<T>(p: *mut T, len: usize) {
    if !p.is_null() {
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, len)) });
    }
}

// ---------------------------------------------------------------------------------------------
// Handles: every object this library hands out is registered by address together with its type,
// so that freeing one twice, freeing it through another type's `_free` (`fl_resolution_free` given
// an `FlResolutions*`), or freeing a pointer faultlens never made is refused with a status and a
// message instead of corrupting the heap, and a method given another type's handle is refused too.
// Sharded so that threads creating and freeing answers (`FlResolution`) do not queue on one lock.

const HANDLE_SHARDS: usize = 16;

/// What the registry keeps per live handle: its Rust type and the C name used in messages.
#[derive(Clone, Copy)]
struct HandleType {
    id: std::any::TypeId,
    name: &'static str,
}

impl HandleType {
    fn of<T: 'static>() -> Self {
        HandleType {
            id: std::any::TypeId::of::<T>(),
            name: std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("handle"),
        }
    }
}

type Registry = std::collections::BTreeMap<usize, HandleType>;
static LIVE_HANDLES: [std::sync::Mutex<Registry>; HANDLE_SHARDS] =
    [const { std::sync::Mutex::new(Registry::new()) }; HANDLE_SHARDS];

fn handle_shard(addr: usize) -> std::sync::MutexGuard<'static, Registry> {
    // Heap blocks are 16-byte aligned: the low bits carry no information.
    LIVE_HANDLES[(addr >> 4) % HANDLE_SHARDS]
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Gives `b` to the caller as a handle (registered as live, with its type).
pub(crate) fn into_handle<T: 'static>(b: Box<T>) -> *mut T {
    let p = Box::into_raw(b);
    handle_shard(p as usize).insert(p as usize, HandleType::of::<T>());
    p
}

/// The type a live handle was registered with, if `p` is one.
fn registered(p: usize) -> Option<HandleType> {
    handle_shard(p).get(&p).copied()
}

/// Frees a handle made by [`into_handle`] through the `_free` function `func`. NULL is a no-op.
/// An address that is not a live handle of type `T` (freed already, another type's handle, or not
/// made here) is left alone and refused with `InvalidInput`. A second free is caught unless the
/// allocator has since reused the address for a new handle.
pub(crate) unsafe fn free_handle<T: 'static>(p: *mut T, func: &str) -> Res<()> {
    if p.is_null() {
        return Ok(());
    }
    let want = HandleType::of::<T>();
    let mut shard = handle_shard(p as usize);
    match shard.get(&(p as usize)).copied() {
        Some(t) if t.id == want.id => {
            shard.remove(&(p as usize));
            drop(shard);
            drop(unsafe { Box::from_raw(p) });
            Ok(())
        }
        Some(t) => Err(Fail::new(
            FlStatus::InvalidInput,
            format!(
                "{func} was given {} {p:p}, not {}: nothing freed (free it with its own _free function)",
                article(t.name),
                article(want.name)
            ),
        )),
        None => Err(Fail::new(
            FlStatus::InvalidInput,
            format!(
                "{func}: {p:p} is not a live {} (already freed, or not made by faultlens): nothing freed",
                want.name
            ),
        )),
    }
}

fn article(name: &str) -> String {
    // "an FlResolver", as the names are read "eff-ell ...".
    format!("an {name}")
}

/// A borrowed handle. NULL is refused naming the argument; so is a live handle of another type
/// (e.g. an `FlClassifier*` passed as an `FlResolver*`). An address that is not registered at all
/// is accepted: objects borrowed from a container (`fl_resolutions_get`) are not registered.
pub(crate) unsafe fn handle<'a, T: 'static>(p: *const T, what: &str) -> Res<&'a T> {
    if p.is_null() {
        return Err(Fail::new(
            FlStatus::NullPointer,
            format!("`{what}` is NULL"),
        ));
    }
    let want = HandleType::of::<T>();
    if let Some(t) = registered(p as usize)
        && t.id != want.id
    {
        return Err(Fail::new(
            FlStatus::InvalidInput,
            format!(
                "`{what}` is {}, not {}",
                article(t.name),
                article(want.name)
            ),
        ));
    }
    Ok(unsafe { &*p })
}

// ---------------------------------------------------------------------------------------------
// Result containers.

/// An immutable list of UTF-8 strings returned by faultlens. Read it with `fl_strings_len` and
/// `fl_strings_get`; release it with `fl_strings_free`. Safe to read from several threads.
pub struct FlStrings {
    items: Vec<CString>,
}

impl FlStrings {
    pub(crate) fn from_vec(v: Vec<String>) -> Res<Self> {
        Ok(Self {
            items: v.into_iter().map(c_string).collect::<Res<_>>()?,
        })
    }

    pub(crate) fn into_raw(self) -> *mut FlStrings {
        crate::into_handle(Box::new(self))
    }
}

/// An immutable list of `FlStrings` (one per input text, e.g. from `fl_preprocessor_tokens_batch`).
/// Read it with `fl_string_lists_len` / `fl_string_lists_get`; release it with
/// `fl_string_lists_free`. Safe to read from several threads.
pub struct FlStringLists {
    lists: Vec<FlStrings>,
}

impl FlStringLists {
    pub(crate) fn from_vecs(v: Vec<Vec<String>>) -> Res<Self> {
        Ok(Self {
            lists: v.into_iter().map(FlStrings::from_vec).collect::<Res<_>>()?,
        })
    }

    pub(crate) fn into_raw(self) -> *mut FlStringLists {
        crate::into_handle(Box::new(self))
    }
}

// ---------------------------------------------------------------------------------------------
// Module functions.

/// The message of the last failed call on the calling thread, or "" if no call has failed on it.
///
/// Never NULL. The string is owned by faultlens and stays valid until the next failing faultlens
/// call on the same thread; copy it to keep it. Successful calls do not clear it. Thread-safe:
/// each thread has its own message.
#[unsafe(no_mangle)]
pub extern "C" fn fl_last_error() -> *const c_char {
    static EMPTY: &CStr = c"";
    guard_or(EMPTY.as_ptr(), || {
        LAST_ERROR
            .try_with(|m| m.borrow().as_ptr())
            .unwrap_or(EMPTY.as_ptr())
    })
}

/// The faultlens version, e.g. "0.1.0" (the version written into model files).
///
/// Never NULL; a static string owned by faultlens (do not free). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn fl_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    static EMPTY: &CStr = c"";
    guard_or(EMPTY.as_ptr(), || {
        VERSION
            .get_or_init(|| CString::new(faultlens::VERSION).unwrap_or_default())
            .as_ptr()
    })
}

/// Turns multi-core batch work on (the default) or off for the whole process.
///
/// Call `fl_set_parallelism(false)` in a child process after `fork()`: the child has no worker
/// threads and parallel batches would hang. Thread-safe; affects calls that start afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn fl_set_parallelism(enabled: bool) {
    guard_or((), || faultlens::set_parallelism(enabled))
}

/// Call in the child process after `fork()`, before any other `fl_*` call there, e.g. with
/// `pthread_atfork(NULL, NULL, fl_after_fork)`. It turns parallelism off (the child has no
/// worker threads) and marks the locks held by the parent's other threads at the fork as
/// inherited: a call on a handle that another thread was using at the fork then returns
/// `FL_STATUS_INHERITED` instead of blocking forever. Handles idle at the fork, and handles
/// made in the child, work as usual. Async-signal-safe (two atomic stores).
#[unsafe(no_mangle)]
pub extern "C" fn fl_after_fork() {
    faultlens::after_fork();
}

/// Whether batch work may use all cores (see `fl_set_parallelism`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn fl_parallelism() -> bool {
    guard_or(false, faultlens::parallelism)
}

/// Panics inside faultlens on purpose (`message` may be NULL), so tests can show that a panic
/// comes back as `FL_STATUS_PANIC` with a message, never an abort. Not for other use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_panic_for_tests(message: *const c_char) -> FlStatus {
    guard(|| {
        let message = if message.is_null() {
            "test panic"
        } else {
            unsafe { str_arg(message, "message") }?
        };
        faultlens::panic_for_tests(message)
    })
}

// ---------------------------------------------------------------------------------------------
// Memory release and container access.

/// Frees a string returned by faultlens through a `char **` out-pointer (JSON, processed text,
/// template parts). NULL is a no-op. Do not use it on strings from `fl_strings_get`,
/// `fl_last_error` or `fl_version`, which faultlens owns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_string_free(s: *mut c_char) {
    guard_or((), || {
        if !s.is_null() {
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// Frees a byte buffer returned by faultlens (`*_to_bytes`); `len` must be the length returned
/// with it. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_bytes_free(bytes: *mut u8, len: usize) {
    guard_or((), || unsafe { take_slice(bytes, len) })
}

/// Frees an array of doubles returned by faultlens (`fl_tfidf_idf`); `len` must be the length
/// returned with it. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_doubles_free(values: *mut f64, len: usize) {
    guard_or((), || unsafe { take_slice(values, len) })
}

/// Number of strings in `list` (0 if `list` is NULL). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_strings_len(list: *const FlStrings) -> usize {
    guard_or(0, || unsafe { list.as_ref() }.map_or(0, |l| l.items.len()))
}

/// String `index` of `list`, NUL-terminated UTF-8; NULL if `list` is NULL or `index` is out of
/// range. Borrowed: valid until `fl_strings_free(list)`; do not free it. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_strings_get(list: *const FlStrings, index: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { list.as_ref() }
            .and_then(|l| l.items.get(index))
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// Frees a list of strings and every string in it. NULL is a no-op; freeing it again is refused. Must not race with reads of
/// the same list.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_strings_free(list: *mut FlStrings) -> FlStatus {
    guard(|| unsafe { crate::free_handle(list, "fl_strings_free") })
}

/// Number of lists in `lists` (0 if `lists` is NULL). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_string_lists_len(lists: *const FlStringLists) -> usize {
    guard_or(0, || unsafe { lists.as_ref() }.map_or(0, |l| l.lists.len()))
}

/// List `index` of `lists`; NULL if `lists` is NULL or `index` is out of range. Borrowed: valid
/// until `fl_string_lists_free(lists)`; never pass it to `fl_strings_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_string_lists_get(
    lists: *const FlStringLists,
    index: usize,
) -> *const FlStrings {
    guard_or(std::ptr::null(), || {
        unsafe { lists.as_ref() }
            .and_then(|l| l.lists.get(index))
            .map_or(std::ptr::null(), |s| s as *const FlStrings)
    })
}

/// Frees a list of lists and everything in it. NULL is a no-op; freeing it again is refused. Must not race with reads.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_string_lists_free(lists: *mut FlStringLists) -> FlStatus {
    guard(|| unsafe { crate::free_handle(lists, "fl_string_lists_free") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_code_has_a_status() {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.json"))
                .unwrap(),
        )
        .unwrap();
        // The manifest lists the core's codes (the `match` in `status_of` covers them all).
        let codes: Vec<&str> = (manifest["errors"].as_array().unwrap().iter())
            .map(|c| c.as_str().unwrap())
            .collect();
        let core: Vec<&str> = faultlens::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(codes, core);
    }

    /// The C API hands out these records as the core's JSON (`owned_json`), so their keys are
    /// what `docs/api.json` "records" lists.
    #[test]
    fn json_records_carry_the_manifest_fields() {
        use std::collections::BTreeSet;

        use faultlens::resolve::{Mode, Resolver, ResolverConfig};
        use faultlens::{ClassifierConfig, TextClassifier};

        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.json"))
                .unwrap(),
        )
        .unwrap();
        let fields = |record: &str| -> BTreeSet<String> {
            manifest["records"][record]["fields"]
                .as_array()
                .unwrap_or_else(|| panic!("records.{record}.fields"))
                .iter()
                .map(|f| f.as_str().unwrap().to_owned())
                .collect()
        };
        fn keys<T: serde::Serialize>(v: &T) -> BTreeSet<String> {
            let v = serde_json::to_value(v).unwrap();
            v.as_object().unwrap().keys().cloned().collect()
        }

        let texts = [
            "disk quota exceeded on /var",
            "no space left on device /data",
            "connection refused to 10.0.0.7:5432",
            "connection reset by peer 10.0.0.9",
        ];
        let labels = ["expand_disk", "expand_disk", "restart_db", "restart_db"];
        let mut clf = TextClassifier::new(ClassifierConfig::default()).unwrap();
        assert_eq!(keys(clf.config()), fields("ClassifierConfig"));
        clf.fit(&texts, &labels).unwrap();
        let p = clf.predict_one("disk quota exceeded on /home").unwrap();
        assert_eq!(keys(&p), fields("Prediction"));

        let r = Resolver::new(ResolverConfig::default()).unwrap();
        assert_eq!(keys(r.config()), fields("ResolverConfig"));
        r.add_knowledge(&texts, &labels).unwrap();
        let res = r
            .resolve("disk quota exceeded on /home", Mode::Similarity)
            .unwrap();
        assert_eq!(keys(&res), fields("Resolution"));
        r.record_outcome("disk quota exceeded on /home", "expand_disk", true)
            .unwrap();
        assert_eq!(keys(&r.outcomes()[0]), fields("Outcome"));
        assert_eq!(keys(&r.metrics()), fields("MetricsSnapshot"));
    }

    #[test]
    fn core_errors_map_by_code() {
        let e = faultlens::Error::NotFitted { what: "x" };
        let f = Fail::from(e);
        assert_eq!(f.status, FlStatus::NotFitted);
        assert!(f.message.contains("not fitted"));
        let io = faultlens::Error::from(std::io::Error::other("boom"));
        assert_eq!(status_of(&io), FlStatus::Io);
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        let st = guard(|| panic!("kaboom"));
        assert_eq!(st, FlStatus::Panic);
        let msg = unsafe { CStr::from_ptr(fl_last_error()) }.to_str().unwrap();
        assert!(msg.contains("kaboom") && msg.contains("bug"), "{msg}");
        assert_eq!(guard_or(7, || panic!("again")), 7);
    }

    #[test]
    fn last_error_is_per_thread() {
        let st = guard(|| Err(Fail::new(FlStatus::Io, "main thread")));
        assert_eq!(st, FlStatus::Io);
        std::thread::spawn(|| {
            let msg = unsafe { CStr::from_ptr(fl_last_error()) };
            assert_eq!(msg.to_bytes(), b"");
        })
        .join()
        .unwrap();
        let msg = unsafe { CStr::from_ptr(fl_last_error()) };
        assert_eq!(msg.to_bytes(), b"main thread");
    }

    #[test]
    fn interior_nul_in_a_message_is_cut() {
        set_last_error("before\0after".into());
        let msg = unsafe { CStr::from_ptr(fl_last_error()) };
        assert_eq!(msg.to_bytes(), b"before");
    }
}
