//! Plain result objects built by a cached JS object-literal function.
//!
//! napi-rs builds a `#[napi(object)]` through `napi_define_properties`, which makes V8 intern
//! every key and walk a map transition per property, per object: that was ~4-5 µs of a
//! `resolve()` call whose core work takes 1 µs. Calling a function `(a, b) => ({ a, b })` instead
//! lets V8 build the object from its literal boilerplate (one shared shape, no key lookups). The
//! function is compiled once per JS environment (the main thread and each worker have their own)
//! and kept by a reference that lives as long as the thread.

use std::cell::RefCell;
use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::{check_status, sys};

/// One object shape: the JS source of its factory function.
pub(crate) struct Shape(pub &'static str);

thread_local! {
    /// (environment, shape source address) → the compiled factory. Few entries per thread.
    static FACTORIES: RefCell<Vec<(usize, usize, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

impl Shape {
    fn function(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        let key = (env as usize, self.0.as_ptr() as usize);
        let cached = FACTORIES.with(|f| {
            f.borrow()
                .iter()
                .find(|(e, s, _)| (*e, *s) == key)
                .map(|(_, _, r)| *r)
        });
        let mut value = ptr::null_mut();
        if let Some(r) = cached {
            check_status!(unsafe { sys::napi_get_reference_value(env, r, &mut value) })?;
            if !value.is_null() {
                return Ok(value);
            }
        }
        // `(function (..) { .. })` evaluates to the function itself.
        let source = unsafe { ToNapiValue::to_napi_value(env, self.0) }?;
        check_status!(unsafe { sys::napi_run_script(env, source, &mut value) })?;
        let mut r = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_reference(env, value, 1, &mut r) })?;
        FACTORIES.with(|f| {
            let mut f = f.borrow_mut();
            f.retain(|(e, s, _)| (*e, *s) != key);
            f.push((key.0, key.1, r));
        });
        Ok(value)
    }

    /// A new object of this shape from its field values, in the factory's parameter order.
    pub(crate) fn make(
        &self,
        env: sys::napi_env,
        args: &[sys::napi_value],
    ) -> napi::Result<sys::napi_value> {
        let f = self.function(env)?;
        let mut this = ptr::null_mut();
        check_status!(unsafe { sys::napi_get_undefined(env, &mut this) })?;
        let mut out = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_call_function(env, this, f, args.len(), args.as_ptr(), &mut out)
        })?;
        Ok(out)
    }
}

/// A JS value for `v`, for the argument lists of [`Shape::make`].
pub(crate) fn js<T: ToNapiValue>(env: sys::napi_env, v: T) -> napi::Result<sys::napi_value> {
    unsafe { T::to_napi_value(env, v) }
}

/// `undefined` for `None` (the key is still present; JSON leaves it out, as before).
pub(crate) fn js_opt<T: ToNapiValue>(
    env: sys::napi_env,
    v: Option<T>,
) -> napi::Result<sys::napi_value> {
    match v {
        Some(v) => js(env, v),
        None => {
            let mut out = ptr::null_mut();
            check_status!(unsafe { sys::napi_get_undefined(env, &mut out) })?;
            Ok(out)
        }
    }
}
