//! librdkafka clients block when dropped (a producer flushes, a consumer closes its queue, every client joins its
//! threads); [`OffRuntime`] drops its client on tokio's blocking pool so that no runtime thread stalls.

use std::ops::Deref;

/// A value dropped on tokio's blocking pool when inside a runtime, in place otherwise.
pub struct OffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffRuntime<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        OffRuntime(Some(value))
    }

    /// The value, for a caller that drops it where it should be dropped.
    pub fn into_inner(mut self) -> Option<T> {
        self.0.take()
    }
}

impl<T: Send + 'static> Deref for OffRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // Only `drop` takes the value out.
        self.0.as_ref().expect("an OffRuntime holds its value until dropped")
    }
}

impl<T: Send + 'static> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        // Outside a runtime the pair is dropped here, value included.
        if let (Some(value), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn_blocking(move || drop(value));
        }
    }
}
